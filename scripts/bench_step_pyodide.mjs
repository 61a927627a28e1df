// Runs wasmdl's training-step benchmark (python -m wasmdl.bench.step) inside Pyodide in Node
// and writes artifacts/bench_step_pyodide.json. Usage (after scripts/setup and a wheel build):
//   node --experimental-wasm-relaxed-simd scripts/bench_step_pyodide.mjs [wasmdl-*.whl] [--quick]
// (Node 20 needs the flag for the relaxed-SIMD module that browsers load; without it the
// plain SIMD128 module runs.)
// The wheel defaults to the newest site/simple/wasmdl/*.whl (built by scripts/build_site.py).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const quick = args.includes("--quick");
let wheel = args.find((a) => a.endsWith(".whl"));
if (!wheel) {
  const dir = path.join(root, "site/simple/wasmdl");
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".whl")) : [];
  if (!found.length) throw new Error(`no wheel given and none in ${dir}; build the site first`);
  wheel = path.join(dir, found.sort().at(-1));
}
// Let wasmdl's WASM kernels find Pyodide's memory the "host" way (as a page would).
eval(fs.readFileSync(path.join(root, "kernels/wasm/capture_memory.js"), "utf8"));
const dist = path.join(root, ".cache/pyodide/dist") + "/";
const { loadPyodide } = createRequire(import.meta.url)(dist + "pyodide.js");
const py = await loadPyodide({ indexURL: dist });
await py.loadPackage(["numpy", "micropip", "scipy"]);
const name = path.basename(wheel);
py.FS.writeFile(`/tmp/${name}`, fs.readFileSync(wheel));
await py.runPythonAsync(`import micropip\nawait micropip.install("emfs:/tmp/${name}")`);
const out = await py.runPythonAsync(`
import json
from wasmdl.bench import step
res = step.run(quick=${quick ? "True" : "False"})
print(step.report(res))
json.dumps(res)
`);
fs.mkdirSync(path.join(root, "artifacts"), { recursive: true });
const file = path.join(root, "artifacts/bench_step_pyodide.json");
fs.writeFileSync(file, out);
console.log(`wrote ${file}`);
