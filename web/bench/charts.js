// Charts in the paper's style: one grouped bar chart per phase, configurations on the x axis,
// one bar per framework x backend, logarithmic time axis (Chart.js, from npm).
const PHASES = [['train', 'Training time per batch of 64 (ms)'], ['load', 'Model load time (ms)'],
                ['warmup', 'Warm-up time: first inference after load (ms)'],
                ['infer', 'Inference time per sample (ms)']];
const COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d',
                '#666666', '#1f78b4', '#b2df8a', '#fb9a99', '#cab2d6', '#6a3d9a', '#ff7f00'];
const white = { id: 'white', beforeDraw: (c) => {
  const { ctx } = c; ctx.save(); ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, c.width, c.height); ctx.restore();
} };

export function drawCharts(el, rows, configs) {
  el.innerHTML = '';
  const keys = [...new Set(rows.map((r) => `${r.name} · ${r.backend}`))];
  for (const [phase, title] of PHASES) {
    const series = keys.map((k, i) => ({
      label: k, backgroundColor: COLORS[i % COLORS.length],
      data: configs.map((c) => rows.find((r) => `${r.name} · ${r.backend}` === k && r.config === c
                                            && r.status !== 'mismatch')?.[phase]?.median ?? null),
    })).filter((s) => s.data.some((v) => v != null));
    if (!series.length) continue;
    const box = document.createElement('div');
    box.className = 'chart';
    const canvas = document.createElement('canvas');
    canvas.id = `chart-${phase}`;
    canvas.dataset.phase = phase;
    box.appendChild(canvas);
    el.appendChild(box);
    new Chart(canvas, {
      type: 'bar', data: { labels: configs, datasets: series }, plugins: [white],
      options: { animation: false, responsive: true, maintainAspectRatio: false, devicePixelRatio: 2,
        plugins: { title: { display: true, text: title }, legend: { position: 'bottom',
                   labels: { boxWidth: 10, font: { size: 10 } } } },
        scales: { y: { type: 'logarithmic', title: { display: true, text: 'ms (log scale)' } } } },
    });
  }
}
