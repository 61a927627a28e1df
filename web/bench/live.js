// One framework x backend kept live for one configuration of the interleaved run (interleave.js
// drives it; bench.js makes fresh frames per configuration).
// The parent sends {bench: true, id, op, args}; the frame answers {bench: true, id, result} or
// {bench: true, id, error}. Ops:
//   setup            load the framework (page-ready time: script + runtime + first ready)
//   prepare {config} load the model (load, first inference = warm-up), check predictions
//                    against wasmdl's reference (and after one training step)
//   warm {phase}     call the phase until per-call time is stable: at least minMs and
//                    minCalls, and the last two ~50 ms windows within `tol` of each other
//                    (capped at maxMs; `stable: false` then). Returns the first call's time.
//                    Slow calls (> slowMs) stop after two; a first call over 10 x slowMs is
//                    the only one (its time is the per-call time, `stable: false`).
//   round {phase, k} k calls back to back; returns their total ms
//   release          dispose of the model
import { loadData, compare, now } from './harness.js';
import { FRAMEWORKS } from './frameworks.js';

const P = new URLSearchParams(location.search);
const root = P.get('root') || new URL('../../', location.href).pathname;
const ctx = { root, vendor: root + 'vendor/', base: P.get('models') || root + 'bench/models/' };
const fw = FRAMEWORKS.find((f) => f.id === P.get('fw'));
const backend = P.get('backend');
const logEl = document.getElementById('log');
let adapter = null, model = null, counter = 0;

export function errorText(e) {
  const msg = String(e && e.message ? e.message : e);
  if (!msg.includes('Traceback (most recent call last)')) return msg;
  const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
  const exc = lines.filter((l) => /^[A-Za-z_.]*(Error|Exception|Exit)\b/.test(l)).pop();
  return exc || lines.pop();
}

const call = {
  infer: (i) => adapter.predict(model, ctx.data.sample(i), i % ctx.data.nte),
  train: (i) => adapter.trainStep(model, ctx.data.batch(i + 1, ctx.manifest.batch)),
};

async function predictions(n) {
  const got = [];
  for (let i = 0; i < n; i++) got.push(await adapter.predict(model, ctx.data.sample(i), i));
  return got;
}

const ops = {
  async setup() {
    if (!fw || !fw.backends[backend]) throw new Error(`live: unknown fw/backend ${P}`);
    const t0 = now();
    ctx.manifest = await (await fetch(ctx.base + 'manifest.json', { cache: 'no-store' })).json();
    ctx.data = await loadData(ctx.base, ctx.manifest.data);
    adapter = (await import(fw.module)).default;
    const info = await adapter.setup(backend, ctx);
    info.setupMs = now() - t0;
    info.crossOriginIsolated = self.crossOriginIsolated;
    return { info, variant: adapter.variant, note: adapter.note, train: !!adapter.train };
  },
  async prepare({ config, tol }) {
    if (model) await ops.release();
    const entry = ctx.manifest.configs.find((c) => c.id === config);
    if (!entry) throw new Error(`configuration ${config} is not in the manifest`);
    if (entry.errors?.[fw.id]) throw new Error(entry.errors[fw.id]);
    ctx.reference = await (await fetch(ctx.base + config + '/reference.json')).json();
    let t0 = now();
    model = await adapter.load(entry, ctx);
    const load = now() - t0;
    t0 = now();
    await adapter.predict(model, ctx.data.sample(0), 0);
    const warmup = now() - t0;
    const ref = adapter.reference ? await adapter.reference(config, ctx)
      : ctx.reference[adapter.variant];
    const out = { load, warmup, check: compare(await predictions(ref.length), ref, tol) };
    const note = adapter.describe?.(model);
    if (note) out.note = note; // how this configuration ran, when the adapter chose
    if (adapter.train && adapter.trainCheck && out.check.ok) {
      await adapter.trainStep(model, ctx.data.batch(0, ctx.manifest.batch));
      const after = ctx.reference.after_step.softmax;
      out.trainCheck = compare(await predictions(after.length), after, tol * 5);
    }
    counter = 0;
    return out;
  },
  async warm({ phase, minMs = 1000, minCalls = 20, maxMs = 8000, windowMs = 50, tol = 0.15,
                slowMs = Infinity }) {
    const fn = call[phase];
    const t0 = now();
    await fn(counter++);
    const first = now() - t0;
    let calls = 1, last = null, prev = null, stable = false;
    // a call over 10x slowMs (synaptic's 64-sample step on d8_w256: ~30 s) is timed once
    if (first > 10 * slowMs) return { first, calls, ms: first, perCall: first, stable };
    while (true) {
      const w0 = now();
      let n = 0;
      do { await fn(counter++); n++; } while (now() - w0 < windowMs);
      calls += n;
      [prev, last] = [last, (now() - w0) / n];
      const elapsed = now() - t0;
      stable = prev != null && Math.abs(last - prev) <= tol * Math.min(last, prev);
      if (elapsed >= minMs && calls >= minCalls && stable) break;
      if (elapsed >= maxMs && calls >= Math.min(minCalls, 3)) break;
      if (last > slowMs && calls >= 2) break; // slow calls: not timed in rounds (interleave.js)
    }
    return { first, calls, ms: now() - t0, perCall: last, stable };
  },
  async round({ phase, k }) {
    const fn = call[phase];
    const t0 = now();
    for (let i = 0; i < k; i++) await fn(counter++);
    return now() - t0;
  },
  async release() {
    if (model) await adapter.dispose?.(model);
    model = null;
  },
};

window.addEventListener('message', async (ev) => {
  const m = ev.data;
  if (!m?.bench || m.op == null || ev.source !== window.parent) return;
  logEl.textContent = `${m.op} ${JSON.stringify(m.args || {})}`;
  try {
    const result = await ops[m.op](m.args || {});
    window.parent.postMessage({ bench: true, id: m.id, result }, '*');
  } catch (e) {
    window.parent.postMessage({ bench: true, id: m.id, error: errorText(e) }, '*');
  }
});
window.parent.postMessage({ bench: true, ready: true, key: `${P.get('fw')}:${backend}` }, '*');
