// Page side of the site's Python worker (pyworker.js): promises for commands, callbacks for
// events. Usage:
//   const py = new PyWorker({ onEvent: (event, data) => ... });
//   const info = await py.start();            // Pyodide + `micropip.install("wasmdl")`
//   await py.call("run", "import wasmdl; print(wasmdl.__version__)");
"use strict";

class PyWorker {
  constructor({ onEvent } = {}) {
    this.onEvent = onEvent || (() => {});
    this.cfg = self.WASMDL_SITE;
    this.busy = 0;
    this._spawn();
  }

  _spawn() {
    this.worker = new Worker(new URL("assets/pyworker.js", this.cfg.root));
    this.pending = new Map();
    this.nextId = 1;
    this.worker.onmessage = (ev) => this._receive(ev.data);
    this.worker.onerror = (ev) => this.onEvent("stderr", { text: `worker error: ${ev.message}\n` });
    // An interrupt buffer needs SharedArrayBuffer, which needs a cross-origin isolated page
    // (COOP/COEP headers); on a plain static host, "Stop" restarts the worker instead.
    this.interrupt = self.crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : null;
  }

  _receive(msg) {
    if (msg.event) {
      this.onEvent(msg.event, msg.data);
      return;
    }
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    this.pending.delete(msg.id);
    this.busy -= 1;
    if (msg.ok) entry.resolve(msg.value);
    else entry.reject(new Error(msg.error));
  }

  call(cmd, ...args) {
    const id = this.nextId++;
    this.busy += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, cmd, args });
    });
  }

  start() {
    const cfg = this.cfg;
    return this.call("init", {
      pyodideURL: cfg.pyodideURL,
      indexURL: cfg.indexURL,
      runtimeURL: new URL("assets/py/wasmdl_site.py", cfg.root).href,
      interruptBuffer: this.interrupt ? this.interrupt.buffer : null,
    });
  }

  // Stop running Python: KeyboardInterrupt when the page is cross-origin isolated, otherwise
  // end the worker (its state is lost) and start a fresh one. Returns "interrupted"/"restarted".
  async stop() {
    if (this.interrupt) {
      this.interrupt[0] = 2; // SIGINT
      return "interrupted";
    }
    this.worker.terminate();
    for (const { reject } of this.pending.values()) reject(new Error("stopped"));
    this.busy = 0;
    this._spawn();
    return "restarted";
  }
}

self.PyWorker = PyWorker;
