// The site's Python: Pyodide in a Web Worker, with wasmdl installed by name through micropip
// from the site's own package index. The page stays responsive while Python runs.
//
// Protocol (see pyclient.js): the page posts {id, cmd, args}; the worker answers
// {id, ok, value} or {id, ok: false, error}. Python and the worker also post events
// {event, data}: "stdout"/"stderr" text, "status" while loading, "image" for figures, and
// whatever a demo's Python emits with wasmdl_site.emit(kind, **data).
"use strict";

let pyodide = null;
let site = null; // the wasmdl_site Python module (web/assets/py/wasmdl_site.py)
let repl = null; // a wasmdl_site.Repl, made on first use

const post = (event, data) => self.postMessage({ event, data });
const JSPI = typeof WebAssembly.Suspending === "function";
const status = (text) => post("status", { text });
// Package-loading messages worth showing ("Loading matplotlib, ..."), from Python's imports.
self.wasmdlLoadMessage = (msg) => {
  if (/^Load(ing|ed) /.test(msg)) post("note", { text: msg });
};

function streamTo(event) {
  const decoder = new TextDecoder();
  return {
    write(bytes) {
      const text = decoder.decode(bytes, { stream: true });
      post(event, { text, heap: heapBytes() });
      return bytes.length;
    },
  };
}

function heapBytes() {
  return pyodide ? pyodide._module.HEAP8.length : 0;
}

// Python results cross as plain JS values (dicts become objects); proxies are released.
function toPlain(value) {
  if (value && value.type === "bytes" && typeof value.getBuffer === "function") {
    const view = value.getBuffer("u8");
    const copy = view.data.slice();
    view.release();
    value.destroy();
    return copy;
  }
  if (value && typeof value.toJs === "function") {
    const plain = value.toJs({ dict_converter: Object.fromEntries, create_pyproxies: false });
    value.destroy();
    return plain;
  }
  return value;
}

async function browserCaps() {
  const caps = { webgpu: null, webgl2: false, crossOriginIsolated: !!self.crossOriginIsolated };
  try {
    const adapter = self.navigator.gpu ? await self.navigator.gpu.requestAdapter() : null;
    if (adapter) {
      const info = adapter.info || {};
      caps.webgpu = { vendor: info.vendor || "", architecture: info.architecture || "",
        description: info.description || "" };
    }
  } catch (e) {
    caps.webgpuError = String(e);
  }
  try {
    caps.webgl2 = !!new OffscreenCanvas(1, 1).getContext("webgl2");
  } catch (e) {
    caps.webgl2 = false;
  }
  return caps;
}

async function writeModule(name, url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`load_module: ${url} answered HTTP ${response.status}`);
  const source = await response.text();
  pyodide.FS.writeFile(`/home/pyodide/${name}.py`, source);
  return source;
}

const commands = {
  async init(cfg) {
    status("Loading Pyodide…");
    importScripts(cfg.pyodideURL + "pyodide.js");
    pyodide = await self.loadPyodide({ indexURL: cfg.pyodideURL });
    pyodide.setStdout(streamTo("stdout"));
    pyodide.setStderr(streamTo("stderr"));
    if (cfg.interruptBuffer) pyodide.setInterruptBuffer(cfg.interruptBuffer);
    status("Loading micropip and numpy…");
    await pyodide.loadPackage(["micropip", "numpy"], { messageCallback: () => {} });
    status("Installing wasmdl with micropip…");
    const micropip = pyodide.pyimport("micropip");
    micropip.set_index_urls([cfg.indexURL]);
    await micropip.install("wasmdl");
    micropip.destroy();
    await writeModule("wasmdl_site_mpl", new URL("wasmdl_site_mpl.py", cfg.runtimeURL).href);
    await writeModule("wasmdl_site", cfg.runtimeURL);
    site = pyodide.pyimport("wasmdl_site");
    status("Ready");
    return { versions: toPlain(site.versions()), pyodide: pyodide.version,
      backends: toPlain(site.backends()), caps: await browserCaps() };
  },
  async repl_push(line) {
    repl = repl || site.Repl();
    return toPlain(await repl.push(line));
  },
  async repl_cell(source) {
    repl = repl || site.Repl();
    return toPlain(await repl.run_cell(source));
  },
  complete(source) {
    repl = repl || site.Repl();
    const [items, start] = toPlain(repl.complete(source));
    return { items, start };
  },
  reset_buffer() {
    if (repl) repl.reset_buffer();
  },
  set_width(columns) {
    site.set_print_width(columns);
  },
  backends() {
    return toPlain(site.backends());
  },
  async set_backend(name) {
    return toPlain(await site.set_backend(name));
  },
  memory() {
    return { heap: heapBytes(), wasmdl: site ? toPlain(site.memory()) : {} };
  },
  caps() {
    return browserCaps();
  },
  // Demos: fetch a Python file of the site, import it as a module, return its source.
  async load_module(name, url) {
    const source = await writeModule(name, url);
    await pyodide.loadPackagesFromImports(source, { messageCallback: self.wasmdlLoadMessage });
    pyodide.pyimport("importlib").invalidate_caches();
    pyodide.pyimport(name).destroy();
    return source;
  },
  // Call module.fn(**kwargs); async functions are awaited; the result comes back as plain JS.
  async call(module, fn, kwargs) {
    const mod = pyodide.pyimport(module);
    try {
      // With JS Promise integration (Chromium), call with stack switching so that synchronous
      // Python can block on the GPU (run_sync: a WebGPU tensor's .numpy()).
      const func = mod[fn];
      let result = JSPI ? await func.callPromisingKwargs(kwargs || {}) : func.callKwargs(kwargs || {});
      if (result && typeof result.then === "function") result = await result;
      return toPlain(result);
    } finally {
      mod.destroy();
    }
  },
  // Run a source file's text (e.g. a page's quick-start block) as a notebook cell.
  async run(source) {
    repl = repl || site.Repl();
    return toPlain(await repl.run_cell(source));
  },
};

self.onmessage = async (ev) => {
  const { id, cmd, args } = ev.data;
  try {
    const handler = commands[cmd];
    if (!handler) throw new Error(`pyworker: unknown command ${JSON.stringify(cmd)}`);
    const value = await handler(...(args || []));
    self.postMessage({ id, ok: true, value });
  } catch (e) {
    self.postMessage({ id, ok: false, error: e && e.message ? e.message : String(e) });
  }
};
