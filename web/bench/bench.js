// The benchmark page: pick frameworks x backends x configurations (form or URL), run each
// framework x backend in a fresh iframe (runner.html), collect rows, draw table and charts,
// export JSON/CSV. window.bench holds the state for automation (python -m bench).
import { FRAMEWORKS, selectRows } from './frameworks.js';
import { drawCharts } from './charts.js';
import { renderTable, toCSV } from './table.js';
import { DEFAULTS, LiveFrame, timePhase } from './interleave.js';
import { withNote } from './harness.js';

const PREPARE_TIMEOUT_MS = 600000;

const P = new URLSearchParams(location.search);
const MODELS = P.get('models') || '../bench/models/';
const bench = (window.bench = { status: 'idle', total: 0, completed: 0, rows: [], env: {},
                                current: null, params: Object.fromEntries(P) });
const $ = (s) => document.querySelector(s);
const FIELDS = ['protocol', 'repeats', 'budget', 'tol', 'phases', 'order', 'rounds'];

async function gpuEnv() {
  const env = { userAgent: navigator.userAgent, date: new Date().toISOString(),
                hardwareConcurrency: navigator.hardwareConcurrency,
                crossOriginIsolated: self.crossOriginIsolated };
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
    env.webgl2 = gl ? (ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL)
                         : gl.getParameter(gl.RENDERER)) : null;
  } catch (e) { env.webgl2 = `error: ${e}`; }
  try {
    const a = navigator.gpu && (await navigator.gpu.requestAdapter());
    env.webgpu = a ? { ...Object.fromEntries(['vendor', 'architecture', 'device', 'description']
      .map((k) => [k, a.info?.[k]])), fallback: a.info?.isFallbackAdapter ?? null } : null;
  } catch (e) { env.webgpu = `error: ${e}`; }
  return env;
}

function buildForm(manifest) {
  const sel = new Set(selectRows(P.get('fw') || 'cpu').map((r) => `${r.fw.id}:${r.backend}`));
  $('#rows').innerHTML = selectRows('all').map(({ fw, backend }) => {
    const k = `${fw.id}:${backend}`;
    return `<label><input type="checkbox" name="fw" value="${k}" ${sel.has(k) ? 'checked' : ''}>
      ${fw.name} · ${backend}</label>`;
  }).join('');
  const want = (P.get('configs') || 'all').split(',');
  $('#configs').innerHTML = manifest.configs.map((c) => `<label><input type="checkbox"
    name="cfg" value="${c.id}" ${want.includes('all') || want.includes(c.id) ? 'checked' : ''}>
    ${c.id} (${c.params.toLocaleString()} params)</label>`).join('');
  for (const n of FIELDS) if (P.get(n)) $(`[name=${n}]`).value = P.get(n);
  document.querySelectorAll('[data-sel]').forEach((b) => b.addEventListener('click', () => {
    const keep = new Set(selectRows(b.dataset.sel).map((r) => `${r.fw.id}:${r.backend}`));
    document.querySelectorAll('[name=fw]').forEach((i) => {
      i.checked = b.dataset.sel !== 'none' && keep.has(i.value);
    });
  }));
}

function formParams() {
  const checked = (n) => [...document.querySelectorAll(`[name=${n}]:checked`)].map((i) => i.value);
  const q = new URLSearchParams();
  q.set('fw', checked('fw').join(','));
  q.set('configs', checked('cfg').join(','));
  for (const n of FIELDS) q.set(n, $(`[name=${n}]`).value);
  return q;
}

function addRow(row) {
  row.elapsedMs = performance.now() - bench.t0;
  bench.rows.push(row);
  bench.completed++;
  $('#status').textContent = `running ${bench.current || ''}: ${bench.completed}/${bench.total}`;
  renderTable($('#table'), bench.rows);
}

// Run one framework x backend in an iframe; resolve when it reports done or stalls. Rows go
// to `add` (the table, or a round's collection).
function runFrame({ fw, backend }, q, configs, stallMs, add = addRow) {
  return new Promise((resolve) => {
    const seen = new Set();
    const url = `runner.html?fw=${fw.id}&backend=${backend}&configs=${configs.join(',')}`
      + `&repeats=${q.get('repeats')}&budget=${q.get('budget')}&tol=${q.get('tol')}`
      + `&phases=${q.get('phases')}&maxcall=${P.get('maxcall') || 10000}&cap=${P.get('cap') ?? 120}&models=${encodeURIComponent(new URL(MODELS, location.href).pathname)}`;
    const frame = document.createElement('iframe');
    let timer = null;
    const finish = (why) => {
      clearTimeout(timer);
      window.removeEventListener('message', onMsg);
      for (const c of configs.filter((c) => !seen.has(c))) {
        add({ framework: fw.id, name: fw.name, backend, config: c, status: 'failed', error: why });
      }
      frame.remove();
      resolve();
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(`no progress for ${stallMs / 1000} s (stalled or hung)`),
                         stallMs);
    };
    function onMsg(ev) {
      if (ev.source !== frame.contentWindow || !ev.data?.bench) return;
      arm();
      if (ev.data.type === 'row') { seen.add(ev.data.row.config); add(ev.data.row); }
      if (ev.data.type === 'done') finish('runner ended early');
      if (ev.data.type === 'error') finish(`runner error: ${ev.data.error}`);
    }
    window.addEventListener('message', onMsg);
    arm();
    frame.src = url;
    $('#frame').appendChild(frame);
  });
}

