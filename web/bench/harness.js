// The benchmark protocol, one framework x backend per page (runner.html), every configuration.
//
// Phases per configuration (BENCHMARK.md): model load (the framework's own files, fetched and
// parsed into a ready model), warm-up (the first inference after each load), a check of the
// predictions on N_CHECK test digits against wasmdl's reference outputs (a mismatch marks the
// row instead of timing it), inference per sample (batch 1, after warm-up), training time per
// batch of 64 (after warm-up steps). Every timed call returns data read back to the CPU, so
// GPU work is finished before the clock stops. Each phase: `repeats` repeats of k calls, k
// calibrated so that a repeat lasts about budget/repeats ms; medians with min/max/quartiles.

export const now = () => performance.now();

export function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => {
    const i = (s.length - 1) * p, lo = Math.floor(i), hi = Math.ceil(i);
    return s[lo] + (s[hi] - s[lo]) * (i - lo);
  };
  return { median: q(0.5), min: s[0], max: s[s.length - 1], q1: q(0.25), q3: q(0.75),
           n: s.length, samples };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

export async function loadScript(src) {
  await new Promise((resolve, reject) => {
    const el = document.createElement('script');
    el.src = src;
    el.charset = 'utf-8';
    el.onload = resolve;
    el.onerror = () => reject(new Error(`loadScript: could not load ${src}`));
    document.head.appendChild(el);
  });
}

export async function loadData(base, layout) {
  const res = await fetch(base + layout.file);
  if (!res.ok) throw new Error(`loadData: ${base + layout.file} answered ${res.status}`);
  const u8 = new Uint8Array(await res.arrayBuffer());
  const { n_train: ntr, n_test: nte, n_in: d } = layout;
  const f32 = (a) => Float32Array.from(a, (v) => Math.fround(v / 255));
  const xtr = f32(u8.subarray(0, ntr * d)), xte = f32(u8.subarray(ntr * d, (ntr + nte) * d));
  const ytr = u8.slice((ntr + nte) * d, (ntr + nte) * d + ntr);
  const yte = u8.slice((ntr + nte) * d + ntr, (ntr + nte) * d + ntr + nte);
  return {
    d, ntr, nte, xtr, xte, ytr, yte,
    sample: (i) => xte.subarray((i % nte) * d, (i % nte + 1) * d),
    batch: (b, n) => {
      const s = (b * n) % ntr;
      return { x: xtr.subarray(s * d, (s + n) * d), y: ytr.subarray(s, s + n), n, index: b };
    },
    raw: u8,
  };
}

// Compare outputs (rows of 10) with reference rows: max |diff| against tol * max(1, |ref|).
export function compare(got, want, tol) {
  let maxDiff = 0, scale = 1, agree = 0;
  for (let i = 0; i < want.length; i++) {
    const g = Array.from(got[i]), w = want[i];
    if (g.length !== w.length) {
      return { ok: false, maxDiff: Infinity, argmaxAgree: 0, n: want.length,
               why: `output ${i} has ${g.length} values, expected ${w.length}` };
    }
    for (let j = 0; j < w.length; j++) {
      maxDiff = Math.max(maxDiff, Number.isFinite(g[j]) ? Math.abs(g[j] - w[j]) : Infinity);
      scale = Math.max(scale, Math.abs(w[j]));
    }
    if (g.indexOf(Math.max(...g)) === w.indexOf(Math.max(...w))) agree++;
  }
  return { ok: maxDiff <= tol * scale, maxDiff, argmaxAgree: agree, n: want.length, tol };
}

