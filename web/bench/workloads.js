// User workloads (BENCHMARK.md "Beyond the paper"), one framework x backend per page:
// workloads.html?fw=tfjs&backend=wasm. For each workload (mlp_adam: the README's MLP with Adam
// and accuracy; cnn: Conv2D 16, pool, Conv2D 32, pool, Dense 10 with Adam; lstm: LSTM(64) over
// the 28 rows of a digit) it records build time, the first training step, per-step time after
// a stable warm-up (>= 1 s and 20 calls, as the grid) in ~75 ms rounds, test accuracy after the
// timed steps, and batch-1 predict the same way. Page-ready = scripts + runtime set-up.
// A framework that cannot express a workload keeps the row with its own error (or the reason).
// Results in window.workloads (python -m bench.full collects them).
import { loadScript, loadData } from './harness.js';
import { callsPerRound, quantiles } from './interleave.js';

const P = new URLSearchParams(location.search);
const fwId = P.get('fw'), backend = P.get('backend');
const root = new URL('../../', location.href).pathname;
const ctx = { root, vendor: root + 'vendor/', base: root + 'bench/models/' };
const WORKLOADS = (P.get('workloads') || 'mlp_adam,cnn,lstm').split(',');
const state = (window.workloads = { fw: fwId, backend, done: false, rows: [] });
const now = () => performance.now();
const B = 64;

const shapeOf = { mlp_adam: [784], cnn: [28, 28, 1], lstm: [28, 28] };
const batch = (i) => {
  const s = (i * B) % ctx.data.ntr;
  return { x: ctx.data.xtr.subarray(s * 784, (s + B) * 784), y: ctx.data.ytr.subarray(s, s + B) };
};
const cannot = (why) => { throw new Error(why); };
// An error's text; for a Python traceback, its exception line (the last "XxxError: ..." line).
export function errorText(e) {
  const msg = String(e && e.message ? e.message : e);
  if (!msg.includes('Traceback (most recent call last)')) return msg;
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  const exc = lines.filter((l) => /^[A-Za-z_.]*(Error|Exception|Exit)\b/.test(l)).pop();
  return exc || lines.pop();
}

