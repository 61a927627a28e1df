// Where this site's pages find Pyodide and wasmdl. `scripts/site_steps_web.py` writes this file
// into the built site; `--pyodide-cdn` points `pyodide` at Pyodide's CDN for public hosting.
// Relative entries are resolved against the site root (the folder above assets/), so the site
// works from any static host.
self.WASMDL_SITE = {
  pyodide: "pyodide/",
  index: "simple/",
  pyodideVersion: "0.27.7",
};
(function resolve(cfg) {
  const script = typeof document !== "undefined" && document.currentScript;
  const root = new URL("..", script ? script.src : self.location.href);
  cfg.root = root.href;
  cfg.pyodideURL = new URL(cfg.pyodide, root).href;
  cfg.indexURL = new URL(cfg.index, root).href;
})(self.WASMDL_SITE);
