// brain.js 1.6.1 NeuralNetwork: fromJSON, run, trainPattern. brain.js applies ONE activation to
// every layer, the output included, and has no softmax: the closest network is ReLU everywhere
// (checked against the same network in wasmdl). Training is per sample (online backprop of
// squared error, no momentum); one "batch" = 64 trainPattern calls. The rate is the grid's
// 0.15 divided by the batch size, as for synaptic: 64 per-sample steps then move the weights
// as far as one step on the batch's mean gradient. (At 0.15 per sample every ReLU died within
// one batch and the network put out zeros from then on.)
import { loadScript } from '../harness.js';

export default {
  variant: 'relu_out', train: true, trainCheck: false,
  note: 'ReLU output layer, no softmax (brain.js uses one activation for every layer); '
    + 'trains per sample on squared error at the grid\'s rate / 64, 64 samples per "batch"',
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'brain.js/browser.min.js');
    return { version: '1.6.1', backend };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/brainjs.json', { cache: 'no-store' });
    const net = new brain.NeuralNetwork();
    net.fromJSON(await res.json());
    net.trainOpts.learningRate = ctx.manifest.learning_rate / ctx.manifest.batch;
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
