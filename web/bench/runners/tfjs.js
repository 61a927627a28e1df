// TensorFlow.js 4.22 layers API: loadLayersModel (model.json + binary shards), predict,
// trainOnBatch with SGD(0.15) on categorical cross-entropy. Every call reads its result back
// (data()), so GPU backends are synchronised before the clock stops.
// wasm: the one-thread SIMD build (WASM_HAS_MULTITHREAD_SUPPORT off, even when the page is
// cross-origin isolated); wasm-mt: the threaded SIMD build with one thread per core, which
// needs crossOriginIsolated (COOP/COEP) - without it the row fails rather than silently run
// one thread. TF.js 4.22's threaded build sizes its Emscripten worker pool as
// hardwareConcurrency / 2 (1 on a 2-core machine), and then getThreadsCount() reports 1 even
// after setThreadsCount(2); so while the backend starts, navigator.hardwareConcurrency reads
// twice the real count (restored right after), and the row checks that the threads engaged.
import { loadScript } from '../harness.js';

const WASM = '@tensorflow/tfjs-backend-wasm/dist/';

export default {
  variant: 'softmax', train: true, trainCheck: true,
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + '@tensorflow/tfjs/dist/tf.min.js');
    const threaded = backend === 'wasm-mt';
    if (threaded && !self.crossOriginIsolated) {
      throw new Error('wasm-mt needs a cross-origin isolated page (COOP/COEP headers); '
        + 'this page is not (served with --no-isolation?)');
    }
    if (backend.startsWith('wasm')) {
      await loadScript(ctx.vendor + WASM + 'tf-backend-wasm.min.js');
      tf.wasm.setWasmPaths(ctx.vendor + WASM);
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threaded);
      backend = 'wasm';
    }
    const cores = Math.max(2, navigator.hardwareConcurrency || 2);
    if (threaded) {
      tf.wasm.setThreadsCount(cores);
      Object.defineProperty(navigator, 'hardwareConcurrency', { get: () => 2 * cores,
                                                               configurable: true });
    }
    if (backend === 'webgpu') {
      await loadScript(ctx.vendor + '@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js');
    }
    try {
      if (!(await tf.setBackend(backend))) {
        throw new Error(`tf.setBackend('${backend}') failed in this browser`);
      }
      await tf.ready();
    } finally {
      if (threaded) delete navigator.hardwareConcurrency; // the prototype's getter again
    }
    const info = { version: tf.version.tfjs, backend: tf.getBackend() };
    if (backend === 'wasm') {
      info.threads = tf.wasm.getThreadsCount();
      if (threaded && info.threads < 2) {
        throw new Error(`wasm-mt: TF.js runs ${info.threads} thread(s) (threaded build not used)`);
      }
    }
    return info;
  },
  async load(cfg, ctx) {
    const model = await tf.loadLayersModel(ctx.base + cfg.id + '/model.json',
                                           { requestInit: { cache: 'no-store' } });
    model.compile({ optimizer: tf.train.sgd(ctx.manifest.learning_rate),
                    loss: 'categoricalCrossentropy' });
    return model;
  },
  async predict(model, x) {
    const y = tf.tidy(() => model.predict(tf.tensor2d(x, [1, x.length])));
    const out = await y.data();
    y.dispose();
    return out;
  },
  async trainStep(model, b) {
    const xs = tf.tensor2d(b.x, [b.n, b.x.length / b.n]);
    const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(b.y, 'int32'), 10).toFloat());
    const loss = await model.trainOnBatch(xs, ys); // awaits the loss read back after the update
    xs.dispose();
    ys.dispose();
    return loss;
  },
  dispose(model) { model.dispose(); },
};
