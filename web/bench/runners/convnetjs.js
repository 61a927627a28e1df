// ConvNetJS 0.3.0: Net.fromJSON, forward on a 1x1x784 Vol, Trainer('sgd', lr 0.15, batch 64,
// no momentum, no weight decay): it accumulates per-sample gradients and updates every 64.
import { loadScript } from '../harness.js';

function vol(x) {
  const v = new convnetjs.Vol(1, 1, x.length, 0.0);
  for (let i = 0; i < x.length; i++) v.w[i] = x[i];
  return v;
}

export default {
  variant: 'softmax', train: true, trainCheck: true,
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'convnetjs/build/convnet-min.js');
    return { version: '0.3.0', backend };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/convnetjs.json', { cache: 'no-store' });
    const net = new convnetjs.Net();
    net.fromJSON(await res.json());
    const trainer = new convnetjs.Trainer(net, {
      method: 'sgd', learning_rate: ctx.manifest.learning_rate, batch_size: ctx.manifest.batch,
      momentum: 0.0, l1_decay: 0.0, l2_decay: 0.0 });
    return { net, trainer };
  },
  async predict(m, x) {
    return Float32Array.from(m.net.forward(vol(x), false).w);
  },
  async trainStep(m, b) {
    const d = b.x.length / b.n;
    for (let i = 0; i < b.n; i++) m.trainer.train(vol(b.x.subarray(i * d, (i + 1) * d)), b.y[i]);
  },
};
