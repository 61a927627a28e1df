// Chainer 5.4.0 (WgPy's patched build, bench/wgpy.py) on the same MLP and weights.
//   numpy:  Chainer on numpy in this frame's Pyodide (one thread, like wasmdl).
//   webgl, webgpu: Chainer on WgPy: Pyodide in a Web Worker (chainer_worker.js), GPU calls on
//   this thread through WgPy's main-thread interface; each timed call is one worker round trip
//   (the way WgPy is used). Outputs are read back to the CPU every call.
import { loadScript } from '../harness.js';

export default {
  variant: 'softmax', train: true, trainCheck: true,
  note: 'SGD as MomentumSGD(lr, momentum=0): WgPy has no kernel for optimizers.SGD',
  async setup(backend, ctx) {
    const code = await (await fetch(new URL('./chainer.py', import.meta.url))).text();
    const layout = ctx.manifest.data;
    if (backend === 'numpy') {
      await loadScript(ctx.root + 'pyodide/pyodide.js');
      const py = await loadPyodide({ indexURL: ctx.root + 'pyodide/' });
      const v = ctx.vendor + 'wgpy/';
      await py.loadPackage(['numpy', 'six', v + 'filelock-4.3.2-py3-none-any.whl',
                            v + 'chainer-5.4.0-py3-none-any.whl']);
      py.runPython(code);
      const r = py.globals.get('Runner')(ctx.data.raw, layout.n_train, layout.n_test,
                                         layout.n_in);
      this.call = async (op, a) => (op === 'load' ? r.load(a.npz, a.lr)
        : op === 'predict' ? r.predict(a.i).toJs() : r.train(a.b, a.n));
      return { version: py.runPython('chainer.__version__'), backend: 'numpy (Pyodide)' };
    }
    if (!self.crossOriginIsolated) throw new Error('WgPy needs a cross-origin isolated page');
    await loadScript(ctx.vendor + 'wgpy/wgpy-main.js');
    const worker = new Worker(new URL(`./chainer_worker.js?root=${ctx.root}`, import.meta.url));
    const init = await wgpy.initMain(worker, { backendOrder: [backend] });
    if (init.backend !== backend) throw new Error(`WgPy initialised ${init.backend}, not ${backend}`);
    const pending = new Map();
    let next = 1;
    worker.addEventListener('message', (e) => {
      if (e.data?.namespace !== 'bench') return;
      const p = pending.get(e.data.id);
      pending.delete(e.data.id);
      if (e.data.error != null) p.reject(new Error(e.data.error)); else p.resolve(e.data.result);
    });
    this.call = (op, args) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ namespace: 'bench', id, op, args });
    });
    const info = await this.call('start', { backend, raw: ctx.data.raw, layout, code });
    return { version: info.chainer, backend: `WgPy ${info.backend}` };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/weights.npz', { cache: 'no-store' });
    if (!res.ok) throw new Error(`weights.npz for ${cfg.id}: ${res.status}`);
    await this.call('load', { npz: new Uint8Array(await res.arrayBuffer()),
                              lr: ctx.manifest.learning_rate });
    return {};
  },
  async predict(m, x, i) { return Float32Array.from(await this.call('predict', { i })); },
  async trainStep(m, b) { return this.call('train', { b: b.index, n: b.n }); },
};
