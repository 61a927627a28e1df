// wasmdl in PyScript: train.py runs in a PyScript worker (PyWorker), on this site's Pyodide, with
// wasmdl installed by name from this site's index; this page only shows what it returns.
// The config is built here because micropip needs absolute index URLs (location.origin).
import { PyWorker } from "../vendor/@pyscript/core/dist/core.js";

const $ = (id) => document.getElementById(id);
const root = new URL("..", location.href);
const config = {
  interpreter: new URL("pyodide/pyodide.mjs", root).href,
  packages: ["wasmdl"],
  index_urls: [new URL("simple/", root).href],
};

function show(state, text) {
  document.body.dataset.state = state;
  $("status").textContent = text;
}

async function main() {
  const started = performance.now();
  // PyWorker (async in 0.6) resolves once the worker has run train.py: wasmdl is installed.
  // (a worker takes its interpreter from `version`, the config's `interpreter` is for tags)
  const worker = await PyWorker("./train.py", { config, version: config.interpreter });
  show("training", "wasmdl installed in the worker; training…");
  const result = JSON.parse(await worker.sync.train());
  $("accuracy").textContent = `${(100 * result.accuracy).toFixed(1)}%`;
  $("accuracy").dataset.value = String(result.accuracy);
  $("log").textContent = JSON.stringify(result, null, 1);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  show("done", `trained in the worker (${seconds} s with start-up)`);
}

main().catch((e) => {
  show("error", `error: ${e && e.message ? e.message : e}`);
  console.error(e);
});
