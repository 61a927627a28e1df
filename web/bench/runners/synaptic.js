// synaptic 1.1.4: Network.fromJSON, activate, propagate. synaptic has no softmax layer: the
// closest network has identity output neurons (ReLU hidden), checked against the same network
// in wasmdl. Training is per sample (activate + propagate(lr 0.15, target)); 64 per "batch".
// The first activate() compiles the network into one generated JS function (optimize()).
import { loadScript } from '../harness.js';

export default {
  variant: 'linear_out', train: true, trainCheck: false,
  note: 'identity output layer, no softmax (synaptic has none); trains per sample, '
    + '64 samples per "batch"',
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'synaptic/dist/synaptic.min.js');
    return { version: '1.1.4', backend };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/synaptic.json', { cache: 'no-store' });
    return synaptic.Network.fromJSON(await res.json());
  },
  async predict(net, x) { return Float32Array.from(net.activate(x)); },
  async trainStep(net, b) {
    const d = b.x.length / b.n;
    for (let i = 0; i < b.n; i++) {
      const t = new Array(10).fill(0);
      t[b.y[i]] = 1;
      net.activate(b.x.subarray(i * d, (i + 1) * d));
      net.propagate(0.15, t);
    }
  },
};
