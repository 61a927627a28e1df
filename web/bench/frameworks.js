// The benchmark's rows: every framework x backend, with its adapter module or the reason it
// cannot run here. `cpu: true` rows form the default (CPU) run.
export const FRAMEWORKS = [
  { id: 'wasmdl', name: 'wasmdl', module: './runners/wasmdl.js', backends: {
    numpy: { cpu: true },
    webgpu: {},
    webgl: {},
  } },
  { id: 'tfjs', name: 'TensorFlow.js 4.22', module: './runners/tfjs.js', backends: {
    cpu: { cpu: true }, wasm: { cpu: true }, 'wasm-mt': { cpu: true }, webgl: {}, webgpu: {} } },
  { id: 'convnetjs', name: 'ConvNetJS 0.3.0', module: './runners/convnetjs.js',
    backends: { cpu: { cpu: true } } },
  { id: 'brainjs', name: 'brain.js 1.6.1', module: './runners/brainjs.js',
    backends: { cpu: { cpu: true } } },
  { id: 'synaptic', name: 'synaptic 1.1.4', module: './runners/synaptic.js',
    backends: { cpu: { cpu: true } } },
  { id: 'mind', name: 'Mind 1.0.1', module: './runners/mind.js',
    backends: { cpu: { cpu: true } } },
  { id: 'kerasjs', name: 'Keras.js 1.0.3', module: './runners/kerasjs.js',
    backends: { cpu: { cpu: true }, webgl: {} } },
  { id: 'webdnn', name: 'WebDNN 1.2.11', module: './runners/webdnn.js', backends: {
    fallback: { cpu: true }, webgl: {},
    webassembly: { cpu: true, unavailable: 'from manifest' },
    webgpu: { unavailable: 'from manifest' } } },
  { id: 'ort', name: 'ONNX Runtime Web 1.30', module: './runners/ort.js', backends: {
    wasm: { cpu: true }, 'wasm-mt': { cpu: true }, webgl: {}, webgpu: {} } },
  { id: 'chainer', name: 'Chainer 5.4 (WgPy)', module: './runners/chainer.js', backends: {
    numpy: { cpu: true }, webgl: {}, webgpu: {} } },
  { id: 'paddlejs', name: 'Paddle.js 2.2', module: './runners/paddlejs.js',
    backends: { webgl: {} } },
];

// "tfjs:cpu,ort:wasm" | "cpu" (default CPU rows) | "all" -> [{fw, backend, spec}]
export function selectRows(param) {
  const rows = [];
  for (const fw of FRAMEWORKS) {
    for (const [backend, spec] of Object.entries(fw.backends)) rows.push({ fw, backend, spec });
  }
  if (!param || param === 'cpu') return rows.filter((r) => r.spec.cpu);
  if (param === 'all') return rows;
  const want = param.split(',').map((s) => s.trim()).filter(Boolean);
  return rows.filter((r) => want.some((w) => w === r.fw.id || w === `${r.fw.id}:${r.backend}`));
}
