// ONNX Runtime Web 1.30 (inference only): InferenceSession.create on the .onnx file with one
// execution provider, run on a [1, 784] float32 tensor; outputs are read back to the CPU.
import { loadScript } from '../harness.js';

const DIST = 'onnxruntime-web/dist/';

export default {
  variant: 'softmax', train: false,
  async setup(backend, ctx) {
    // wasm: one thread; wasm-mt: one per core (ORT needs crossOriginIsolated for threads)
    const threads = backend === 'wasm-mt' ? Math.max(2, navigator.hardwareConcurrency || 2) : 1;
    if (threads > 1 && !self.crossOriginIsolated) {
      throw new Error('wasm-mt needs a cross-origin isolated page (COOP/COEP headers); '
        + 'this page is not (served with --no-isolation?)');
    }
    if (backend === 'wasm-mt') backend = 'wasm';
    await loadScript(ctx.vendor + DIST + `ort.${backend}.min.js`);
    ort.env.wasm.wasmPaths = ctx.vendor + DIST;
    ort.env.wasm.numThreads = threads;
    if (backend === 'webgpu' && !navigator.gpu) throw new Error('navigator.gpu is missing');
    this.backend = backend;
    return { version: ort.env.versions?.web ?? '1.30.0', backend, threads };
  },
  async load(cfg, ctx) {
    const res = await fetch(ctx.base + cfg.id + '/model.onnx', { cache: 'no-store' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    return ort.InferenceSession.create(bytes, { executionProviders: [this.backend] });
  },
  async predict(session, x) {
    const out = await session.run({ input: new ort.Tensor('float32', x, [1, x.length]) });
    const data = await out.output.getData();
    out.output.dispose?.();
    return data;
  },
  async dispose(session) { await session.release(); },
};
