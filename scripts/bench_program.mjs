// Runs scripts/bench_program.py inside Pyodide in Node on this checkout's src/ (mounted, no
// wheel needed): ms per training step and per batch-1 predict of the README model, as one
// WASM opcode stream vs per-op kernels. Relaxed SIMD is on, as in Chromium and Node 22.
// Usage: node scripts/bench_program.mjs
import fs from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
eval(fs.readFileSync(path.join(root, "kernels/wasm/capture_memory.js"), "utf8"));
const dist = path.join(root, ".cache/pyodide/dist") + "/";
const { loadPyodide } = createRequire(import.meta.url)(dist + "pyodide.js");
const py = await loadPyodide({ indexURL: dist });
await py.loadPackage(["numpy"]);
py.FS.mkdir("/repo");
py.FS.mount(py.FS.filesystems.NODEFS, { root }, "/repo");
py.runPython("import sys; sys.path.insert(0, '/repo/src')");
await py.runPythonAsync(fs.readFileSync(path.join(root, "scripts/bench_program.py"), "utf8"));
