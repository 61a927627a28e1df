// Keras.js 1.0.3 (inference only): Model({filepath: model.bin protobuf, gpu}), predict.
import { loadScript } from '../harness.js';

export default {
  variant: 'softmax', train: false,
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'keras-js/dist/keras.min.js');
    this.gpu = backend === 'webgl';
    return { version: '1.0.3', backend };
  },
  async load(cfg, ctx) {
    const model = new KerasJS.Model({ filepath: ctx.base + cfg.id + '/model.bin', gpu: this.gpu,
                                      headers: { 'Cache-Control': 'no-store' } });
    await model.ready();
    if (this.gpu && !model.gpu) throw new Error('Keras.js did not enable its WebGL2 mode');
    return model;
  },
  async predict(model, x) {
    const out = await model.predict({ input: x });
    return Float32Array.from(out.output);
  },
  dispose(model) { model.cleanup?.(); },
};
