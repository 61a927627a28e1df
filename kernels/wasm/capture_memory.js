// Optional: include with a classic <script> BEFORE loadPyodide() (or run it first in Node).
// It records every WebAssembly.Memory that a module receives as env.memory, which includes the
// Memory of Pyodide's main module; wasmdl's loader then takes that one ("host" way) instead of
// probing Emscripten's dynamic linker ("side-module" way). Harmless to everything else: the
// original functions are called with the original arguments.
(function () {
  if (globalThis.__wasmdl_memories) return;
  const memories = (globalThis.__wasmdl_memories = []);
  const remember = (imports) => {
    const m = imports && imports.env && imports.env.memory;
    // duck-typed, not instanceof: the Memory may come from another realm (Node vm contexts)
    if (m && typeof m.grow === "function" && "buffer" in m && !memories.includes(m)) {
      memories.push(m);
    }
  };
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    if (typeof original !== "function") continue;
    WebAssembly[name] = function (source, imports, ...rest) {
      remember(imports);
      return original.call(this, source, imports, ...rest);
    };
  }
})();
