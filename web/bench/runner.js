// One framework x backend in its own page: setup, then every selected configuration.
// Reports each row to the parent page (postMessage) and keeps them in window.benchRunner.
import { loadData, runConfig, withNote } from './harness.js';
import { FRAMEWORKS } from './frameworks.js';

const P = new URLSearchParams(location.search);
const root = P.get('root') || new URL('../../', location.href).pathname;
const ctx = { root, vendor: root + 'vendor/', base: P.get('models') || root + 'bench/models/' };
const opts = {
  repeats: +(P.get('repeats') || 5), budget: +(P.get('budget') || 600),
  tol: +(P.get('tol') || 2e-4), maxcall: +(P.get('maxcall') || 10000), phases: (P.get('phases') || 'load,infer,train').split(','),
};
const state = (window.benchRunner = { rows: [], done: false, error: null });
const logEl = document.getElementById('log');

function post(msg) {
  if (msg.type === 'row') state.rows.push(msg.row);
  logEl.textContent += '\n' + JSON.stringify(msg).slice(0, 300);
  if (window.parent !== window) window.parent.postMessage({ bench: true, ...msg }, '*');
}

// Bytes of this framework's own model files for a configuration (the backend's subset).
function modelBytes(entry, fw, backend) {
  const files = entry.files[fw] || {};
  const pick = fw !== 'webdnn' ? () => true
    : backend === 'webgl' ? (n) => n.includes('_webgl_4096') : (n) => n.includes('_fallback');
  return Object.entries(files).filter(([n]) => pick(n)).reduce((a, [, b]) => a + b, 0);
}

// An error's message; for a Python traceback (Pyodide), its last line, which names the error.
function errorText(e) {
  const msg = String(e && e.message ? e.message : e);
  if (!msg.includes('Traceback (most recent call last)')) return msg;
  return msg.trim().split('\n').filter((l) => l.trim()).pop().trim();
}

async function main() {
  const fw = FRAMEWORKS.find((f) => f.id === P.get('fw'));
  const backend = P.get('backend');
  if (!fw || !fw.backends[backend]) throw new Error(`runner: unknown fw/backend ${P}`);
  const manifest = await (await fetch(ctx.base + 'manifest.json', { cache: 'no-store' })).json();
  ctx.manifest = manifest;
  const ids = (P.get('configs') || 'all') === 'all' ? manifest.configs.map((c) => c.id)
    : P.get('configs').split(',');
  const base = { framework: fw.id, name: fw.name, backend };
  // A time cap per framework x backend (s; 0 = none): configurations not started when it is
  // reached are reported as skipped, so one very slow framework cannot take the whole run.
  const cap = +(P.get('cap') ?? 120) * 1000;
  let lastDone = null, started = performance.now();
  let info, adapter, setupError = null;
  try {
    ctx.data = await loadData(ctx.base, manifest.data);
    adapter = (await import(fw.module)).default;
    const t0 = performance.now();
    info = await adapter.setup(backend, ctx);
    info.setupMs = performance.now() - t0;
    started = performance.now(); // the cap counts configurations, not set-up (Pyodide: ~30 s)
    post({ type: 'setup', ...base, info });
  } catch (e) {
    setupError = `setup failed: ${errorText(e)}`;
  }
  for (const id of ids) {
    const entry = manifest.configs.find((c) => c.id === id);
    const row = { ...base, config: id, variant: adapter?.variant, note: adapter?.note, info };
    const lib = manifest.libraries[`${fw.id}/${backend}`];
    Object.assign(row, { libraryBytes: lib?.bytes, libraryGzipBytes: lib?.gzip_bytes });
    try {
      if (!entry) throw new Error(`configuration ${id} is not in the manifest`);
      row.modelBytes = modelBytes(entry, fw.id, backend);
      if (setupError) throw new Error(setupError);
      if (entry.errors?.[fw.id]) throw new Error(entry.errors[fw.id]);
      if (cap && performance.now() - started > cap) {
        Object.assign(row, { status: 'skipped', error: `time cap: this framework used its `
          + `${cap / 1000} s (last configuration done: ${lastDone}); run with cap=0 for all` });
        post({ type: 'row', row });
        continue;
      }
      ctx.reference = await (await fetch(ctx.base + id + '/reference.json')).json();
      const { configNote, ...result } = await runConfig(adapter, entry, ctx, opts);
      Object.assign(row, result);
      row.note = withNote(row.note, configNote);
      lastDone = id;
    } catch (e) {
      Object.assign(row, { status: 'failed', error: errorText(e) });
    }
    post({ type: 'row', row });
  }
  state.done = true;
  post({ type: 'done', ...base });
}

main().catch((e) => {
  state.error = String(e && e.stack ? e.stack : e);
  state.done = true;
  post({ type: 'error', error: state.error });
});