const TFJS_WASM = '@tensorflow/tfjs-backend-wasm/dist/';
const ADAPTERS = {
  wasmdl: {
    async setup() {
      await loadScript(ctx.root + 'pyodide/pyodide.js');
      const py = await loadPyodide({ indexURL: ctx.root + 'pyodide/' });
      await py.loadPackage(['micropip', 'numpy']);
      const micropip = py.pyimport('micropip');
      micropip.set_index_urls([location.origin + ctx.root + 'simple/{package_name}/']);
      await micropip.install('wasmdl');
      await micropip.install('wasmdl-bench');
      py.globals.set('_raw', ctx.data.raw);
      py.globals.set('_layout', py.toPy(ctx.manifest.data));
      this.r = py.runPython(`from bench import workloads
_w = workloads.WorkloadRunner(_raw.to_py(), _layout)
_w`);
      this.py = {};
      for (const n of ['build', 'train_step', 'predict1', 'accuracy']) this.py[n] = this.r[n];
      return { version: py.runPython('import wasmdl; wasmdl.__version__'),
               label: 'wasm-simd (Pyodide), 1 thread' };
    },
    async build(name) { this.py.build(name); return {}; },
    async trainStep(m, i) { this.py.train_step(i); },
    async predict1(m, i) { this.py.predict1(i); },
    async accuracy() { return this.py.accuracy(); },
  },
  tfjs: {
    async setup() {
      await loadScript(ctx.vendor + '@tensorflow/tfjs/dist/tf.min.js');
      let be = backend;
      if (backend.startsWith('wasm')) {
        await loadScript(ctx.vendor + TFJS_WASM + 'tf-backend-wasm.min.js');
        tf.wasm.setWasmPaths(ctx.vendor + TFJS_WASM);
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        be = 'wasm';
      }
      if (!(await tf.setBackend(be))) throw new Error(`tf.setBackend('${be}') failed`);
      await tf.ready();
      return { version: tf.version.tfjs, backend: tf.getBackend() };
    },
    async build(name) {
      const L = tf.layers;
      const layers = {
        mlp_adam: () => [L.dense({ units: 64, activation: 'relu', inputShape: [784] }),
                         L.dense({ units: 10, activation: 'softmax' })],
        cnn: () => [L.conv2d({ filters: 16, kernelSize: 3, activation: 'relu',
                               inputShape: [28, 28, 1] }), L.maxPooling2d({ poolSize: 2 }),
                    L.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
                    L.maxPooling2d({ poolSize: 2 }), L.flatten(),
                    L.dense({ units: 10, activation: 'softmax' })],
        lstm: () => [L.lstm({ units: 64, inputShape: [28, 28] }),
                     L.dense({ units: 10, activation: 'softmax' })],
      }[name]();
      const m = tf.sequential({ layers });
      m.compile({ optimizer: tf.train.adam(0.001), loss: 'sparseCategoricalCrossentropy',
                  metrics: ['accuracy'] });
      m.wlShape = shapeOf[name];
      return m;
    },
    async trainStep(m, i) {
      const b = batch(i);
      const xs = tf.tensor(b.x, [B, ...m.wlShape]), ys = tf.tensor1d(b.y, 'float32');
      await m.trainOnBatch(xs, ys);
      xs.dispose(); ys.dispose();
    },
    async predict1(m, i) {
      const s = i % ctx.data.nte;
      const y = tf.tidy(() => m.predict(tf.tensor(ctx.data.xte.subarray(s * 784, (s + 1) * 784),
                                                  [1, ...m.wlShape])));
      await y.data(); y.dispose();
    },
    async accuracy(m) {
      const p = tf.tidy(() => m.predict(tf.tensor(ctx.data.xte, [ctx.data.nte, ...m.wlShape]))
        .argMax(1));
      const a = await p.data(); p.dispose();
      return a.reduce((n, v, j) => n + (v === ctx.data.yte[j]), 0) / a.length;
    },
    dispose(m) { m.dispose(); },
  },
  ort: {
    async setup() {
      const threads = backend === 'wasm-mt' ? Math.max(2, navigator.hardwareConcurrency) : 1;
      await loadScript(ctx.vendor + 'onnxruntime-web/dist/ort.wasm.min.js');
      ort.env.wasm.wasmPaths = ctx.vendor + 'onnxruntime-web/dist/';
      ort.env.wasm.numThreads = threads;
      this.ref = await (await fetch(ctx.base + 'workloads/reference.json')).json();
      return { version: '1.30.0', threads };
    },
    async build(name) {
      const bytes = new Uint8Array(await (await fetch(ctx.base + `workloads/${name}.onnx`))
        .arrayBuffer());
      const s = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
      s.wlShape = shapeOf[name];
      // check: wasmdl's outputs on the first 4 test digits (same exported weights)
      let maxDiff = 0;
      for (let i = 0; i < 4; i++) {
        const out = await this.run(s, i);
        out.forEach((v, j) => { maxDiff = Math.max(maxDiff, Math.abs(v - this.ref[name][i][j])); });
      }
      s.check = { maxDiff, ok: maxDiff < 1e-4 };
      return s;
    },
    async run(s, i) {
      const k = i % ctx.data.nte;
      const x = new ort.Tensor('float32', ctx.data.xte.slice(k * 784, (k + 1) * 784),
                               [1, ...s.wlShape]);
      const out = await s.run({ [s.inputNames[0]]: x });
      return out[s.outputNames[0]].getData();
    },
    trainStep: null,
    noTrain: 'ONNX Runtime Web 1.30 runs inference only (its /training build was removed in '
      + '1.19, PR #22103); predict uses the model exported by wasmdl.io.save_model(format="onnx")',
    async predict1(s, i) { await this.run(s, i); },
    async dispose(s) { await s.release(); },
  },
  convnetjs: {
    async setup() {
      await loadScript(ctx.vendor + 'convnetjs/build/convnet-min.js');
      return { version: '0.3.0' };
    },
    async build(name) {
      const defs = {
        mlp_adam: [{ type: 'input', out_sx: 1, out_sy: 1, out_depth: 784 },
                   { type: 'fc', num_neurons: 64, activation: 'relu' },
                   { type: 'softmax', num_classes: 10 }],
        cnn: [{ type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
              { type: 'conv', sx: 3, filters: 16, stride: 1, pad: 0, activation: 'relu' },
              { type: 'pool', sx: 2, stride: 2 },
              { type: 'conv', sx: 3, filters: 32, stride: 1, pad: 0, activation: 'relu' },
              { type: 'pool', sx: 2, stride: 2 }, { type: 'softmax', num_classes: 10 }],
      }[name] || cannot('ConvNetJS 0.3.0 has no recurrent layers (its layer set: input, fc, '
        + 'conv, pool, lrn, dropout, activations, softmax/svm/regression)');
      const net = new convnetjs.Net();
      net.makeLayers(defs);
      const trainer = new convnetjs.Trainer(net, { method: 'adam', learning_rate: 0.001,
                                                   batch_size: B, beta1: 0.9, beta2: 0.999 });
      const [sx, sy, d] = name === 'cnn' ? [28, 28, 1] : [1, 1, 784];
      return { net, trainer, vol: (x) => {
        const v = new convnetjs.Vol(sx, sy, d, 0.0);
        v.w.set ? v.w.set(x) : x.forEach((val, j) => { v.w[j] = val; });
        return v;
      } };
    },
    async trainStep(m, i) {
      const b = batch(i);
      for (let j = 0; j < B; j++) m.trainer.train(m.vol(b.x.subarray(j * 784, (j + 1) * 784)), b.y[j]);
    },
    async predict1(m, i) {
      const s = i % ctx.data.nte;
      m.net.forward(m.vol(ctx.data.xte.subarray(s * 784, (s + 1) * 784)), false);
    },
    async accuracy(m) {
      let ok = 0;
      for (let s = 0; s < ctx.data.nte; s++) {
        const o = Array.from(m.net.forward(m.vol(ctx.data.xte.subarray(s * 784, (s + 1) * 784)),
                                           false).w);
        ok += o.indexOf(Math.max(...o)) === ctx.data.yte[s];
      }
      return ok / ctx.data.nte;
    },
  },
  brainjs: {
    async setup() {
      await loadScript(ctx.vendor + 'brain.js/browser.min.js');
      return { version: '1.6.1' };
    },
    async build(name) {
      if (name !== 'mlp_adam') {
        cannot(name === 'cnn' ? 'brain.js 1.6.1 has no convolution in its NeuralNetwork (the '
          + 'layer API with conv is 2.0 beta, not on npm as a release)'
          : 'brain.js 1.6.1 recurrent.LSTM predicts sequences of values; it has no '
          + 'sequence classifier over 28-float rows');
      }
      const net = new brain.NeuralNetwork({ hiddenLayers: [64], activation: 'relu' });
      this.data = (i) => {
        const b = batch(i), out = [];
        for (let j = 0; j < B; j++) {
          const t = new Array(10).fill(0); t[b.y[j]] = 1;
          out.push({ input: Array.from(b.x.subarray(j * 784, (j + 1) * 784)), output: t });
        }
        return out;
      };
      net.note = 'sigmoid-free ReLU MLP with brain.js\'s Adam (praxis), online updates per '
        + 'sample, squared error (no softmax/cross-entropy)';
      return net;
    },
    async trainStep(net, i) {
      net.train(this.data(i), { iterations: 1, praxis: 'adam', learningRate: 0.001,
                                errorThresh: 0.005, log: false });
    },
    async predict1(net, i) {
      const s = i % ctx.data.nte;
      net.run(ctx.data.xte.subarray(s * 784, (s + 1) * 784));
    },
    async accuracy(net) {
      let ok = 0;
      for (let s = 0; s < ctx.data.nte; s++) {
        const o = Array.from(net.run(ctx.data.xte.subarray(s * 784, (s + 1) * 784)));
        ok += o.indexOf(Math.max(...o)) === ctx.data.yte[s];
      }
      return ok / ctx.data.nte;
    },
  },
};
// Chainer 5.4 (WgPy's build): numpy in this page's Pyodide; webgl/webgpu through WgPy (Pyodide
// in a worker, GPU calls here; web/bench/runners/chainer_worker.js).
ADAPTERS.chainer = {
  async setup() {
    const code = await (await fetch('./runners/chainer_workloads.py')).text();
    const layout = ctx.manifest.data, v = ctx.vendor + 'wgpy/';
    if (backend === 'numpy') {
      await loadScript(ctx.root + 'pyodide/pyodide.js');
      const py = await loadPyodide({ indexURL: ctx.root + 'pyodide/' });
      await py.loadPackage(['numpy', 'six', v + 'filelock-4.3.2-py3-none-any.whl',
                            v + 'chainer-5.4.0-py3-none-any.whl']);
      py.runPython(code);
      const w = py.globals.get('Workloads')(ctx.data.raw, layout.n_train, layout.n_test,
                                            layout.n_in);
      this.call = async (fn, ...args) => { const r = w[fn](...args); return r?.toJs ? r.toJs() : r; };
      return { version: '5.4.0', backend: 'numpy (Pyodide)' };
    }
    await loadScript(v + 'wgpy-main.js');
    const worker = new Worker(`./runners/chainer_worker.js?root=${ctx.root}`);
    const init = await wgpy.initMain(worker, { backendOrder: [backend] });
    if (init.backend !== backend) throw new Error(`WgPy initialised ${init.backend}`);
    const pending = new Map();
    let next = 1;
    worker.addEventListener('message', (e) => {
      if (e.data?.namespace !== 'bench') return;
      const p = pending.get(e.data.id);
      pending.delete(e.data.id);
      if (e.data.error != null) p.reject(new Error(e.data.error)); else p.resolve(e.data.result);
    });
    const rpc = (op, args) => new Promise((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ namespace: 'bench', id, op, args });
    });
    await rpc('start', { backend, raw: ctx.data.raw, layout, code });
    this.call = (fn, ...args) => rpc('call', { fn, args });
    return { version: '5.4.0', backend: `WgPy ${backend}` };
  },
  async build(name) { await this.call('build', name); return {}; },
  async trainStep(m, i) { await this.call('train', i); },
  async predict1(m, i) { await this.call('predict', i); },
  async accuracy() { return this.call('accuracy'); },
};
ADAPTERS.paddlejs = {  // inference only: the models bench/paddle_export.py converted
  async setup() {
    await loadScript(ctx.vendor + '@paddlejs/paddlejs-core/lib/index.js');
    await loadScript(ctx.vendor + '@paddlejs/paddlejs-backend-webgl/lib/index.js');
    this.ref = await (await fetch(ctx.base + 'workloads/reference.json')).json();
    this.made = await (await fetch(ctx.base + 'workloads/paddlejs.json')).json();
    return { version: 'core 2.2.0, backend-webgl 1.2.9' };
  },
  async build(name) {
    if (this.made[name] !== 'ok') cannot(this.made[name] || `no Paddle.js model for ${name}`);
    const modelPath = new URL(ctx.base + `workloads/paddlejs_${name}/model.json`,
      location.href).href;
    const runner = new self.paddlejs.core.Runner({ modelPath, feedShape: { fc: 1, fh: 28, fw: 28 } });
    try {
      await runner.init(); // loads the model, runs one warm-up inference
    } catch (e) {
      throw new Error(`Paddle.js Runner.init on paddlejs_${name}/model.json: ${e}`);
    }
    let maxDiff = 0, first = null;  // wasmdl's outputs on the first 4 test digits (same weights)
    for (let i = 0; i < 4; i++) {
      const out = await this.run(runner, i);
      first = first || out;
      out.forEach((v, j) => { maxDiff = Math.max(maxDiff, Math.abs(v - this.ref[name][i][j])); });
    }
    runner.check = { maxDiff, ok: maxDiff < 1e-4 };
    if (!runner.check.ok) {
      const show = (v) => Array.from(v.slice(0, 3), (x) => Number(x).toPrecision(4)).join(', ');
      throw new Error(`Paddle.js outputs differ from wasmdl's by ${maxDiff}: digit 0 gives `
        + `[${show(first)}, ...] where wasmdl gives [${show(this.ref[name][0])}, ...]`);
    }
    return runner;
  },
  async run(runner, i) {
    const k = i % ctx.data.nte;
    const out = await runner.predictWithFeed([{ data: ctx.data.xte.slice(k * 784, (k + 1) * 784),
      shape: [1, 1, 28, 28], name: 'image', persistable: true }]);
    return Float32Array.from(out);
  },
  trainStep: null,
  noTrain: 'Paddle.js runs inference only; predict uses a PaddlePaddle network with the same '
    + 'weights, converted by paddlejsconverter 1.0.8',
  async predict1(runner, i) { await this.run(runner, i); },
};
const REASONS = {
  mind: 'Mind 1.0.1 cannot express these: sigmoid/tanh layers without biases, squared error '
    + 'and plain gradient descent only (no Adam, no softmax, no convolution, no recurrence)',
  synaptic: 'synaptic 1.1.4 trains with plain SGD only (no Adam), and has no convolution; its '
    + 'LSTM is an LSTM-g network without a batch API',
  kerasjs: 'Keras.js 1.0.3 is inference only, and its models come from Keras 2.1 HDF5 files '
    + '(encoder.py), which this project does not write',
  webdnn: 'WebDNN 1.2.11 is inference only; its graph transpiler for these models needs its '
    + 'Python converter with Keras/Chainer, not run here',
};