// Run fn() repeatedly: `repeats` repeats of k calls; returns per-call ms stats. A call slower
// than `maxcall` ms is measured once, cold (n = 1, flagged), so one slow framework cannot
// take the whole run.
async function timeCalls(fn, { repeats, budget, maxcall, warm = 2, kmax = 2000 }) {
  let t0 = now();
  await fn(0);
  const cold = now() - t0;
  if (cold > maxcall) return { ...stats([cold]), k: 1, cold: true };
  let c = 1, single;
  if (cold > budget) {
    single = cold; // a slow call: the first one was the warm-up, no separate calibration
  } else {
    for (; c < warm; c++) await fn(c);
    t0 = now();
    await fn(c++);
    single = Math.max(now() - t0, 1e-3);
  }
  // Slow calls (seconds per batch) get fewer repeats, never fewer than one.
  const reps = Math.max(1, Math.min(repeats, Math.floor(budget / single)));
  const k = Math.max(1, Math.min(kmax, Math.round(budget / reps / single)));
  const per = [];
  for (let r = 0; r < reps; r++) {
    t0 = now();
    for (let i = 0; i < k; i++) await fn(c++);
    per.push((now() - t0) / k);
    await tick();
  }
  return { ...stats(per), k };
}

async function loadPhase(adapter, cfg, ctx, opts) {
  const load = [], warm = [];
  let model = null, first = null;
  // At least 3 loads (the first one also pays one-time runtime set-up, e.g. compiling a
  // wasm module, so the median is the steady figure), unless the first load + warm-up took
  // more than 4 budgets; then more while within the budget.
  const deadline = now() + opts.budget;
  for (let r = 0; r < opts.repeats; r++) {
    if (r > 0 && load[0] + warm[0] > 4 * opts.budget) break;
    if (r >= 3 && now() > deadline) break;
    if (model) await adapter.dispose?.(model);
    let t0 = now();
    model = await adapter.load(cfg, ctx);
    const t1 = now();
    first = await adapter.predict(model, ctx.data.sample(0), 0);
    const t2 = now();
    load.push(t1 - t0);
    warm.push(t2 - t1);
    await tick();
  }
  return { model, first, load: { ...stats(load), first: load[0] },
           warmup: { ...stats(warm), first: warm[0] } };
}

async function checkPredictions(adapter, model, ctx, ref, tol) {
  const got = [];
  for (let i = 0; i < ref.length; i++) got.push(await adapter.predict(model, ctx.data.sample(i), i));
  return compare(got, ref, tol);
}

// A row's note with `more` appended (how one configuration ran, when the adapter chose).
export function withNote(note, more) {
  return more ? (note ? `${note}; ${more}` : more) : note;
}

export async function runConfig(adapter, cfg, ctx, opts) {
  const row = { config: cfg.id, depth: cfg.depth, width: cfg.width, params: cfg.params };
  // An adapter that runs another network (Mind) brings its own reference outputs.
  const ref = adapter.reference ? await adapter.reference(cfg.id, ctx)
    : ctx.reference[adapter.variant];
  const { model, load, warmup } = await loadPhase(adapter, cfg, ctx, opts);
  row.load = load;
  row.warmup = warmup;
  row.check = await checkPredictions(adapter, model, ctx, ref, opts.tol);
  row.configNote = adapter.describe?.(model) || undefined; // how it ran, when the adapter chose
  if (!row.check.ok) {
    row.status = 'mismatch';
    row.error = `predictions disagree with wasmdl's: max |diff| ${row.check.maxDiff.toExponential(2)}`
      + ` > ${opts.tol} (argmax agrees on ${row.check.argmaxAgree}/${row.check.n})`;
    delete row.load; delete row.warmup;
    await adapter.dispose?.(model);
    return row;
  }
  if (opts.phases.includes('infer')) {
    row.infer = await timeCalls(
      (i) => adapter.predict(model, ctx.data.sample(i), i % ctx.data.nte), opts);
  }
  if (opts.phases.includes('train') && adapter.train) {
    if (adapter.trainCheck) {
      const b = ctx.data.batch(0, ctx.manifest.batch);
      await adapter.trainStep(model, b);
      row.trainCheck = await checkPredictions(adapter, model, ctx,
                                              ctx.reference.after_step.softmax, opts.tol * 5);
    }
    row.train = await timeCalls(
      (i) => adapter.trainStep(model, ctx.data.batch(i + 1, ctx.manifest.batch)),
      { ...opts, warm: 2, kmax: 500 });
  }
  row.status = row.trainCheck && !row.trainCheck.ok ? 'train-mismatch' : 'ok';
  await adapter.dispose?.(model);
  return row;
}
