// Paddle.js (@paddlejs/paddlejs-core 2.2.0 + @paddlejs/paddlejs-backend-webgl 1.2.9; inference
// only): a Runner over the model.json + chunk_1.dat that Paddle.js's own converter
// (paddlejsconverter 1.0.8) wrote from a PaddlePaddle network with the grid's weights
// (bench/paddle_export.py). Its feed is one 1x28x28 image named "image", given as raw floats.
import { loadScript } from '../harness.js';

const FEED = { fc: 1, fh: 28, fw: 28 };

export default {
  variant: 'softmax', train: false,
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + '@paddlejs/paddlejs-core/lib/index.js');
    await loadScript(ctx.vendor + '@paddlejs/paddlejs-backend-webgl/lib/index.js');
    if (!self.paddlejs?.core?.Runner || !self.paddlejs?.webglBackend) {
      throw new Error('Paddle.js did not load (paddlejs.core.Runner / paddlejs.webglBackend)');
    }
    return { version: 'core 2.2.0, backend-webgl 1.2.9', backend };
  },
  async load(cfg, ctx) {
    const modelPath = new URL(ctx.base + cfg.id + '/paddlejs/model.json', location.href).href;
    const runner = new self.paddlejs.core.Runner({ modelPath, feedShape: FEED });
    await runner.init(); // loads the model and runs one warm-up inference (needPreheat)
    return runner;
  },
  async predict(runner, x) {
    // A feed given as [{data, shape}] goes in as is (a bare Float32Array would be read as an
    // image object and feed nothing).
    const out = await runner.predictWithFeed([{ data: x, shape: [1, FEED.fc, FEED.fh, FEED.fw],
      name: 'image', persistable: true }]);
    return Float32Array.from(out);
  },
};
