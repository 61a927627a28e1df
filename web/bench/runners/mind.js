// Mind (node-mind 1.0.1; source from /work/shared/peers/mind, bundled by bench/mind.py into
// vendor/mind/mind.js). Mind expresses only sigmoid layers without biases, squared error and
// full-batch gradient descent, so its row runs that network: the grid's seeded kernels
// (biases dropped) with sigmoid everywhere, checked against the same network in wasmdl
// (<config>/mind_reference.json); one training step = mind.learn over the 64-sample batch
// with iterations = 1 (Mind sums the squared-error gradient over the batch), lr 0.15.
import { loadScript } from '../harness.js';

export default {
  variant: 'mind', train: true, trainCheck: false,
  note: 'sigmoid layers, no biases, squared error (all Mind can express); checked against '
    + 'the same network in wasmdl',
  async setup(backend, ctx) {
    await loadScript(ctx.vendor + 'mind/mind.js');
    return { version: '1.0.1', backend };
  },
  async reference(config, ctx) {
    const res = await fetch(ctx.base + config + '/mind_reference.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`mind_reference.json for ${config}: ${res.status}`);
    return res.json();
  },
  async load(cfg, ctx) {
    const dir = ctx.base + cfg.id + '/';
    const spec = await (await fetch(dir + 'model.json', { cache: 'no-store' })).json();
    const group = spec.weightsManifest[0];
    const buf = await (await fetch(dir + group.paths[0], { cache: 'no-store' })).arrayBuffer();
    const kernels = [];
    let off = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const f = new Float32Array(buf, off * 4, n);
      off += n;
      if (w.shape.length !== 2) continue; // biases: Mind has none
      const [rows, cols] = w.shape, m = [];
      for (let r = 0; r < rows; r++) m.push(Array.from(f.subarray(r * cols, (r + 1) * cols)));
      kernels.push(MindMatrix(m));
    }
    const mind = new Mind({ hiddenLayers: kernels.length - 1, hiddenUnits: kernels[0][0].length,
                            learningRate: ctx.manifest.learning_rate, iterations: 1,
                            activator: 'sigmoid' });
    return mind.upload(kernels);
  },
  async predict(mind, x) { return Float32Array.from(mind.predict(Array.from(x))); },
  async trainStep(mind, b) {
    const d = b.x.length / b.n, ex = [];
    for (let i = 0; i < b.n; i++) {
      const t = new Array(10).fill(0);
      t[b.y[i]] = 1;
      ex.push({ input: Array.from(b.x.subarray(i * d, (i + 1) * d)), output: t });
    }
    mind.learn(ex);
  },
};
