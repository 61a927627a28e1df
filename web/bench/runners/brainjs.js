// brain.js 1.6.1 NeuralNetwork: fromJSON, run, trainPattern. brain.js applies ONE activation to
// every layer, the output included, and has no softmax: the closest network is ReLU everywhere
// (checked against the same network in wasmdl). Training is per sample (online backprop of
// squared error, lr 0.15, no momentum); one "batch" = 64 trainPattern calls.
import { loadScript } from '../harness.js';

export default {
  variant: 'relu_out', train: true, trainCheck: false,
  note: 'ReLU output layer, no softmax (brain.js uses one activation for every layer); '
    + 'trains per sample on squared error, 64 samples per "batch"',
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'brain.js/browser.min.js');
    return { version: '1.6.1', backend };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/brainjs.json', { cache: 'no-store' });
    const net = new brain.NeuralNetwork();
    net.fromJSON(await res.json());
    net.trainOpts.learningRate = ctx.manifest.learning_rate;
    net.trainOpts.momentum = 0;
    return net;
  },
  async predict(net, x) { return Float32Array.from(net.run(x)); },
  async trainStep(net, b) {
    const d = b.x.length / b.n;
    for (let i = 0; i < b.n; i++) {
      const t = new Float32Array(10);
      t[b.y[i]] = 1;
      net.trainPattern({ input: b.x.subarray(i * d, (i + 1) * d), output: t });
    }
  },
};
