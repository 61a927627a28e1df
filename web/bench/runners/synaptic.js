// synaptic 1.1.4: Network.fromJSON, activate, propagate. synaptic has no softmax layer: the
// closest network has identity output neurons (ReLU hidden), checked against the same network
// in wasmdl. Training is per sample (activate + propagate(rate, target)); 64 per "batch". The
// rate is the grid's 0.15 divided by the batch size: 64 per-sample steps then move the weights
// as far as one step on the batch's mean gradient, as the batched frameworks do. (At 0.15 per
// sample the outputs were NaN after one batch: the timing is the same, the training is not.)
// By default the first activate() compiles the network into one generated JS function
// (optimize(), one statement per connection). On the largest grid network (d8_w256, 662,016
// connections) that function crashes Chromium's renderer within ~10 calls (V8 compiling it;
// the 4 GB heap is a third used), so above optimizeMaxConnections the runner does what a
// synaptic user there must do: setOptimize(false), synaptic's own per-neuron path. Below it
// optimize() stays on: it is the faster path there (d4_w128 in Chromium: 48 vs 120 ms per
// sample). Measured 2026-12-07: d4_w256 (398,592 connections) runs optimized for a whole grid
// run; d8_w256 optimized crashed in 3 of 3 tries, unoptimized takes ~0.5 s per sample.
import { loadScript } from '../harness.js';

export default {
  variant: 'linear_out', train: true, trainCheck: false, optimizeMaxConnections: 500000,
  note: 'identity output layer, no softmax (synaptic has none); trains per sample, '
    + '64 samples per "batch"',
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'synaptic/dist/synaptic.min.js');
    return { version: '1.1.4', backend };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/synaptic.json', { cache: 'no-store' });
    const json = await res.json();
    const net = synaptic.Network.fromJSON(json);
    net.wasmdlRate = ctx.manifest.learning_rate / ctx.manifest.batch;
    net.wasmdlConnections = json.connections.length;
    net.wasmdlOptimize = net.wasmdlConnections <= this.optimizeMaxConnections;
    if (!net.wasmdlOptimize) net.setOptimize(false);
    return net;
  },
  // What this configuration ran, stated in its row.
  describe(net) {
    if (net.wasmdlOptimize) return null;
    return `optimize() off (setOptimize(false)): ${net.wasmdlConnections} connections > `
      + `${this.optimizeMaxConnections}; synaptic's generated function crashes Chromium's `
      + 'renderer at this size';
  },
  async predict(net, x) { return Float32Array.from(net.activate(x)); },
  async trainStep(net, b) {
    const d = b.x.length / b.n;
    for (let i = 0; i < b.n; i++) {
      const t = new Array(10).fill(0);
      t[b.y[i]] = 1;
      net.activate(b.x.subarray(i * d, (i + 1) * d));
      net.propagate(net.wasmdlRate, t);
    }
  },
};
