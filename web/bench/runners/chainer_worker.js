// The Web Worker of the chainer rows on webgl/webgpu: WgPy runs Pyodide in a worker and makes
// its GPU calls on the main thread (synchronous over SharedArrayBuffer + Atomics, so the page
// must be cross-origin isolated). Messages {namespace: 'bench', id, op, args} -> {id, result}.
const root = new URL(self.location.href).searchParams.get('root') || '/';
importScripts(root + 'pyodide/pyodide.js');
importScripts(root + 'vendor/wgpy/wgpy-worker.js');
let runner = null, py = null;

const ops = {
  async start({ backend, raw, layout, code }) {
    const init = await wgpy.initWorker();
    py = await loadPyodide({ indexURL: root + 'pyodide/' });
    const v = root + 'vendor/wgpy/';
    await py.loadPackage(['numpy', 'six', v + 'filelock-4.3.2-py3-none-any.whl',
                          v + 'chainer-5.4.0-py3-none-any.whl',
                          v + `wgpy_${init.backend}-1.0.0-py3-none-any.whl`]);
    py.runPython(code);
    const cls = py.globals.get('Runner') || py.globals.get('Workloads');
    runner = cls(raw, layout.n_train, layout.n_test, layout.n_in);
    return { backend: init.backend, chainer: py.runPython('chainer.__version__') };
  },
  load: ({ npz, lr }) => runner.load(npz, lr),
  predict: ({ i }) => runner.predict(i).toJs(),
  train: ({ b, n }) => runner.train(b, n),
  // the workloads page: any method of its Workloads object
  call: ({ fn, args }) => {
    const r = runner[fn](...(args || []));
    return r?.toJs ? r.toJs() : r;
  },
};

addEventListener('message', async (e) => {
  if (e.data?.namespace !== 'bench') return;
  try {
    postMessage({ namespace: 'bench', id: e.data.id, result: await ops[e.data.op](e.data.args) });
  } catch (err) {
    postMessage({ namespace: 'bench', id: e.data.id, error: String(err.message || err) });
  }
});
