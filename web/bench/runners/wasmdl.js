// wasmdl in Pyodide: load Pyodide from /pyodide/, install wasmdl BY NAME from the site's
// /simple/ index with micropip, then drive bench.adapter (Python; the wasmdl-bench wheel from
// the same index) for every phase.
// The data set is handed to Python once per page (as a Python user's numpy arrays); each call
// passes only the sample or batch index. Results are read back to the CPU (a sync point).
// GPU backends read back synchronously through JSPI, which needs Python entered through an
// async entry point: those calls go through PyProxy.callPromising.
import { loadScript } from '../harness.js';

export default {
  variant: 'softmax', train: true, trainCheck: true,
  async setup(backend, ctx) {
    await loadScript(ctx.root + 'pyodide/pyodide.js');
    const py = await loadPyodide({ indexURL: ctx.root + 'pyodide/' });
    await py.loadPackage(['micropip', 'numpy']);
    const micropip = py.pyimport('micropip');
    // not new URL(): it would percent-encode micropip's {package_name} placeholder
    micropip.set_index_urls([location.origin + ctx.root + 'simple/{package_name}/']);
    await micropip.install('wasmdl');
    await micropip.install('wasmdl-bench'); // this harness's Python side (not in wasmdl's wheel)
    py.globals.set('_bench_backend', backend);
    py.globals.set('_bench_data', ctx.data.raw);
    py.globals.set('_bench_layout', py.toPy(ctx.manifest.data));
    this.runner = await py.runPythonAsync(`
from bench import adapter
_r = adapter.BrowserRunner(_bench_backend, _bench_data.to_py(), _bench_layout)
await _r.setup()
_r`);
    const r = this.runner;
    this.out = new Float32Array(r.n_out); // predict's outputs, written by Python
    r.set_output(this.out);
    // Bound methods looked up once (each r[name] makes a new PyProxy).
    const bound = {};
    const method = (name) => (bound[name] ??= r[name]);
    this.call = backend === 'numpy' ? (name, ...a) => method(name)(...a)
      : (name, ...a) => method(name).callPromising(...a);
    return { version: r.version, backend: r.backend_name };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/model.wasmdl', { cache: 'no-store' });
    if (!res.ok) throw new Error(`wasmdl model file ${cfg.id}/model.wasmdl: ${res.status}`);
    const buf = new Uint8Array(await res.arrayBuffer());
    return this.call('load', buf);
  },
  async predict(model, x, i) {
    // Python writes the outputs into this Float32Array (JsProxy.assign): no PyProxy to convert
    // and destroy per sample. The harness gets its own copy.
    await this.call('predict_into', model, i);
    return this.out.slice();
  },
  async trainStep(model, b) { return this.call('train_step', model, b.index, b.n); },
  dispose(model) { model.destroy?.(); },
};
