// Runs a Python file inside Pyodide in Node with a wasmdl wheel installed and prints its output:
//   node scripts/run_pyodide.mjs <wasmdl-*.whl> <script.py>
// (relaxed SIMD on, as in Chromium; the WASM kernels find Pyodide's memory as a page would).
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [wheel, script] = process.argv.slice(2);
if (!wheel?.endsWith(".whl") || !script) {
  throw new Error("run_pyodide.mjs: usage: node scripts/run_pyodide.mjs <wheel.whl> <script.py>");
}
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
eval(fs.readFileSync(path.join(root, "kernels/wasm/capture_memory.js"), "utf8"));
const dist = path.join(root, ".cache/pyodide/dist") + "/";
const { loadPyodide } = createRequire(import.meta.url)(dist + "pyodide.js");
const py = await loadPyodide({ indexURL: dist });
await py.loadPackage(["numpy", "micropip"]);
const name = path.basename(wheel);
py.FS.writeFile(`/tmp/${name}`, fs.readFileSync(wheel));
await py.runPythonAsync(`import micropip\nawait micropip.install("emfs:/tmp/${name}")`);
await py.runPythonAsync(fs.readFileSync(script, "utf8"));
