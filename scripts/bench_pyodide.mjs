// Runs one of wasmdl's Pyodide benchmarks inside Pyodide in Node and writes
// artifacts/bench_<name>_pyodide.json:
//   micro  python -m bench.micro  (per-op overhead, matmul GFLOP/s)
//   step   python -m bench.step   (ms per training step, per-step kernels vs op by op)
// Usage (after scripts/setup, which builds the wheel into site/):
//   node scripts/bench_pyodide.mjs micro|step [wasmdl-*.whl] [--quick]
// Relaxed SIMD is switched on as Chromium and Node 22 have it, so the kernel module browsers
// load (cpu_relaxed.wasm) is the one measured; pass --simd128 for the plain SIMD128 module.
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const bench = args[0];
if (!["micro", "step"].includes(bench)) {
  throw new Error(`bench_pyodide.mjs: expected 'micro' or 'step' as the first argument, got ${bench}`);
}
if (!args.includes("--simd128")) v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
const quick = args.includes("--quick");
const newest = (project) => {  // the site's wheel of a project in its /simple/ index
  const dir = path.join(root, "site/simple", project);
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".whl")) : [];
  if (!found.length) throw new Error(`no wheel given and none in ${dir}; build the site first`);
  return path.join(dir, found.sort().at(-1));
};
const wheel = args.find((a) => a.endsWith(".whl")) ?? newest("wasmdl");
const benchWheel = newest("wasmdl-bench"); // the bench package itself is not in wasmdl's wheel
// Let wasmdl's WASM kernels find Pyodide's memory the "host" way (as a page would).
eval(fs.readFileSync(path.join(root, "kernels/wasm/capture_memory.js"), "utf8"));
const dist = path.join(root, ".cache/pyodide/dist") + "/";
const { loadPyodide } = createRequire(import.meta.url)(dist + "pyodide.js");
const py = await loadPyodide({ indexURL: dist });
await py.loadPackage(["numpy", "micropip", "scipy"]);
for (const w of [wheel, benchWheel]) {
  const name = path.basename(w);
  py.FS.writeFile(`/tmp/${name}`, fs.readFileSync(w));
  await py.runPythonAsync(`import micropip\nawait micropip.install("emfs:/tmp/${name}")`);
}
const out = await py.runPythonAsync(`
import json
import wasmdl
from bench import ${bench} as bench
res = bench.run(quick=${quick ? "True" : "False"})
print(bench.report(res))
print("CPU kernels:", wasmdl.cpu_kernels()["reason"])
json.dumps(res)
`);
fs.mkdirSync(path.join(root, "artifacts"), { recursive: true });
const file = path.join(root, `artifacts/bench_${bench}_pyodide.json`);
fs.writeFileSync(file, out);
console.log(`wrote ${file}`);