// One row from the same configuration's rounds: a failed round fails the row; otherwise each
// phase takes the statistics of its median round (by median; odd round counts pick the
// middle one) and lists every round's median in `rounds`.
function medianRound(rows) {
  const bad = rows.find((r) => r.status !== 'ok');
  if (bad) return { ...bad, error: `${bad.error || bad.status} (in one of ${rows.length} rounds)` };
  const out = { ...rows[0], rounds: rows.length };
  for (const phase of ['load', 'warmup', 'infer', 'train']) {
    const stats = rows.map((r) => r[phase]).filter(Boolean);
    if (!stats.length) continue;
    const sorted = stats.slice().sort((a, b) => a.median - b.median);
    out[phase] = { ...sorted[(sorted.length - 1) >> 1], rounds: stats.map((x) => x.median) };
  }
  return out;
}

// The interleaved protocol (interleave.js): live frames, stable warm-up, rotated rounds.
async function runInterleaved(available, configs, q) {
  const o = { ...DEFAULTS };
  for (const n of Object.keys(DEFAULTS)) if (P.get(n)) o[n] = +P.get(n);
  const tol = +(q.get('tol') || 2e-4);
  const phases = (q.get('phases') || 'load,infer,train').split(',');
  const models = new URL(MODELS, location.href).pathname;
  const ref = P.get('ref') || 'wasmdl:numpy';
  bench.protocol = { name: 'interleaved', ...o, ref };
  const base = (f) => ({ framework: f.row.fw.id, name: f.row.fw.name, backend: f.row.backend });
  for (const c of configs) {
    // Fresh frames (each its own renderer process) for every configuration: one model per
    // page, as users have it. A frame kept for the whole grid carried its JIT's history from
    // one network to the next: brain.js trained d2_w128 in 110 ms per batch after four other
    // networks in the same frame, 40 ms in a fresh one. The likely cause is V8 giving up on
    // optimizing a function that each new network shape deoptimized; not confirmed.
    const frames = [];
    for (const r of available) {
      const f = new LiveFrame(r, $('#frame'), models, o.callTimeoutMs);
      bench.current = `${c}: setting up ${f.key}`;
      try {
        Object.assign(f, await f.call('setup', {}, 300000));
        frames.push(f);
      } catch (e) {
        addRow({ ...base(f), config: c, status: 'failed', error: `setup failed: ${e.message}` });
        f.close();
      }
    }
    const entry = bench.manifest.configs.find((x) => x.id === c);
    const rows = new Map(), ready = [];
    for (const f of frames) {
      const lib = bench.manifest.libraries[`${f.row.fw.id}/${f.row.backend}`];
      const row = { ...base(f), config: c, depth: entry?.depth, width: entry?.width,
                    params: entry?.params, variant: f.variant, note: f.note, info: f.info,
                    frame: new URL(f.frame.src).origin,
                    libraryBytes: lib?.bytes, libraryGzipBytes: lib?.gzip_bytes,
                    modelBytes: modelBytes(entry, f.row.fw.id, f.row.backend) };
      rows.set(f.key, row);
      bench.current = `${f.key} ${c}: load and check`;
      try {
        // load + check may take a minute for the slowest libraries (synaptic d8_w256: ~20 s
        // in fromJSON)
        const p = await f.call('prepare', { config: c, tol }, PREPARE_TIMEOUT_MS);
        Object.assign(row, { load: { median: p.load, n: 1 }, warmup: { median: p.warmup, n: 1,
                             first: p.warmup }, check: p.check, trainCheck: p.trainCheck });
        row.note = withNote(row.note, p.note);
        if (!p.check.ok) {
          row.status = 'mismatch';
          row.error = `predictions disagree with wasmdl's: max |diff| `
            + `${p.check.maxDiff.toExponential(2)} > ${tol} (argmax agrees on `
            + `${p.check.argmaxAgree}/${p.check.n})`;
          delete row.load; delete row.warmup;
        } else {
          row.status = p.trainCheck && !p.trainCheck.ok ? 'train-mismatch' : 'ok';
          ready.push(f);
        }
      } catch (e) { Object.assign(row, { status: 'failed', error: e.message }); }
    }
    for (const phase of ['infer', 'train'].filter((x) => phases.includes(x))) {
      const group = ready.filter((f) => phase !== 'train' || f.train);
      bench.current = `${c} ${phase}: warm-up, then rounds`;
      const t = await timePhase(group, phase, o, ref, (n) => {
        bench.current = `${c} ${phase}: round ${n}`;
      });
      for (const f of group) {
        const row = rows.get(f.key), s = t.summary[f.key];
        if (t.errors[f.key]) {
          Object.assign(row, { status: 'failed', error: `${phase}: ${t.errors[f.key]}` });
        }
        if (s) {
          row[phase] = { ...s, k: t.k[f.key], warm: t.warm[f.key], first: t.warm[f.key]?.first };
        }
        if (phase === 'train' && t.warm[f.key]) row.firstStepMs = t.warm[f.key].first;
      }
    }
    for (const f of ready) await f.call('release').catch(() => {});
    for (const f of frames) f.close();
    for (const row of rows.values()) addRow(row);
  }
}

