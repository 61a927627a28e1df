// The results table (grouped by configuration) and its CSV form.
const PHASES = [['train', 'train ms/batch'], ['load', 'load ms'], ['warmup', 'warm-up ms'],
                ['infer', 'infer ms/sample']];

export const fmt = (v) => (v == null || !Number.isFinite(v) ? '' : v >= 100 ? v.toFixed(0)
  : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toPrecision(2));
const kb = (b) => (b == null ? '' : (b / 1024).toFixed(b < 10240 ? 1 : 0));
const cell = (s) => (s ? `${fmt(s.median)}<br><small>${fmt(s.min)}–${fmt(s.max)}</small>` : '');
const esc = (s) => String(s ?? '').replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c]));

export function renderTable(table, rows) {
  table.tHead.innerHTML = '<tr><th class="l">config</th><th class="l">framework</th>'
    + '<th class="l">backend</th><th class="l">status</th>'
    + PHASES.map(([, t]) => `<th>${t}<br><small>median, min–max</small></th>`).join('')
    + '<th>check max|Δ|</th><th>model KiB</th><th>library KiB (gzip)</th><th class="l">note</th></tr>';
  const sorted = [...rows].sort((a, b) => (a.config < b.config ? -1 : a.config > b.config ? 1 : 0));
  table.tBodies[0].innerHTML = sorted.map((r) => `<tr class="${r.status}">
    <td class="l">${r.config}</td><td class="l">${esc(r.name)}</td><td class="l">${r.backend}</td>
    <td class="l">${r.status}</td>${PHASES.map(([k]) => `<td>${cell(r[k])}</td>`).join('')}
    <td>${r.check ? r.check.maxDiff.toExponential(1) : ''}</td><td>${kb(r.modelBytes)}</td>
    <td>${kb(r.libraryBytes)} (${kb(r.libraryGzipBytes)})</td>
    <td class="l">${esc(r.error || '')}${r.error && r.note ? '<br>' : ''}${esc(r.note || '')}</td>
    </tr>`).join('');
}

export function toCSV(rows) {
  const head = ['config', 'depth', 'width', 'framework', 'backend', 'status'];
  for (const [k] of PHASES) head.push(`${k}_median_ms`, `${k}_min_ms`, `${k}_max_ms`, `${k}_q1_ms`, `${k}_q3_ms`, `${k}_n`);
  head.push('warmup_first_ms', 'check_max_abs_diff', 'check_argmax_agree', 'train_check_max_abs_diff',
            'model_bytes', 'library_bytes', 'library_gzip_bytes', 'variant', 'note', 'error');
  const q = (v) => (v == null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : v);
  const lines = [head.join(',')];
  for (const r of rows) {
    const vals = [r.config, r.depth, r.width, r.framework, r.backend, r.status];
    for (const [k] of PHASES) {
      const s = r[k];
      vals.push(...(s ? [s.median, s.min, s.max, s.q1, s.q3, s.n] : ['', '', '', '', '', '']));
    }
    vals.push(r.warmup?.first, r.check?.maxDiff, r.check?.argmaxAgree, r.trainCheck?.maxDiff,
              r.modelBytes, r.libraryBytes, r.libraryGzipBytes, r.variant, r.note, r.error);
    lines.push(vals.map(q).join(','));
  }
  return lines.join('\n') + '\n';
}