async function timeLoop(fn, opts = {}) {
  const { minMs = 1000, minCalls = 20, maxMs = 6000, rounds = 8, roundsMs = 4000 } = opts;
  let i = 0;
  const t0 = now();
  await fn(i++);
  const first = now() - t0;
  let calls = 1, last = null, prev = null;
  while (true) {
    const w0 = now();
    let n = 0;
    do { await fn(i++); n++; } while (now() - w0 < 50);
    calls += n;
    [prev, last] = [last, (now() - w0) / n];
    const el = now() - t0;
    const stable = prev != null && Math.abs(last - prev) <= 0.15 * Math.min(last, prev);
    if ((el >= minMs && calls >= minCalls && stable) || el >= maxMs) break;
  }
  const k = callsPerRound(last), per = [], r0 = now();
  while (per.length < rounds && (per.length < 3 || now() - r0 < roundsMs)) {
    const s0 = now();
    for (let j = 0; j < k; j++) await fn(i++);
    per.push((now() - s0) / k);
  }
  return { ...quantiles(per), samples: per, k, first, warmCalls: calls, calls: i };
}

async function main() {
  const t0 = now();
  ctx.manifest = await (await fetch(ctx.base + 'manifest.json')).json();
  ctx.data = await loadData(ctx.base, ctx.manifest.data);
  const a = ADAPTERS[fwId];
  const base = { framework: fwId, backend };
  if (!a) {
    for (const w of WORKLOADS) {
      state.rows.push({ ...base, workload: w, status: 'unavailable',
                        error: REASONS[fwId] || `no workload adapter for ${fwId}` });
    }
    return;
  }
  state.info = await a.setup();
  state.pageReadyMs = now() - t0;
  for (const w of WORKLOADS) {
    const row = { ...base, workload: w, pageReadyMs: state.pageReadyMs, info: state.info };
    document.getElementById('log').textContent = `${fwId}:${backend} ${w}`;
    try {
      let t = now();
      const m = await a.build(w);
      row.buildMs = now() - t;
      if (m?.check) row.check = m.check;
      if (m?.note) row.note = m.note;
      if (a.trainStep) {
        try {
          row.train = await timeLoop((i) => a.trainStep(m, i));
          row.firstStepMs = row.train.first;
          if (w === 'mlp_adam') {
            row.steps = row.train.calls;
            row.accuracy = await a.accuracy(m);
          }
        } catch (e) { row.trainError = errorText(e); }
      } else {
        row.trainError = a.noTrain;
      }
      row.predict = await timeLoop((i) => a.predict1(m, i), { rounds: 8 });
      row.status = row.trainError && !a.noTrain ? 'partial' : 'ok';
      await a.dispose?.(m);
    } catch (e) {
      Object.assign(row, { status: 'failed', error: errorText(e) });
    }
    state.rows.push(row);
  }
}

main().catch((e) => { state.error = String(e.stack || e); })
  .finally(() => { state.done = true; });