// Bytes of a framework's own model files for a configuration (the backend's subset).
function modelBytes(entry, fw, backend) {
  const files = entry?.files?.[fw] || {};
  const pick = fw !== 'webdnn' ? () => true
    : backend === 'webgl' ? (n) => n.includes('_webgl_4096') : (n) => n.includes('_fallback');
  return Object.entries(files).filter(([n]) => pick(n)).reduce((a, [, b]) => a + b, 0);
}

async function run(q) {
  history.replaceState(null, '', '?' + q.toString() + (P.get('autorun') ? '&autorun=1' : ''));
  const manifest = bench.manifest;
  const configs = (q.get('configs') || 'all') === 'all' ? manifest.configs.map((c) => c.id)
    : q.get('configs').split(',').filter(Boolean);
  const rows = selectRows(q.get('fw') || 'cpu');
  Object.assign(bench, { status: 'running', rows: [], completed: 0, configs, t0: performance.now(),
                         total: rows.length * configs.length, started: new Date().toISOString() });
  const stallMs = +(P.get('stall') || 180) * 1000;
  const available = [];
  for (const r of rows) {
    let why = r.spec.unavailable;
    if (why === 'from manifest') why = manifest.unavailable[`${r.fw.id}/${r.backend}`];
    if (!why) { available.push(r); continue; }
    for (const c of configs) {
      addRow({ framework: r.fw.id, name: r.fw.name, backend: r.backend, config: c,
               status: 'unavailable', error: why });
    }
  }
  if ((q.get('protocol') || 'interleaved') === 'interleaved') {
    await runInterleaved(available, configs, q);
    Object.assign(bench, { status: 'done', current: null, finished: new Date().toISOString() });
    $('#status').textContent = `done: ${bench.rows.length} rows`;
    drawCharts($('#charts'), bench.rows, configs);
    $('#json').disabled = $('#csv').disabled = false;
    return;
  }
  // protocol=frames (the old per-framework mode): a fresh runner page per framework.
  // order=config: one configuration at a time, every framework on it (a fresh runner each, so
  // each pays its set-up again), `rounds` times, the framework order reversed every other
  // round so a drifting clock favours no one; each phase reports its median round.
  // order=framework: each framework runs all configurations once.
  if (q.get('order') === 'config') {
    const rounds = Math.max(1, +(q.get('rounds') || 1));
    for (const [i, c] of configs.entries()) {
      const got = [];
      for (let k = 0; k < rounds; k++) {
        const group = (i * rounds + k) % 2 ? available.slice().reverse() : available;
        for (const r of group) {
          bench.current = `${r.fw.id}:${r.backend} ${c} round ${k + 1}/${rounds}`;
          await runFrame(r, q, [c], stallMs, rounds > 1 ? (row) => got.push(row) : addRow);
        }
      }
      for (const r of rounds > 1 ? available : []) {
        addRow(medianRound(got.filter((x) => x.framework === r.fw.id && x.backend === r.backend)));
      }
    }
  } else {
    for (const r of available) {
      bench.current = `${r.fw.id}:${r.backend}`;
      await runFrame(r, q, configs, stallMs);
    }
  }
  Object.assign(bench, { status: 'done', current: null, finished: new Date().toISOString() });
  $('#status').textContent = `done: ${bench.rows.length} rows`;
  drawCharts($('#charts'), bench.rows, configs);
  $('#json').disabled = $('#csv').disabled = false;
}

function download(name, text, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  a.click();
}

export function exportJSON() {
  return JSON.stringify({ env: bench.env, params: bench.params, protocol: bench.protocol,
                          started: bench.started,
                          finished: bench.finished, rows: bench.rows,
                          libraries: bench.manifest.libraries }, null, 1);
}
window.benchExport = { json: exportJSON, csv: () => toCSV(bench.rows) };

async function main() {
  bench.env = await gpuEnv();
  $('#env').textContent = JSON.stringify(bench.env);
  bench.manifest = await (await fetch(MODELS + 'manifest.json', { cache: 'no-store' })).json();
  buildForm(bench.manifest);
  $('#form').addEventListener('submit', (e) => { e.preventDefault(); run(formParams()); });
  $('#json').addEventListener('click', () => download('bench.json', exportJSON(), 'application/json'));
  $('#csv').addEventListener('click', () => download('bench.csv', toCSV(bench.rows), 'text/csv'));
  bench.status = 'ready';
  if (P.get('autorun')) run(formParams());
}

main().catch((e) => { bench.status = 'error'; bench.error = String(e); $('#status').textContent = e; });
