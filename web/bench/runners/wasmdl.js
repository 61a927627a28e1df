// wasmdl in Pyodide: load Pyodide from /pyodide/, install wasmdl BY NAME from the site's
// /simple/ index with micropip, then drive wasmdl.bench.adapter (Python) for every phase.
// The data set is handed to Python once per page (as a Python user's numpy arrays); each call
// passes only the sample or batch index. Results are numpy arrays read back to the CPU.
import { loadScript } from '../harness.js';

export default {
  variant: 'softmax', train: true, trainCheck: true,
  async setup(backend, ctx) {
    await loadScript(ctx.root + 'pyodide/pyodide.js');
    const py = await loadPyodide({ indexURL: ctx.root + 'pyodide/' });
    await py.loadPackage(['micropip', 'numpy']);
    const micropip = py.pyimport('micropip');
    micropip.set_index_urls([new URL(ctx.root + 'simple/{package_name}/', location.href).href]);
    await micropip.install('wasmdl');
    py.globals.set('_bench_backend', backend);
    py.globals.set('_bench_data', ctx.data.raw);
    py.globals.set('_bench_layout', py.toPy(ctx.manifest.data));
    this.runner = await py.runPythonAsync(`
from wasmdl.bench import adapter
_r = adapter.BrowserRunner(_bench_backend, _bench_data.to_py(), _bench_layout)
await _r.setup()
_r`);
    this.py = py;
    return { version: this.runner.version, backend: this.runner.backend_name };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/model.wasmdl', { cache: 'no-store' });
    if (!res.ok) throw new Error(`wasmdl model file ${cfg.id}/model.wasmdl: ${res.status}`);
    const buf = new Uint8Array(await res.arrayBuffer());
    return this.runner.load(buf);
  },
  async predict(model, x, i) {
    const out = this.runner.predict(model, i); // a Python list of 10 floats
    const arr = out.toJs();
    out.destroy();
    return arr;
  },
  async trainStep(model, b) { this.runner.train_step(model, b.index, b.n); },
  dispose(model) { model.destroy?.(); },
};
