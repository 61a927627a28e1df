// Find Pyodide's own WebAssembly.Memory, so standalone kernel modules can import it and work on
// numpy arrays in place. Evaluated once by wasmdl/_wasm/loader.py through pyodide.code.run_js;
// the value of this file is the function below. Pyodide 0.27 keeps its Memory private, so both
// ways rely on internals; tests/pyodide/test_wasm_kernels.py pins each one.
//   "host":        the page ran kernels/wasm/capture_memory.js before loadPyodide(), which
//                  recorded every Memory passed to WebAssembly.instantiate* as env.memory.
//   "side-module": load a 40-byte empty side module through Emscripten's dynamic linker
//                  (Module.loadWebAssemblyModule) while WebAssembly.Instance is briefly wrapped:
//                  the linker passes the main module's Memory to it as env.memory.
// A candidate counts only if its buffer is the very ArrayBuffer behind Pyodide's HEAPU8 (no
// `instanceof`: Node's test driver runs our JS in a vm context, a realm other than Pyodide's).
(function findMemory(Module, probeBytes, ways) {
  const heap = Module.HEAPU8.buffer;
  const realm = Module.HEAPU8.constructor.constructor("return globalThis")(); // Pyodide's realm
  const isPyodides = (m) => !!m && typeof m.grow === "function" && m.buffer === heap;
  const tried = [];
  for (const way of ways) {
    if (way === "host") {
      const seen = [...(realm.__wasmdl_memories || [])];
      if (realm !== globalThis) seen.push(...(globalThis.__wasmdl_memories || []));
      const m = seen.find(isPyodides);
      if (m) return { memory: m, how: way };
      tried.push(`host: ${seen.length} captured memories, none is Pyodide's`);
    } else if (way === "side-module") {
      if (typeof Module.loadWebAssemblyModule !== "function") {
        tried.push("side-module: Module.loadWebAssemblyModule is missing");
        continue;
      }
      const WA = realm.WebAssembly; // the WebAssembly object Pyodide's linker calls
      const Instance = WA.Instance;
      let found = null;
      const Spy = function (module, imports) {
        found = imports && imports.env && imports.env.memory;
        return new Instance(module, imports);
      };
      Spy.prototype = Instance.prototype;
      WA.Instance = Spy;
      try {
        Module.loadWebAssemblyModule(
          probeBytes,
          { loadAsync: false, nodelete: true, allowUndefined: true },
          "wasmdl-memory-probe",
          {},
        );
      } catch (e) {
        tried.push(`side-module: ${e}`);
        continue;
      } finally {
        WA.Instance = Instance;
      }
      if (isPyodides(found)) return { memory: found, how: way };
      tried.push(`side-module: the linker passed ${found} as env.memory, not Pyodide's Memory`);
      continue;
    } else {
      tried.push(`${way}: unknown way (expected "host" or "side-module")`);
    }
  }
  throw new Error(`findMemory: Pyodide's WebAssembly.Memory not found; tried ${tried.join("; ")}`);
})
