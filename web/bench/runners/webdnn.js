// WebDNN 1.2.11 (inference only): WebDNN.load(descriptor folder, one backend, no cache), set the
// input, run, read the output. Descriptors come from WebDNN's own Python graph transpiler.
import { loadScript } from '../harness.js';

export default {
  variant: 'softmax', train: false,
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'webdnn/dist/webdnn.js');
    this.backend = backend;
    return { version: '1.2.11', backend };
  },
  async load(cfg, ctx) {
    const runner = await WebDNN.load(ctx.base + cfg.id + '/webdnn', {
      backendOrder: [this.backend], cacheStrategy: 'networkOnly', saveCache: false });
    if (runner.backendName !== this.backend) {
      throw new Error(`WebDNN fell back to ${runner.backendName}, not ${this.backend}`);
    }
    return runner;
  },
  async predict(runner, x) {
    runner.inputs[0].set(x);
    await runner.run();
    return Float32Array.from(runner.outputs[0].toActual());
  },
};
