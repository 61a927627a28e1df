// TensorFlow.js 4.22 layers API: loadLayersModel (model.json + binary shards), predict,
// trainOnBatch with SGD(0.15) on categorical cross-entropy. Every call reads its result back
// (data()), so GPU backends are synchronised before the clock stops.
import { loadScript } from '../harness.js';

const WASM = '@tensorflow/tfjs-backend-wasm/dist/';

export default {
  variant: 'softmax', train: true, trainCheck: true,
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + '@tensorflow/tfjs/dist/tf.min.js');
    if (backend === 'wasm') {
      await loadScript(ctx.vendor + WASM + 'tf-backend-wasm.min.js');
      tf.wasm.setWasmPaths(ctx.vendor + WASM);
    }
    if (backend === 'webgpu') {
      await loadScript(ctx.vendor + '@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js');
    }
    if (!(await tf.setBackend(backend))) {
      throw new Error(`tf.setBackend('${backend}') failed in this browser`);
    }
    await tf.ready();
    return { version: tf.version.tfjs, backend: tf.getBackend() };
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
