// wasmdl shim: device verbs only for WebGPU and WebGL2 (no model logic lives in JavaScript).
//
// Python (src/wasmdl/backend/webgpu.py) records commands into a *plan* and sends the whole
// batch in ONE call, `run(packet)`, which encodes every dispatch into one command encoder and
// one queue.submit. Buffers are small integer ids in a JS-side table; Python owns the id space
// and the size-bucketed pool, so allocating and freeing cost no crossing at all.
//
// Packet layout (one Uint8Array, little-endian 32-bit words):
//   header [nCmdWords, nParamWords, nDataWords, 0]
//   cmd words    : a stream of commands (opcodes below)
//   param words  : u32/f32 bit patterns, one 256-byte-aligned region per dispatch
//   data words   : host data for WRITE commands
// Commands:
//   ALLOC    1 id nbytes                  create a storage buffer (nbytes already bucketed)
//   DESTROY  2 id                         destroy a buffer (pool trimming)
//   WRITE    3 id dataWordOffset nWords   upload host data (queued before this batch's submit)
//   DISPATCH 4 pipe paramOff paramWords gx gy gz nbuf id...   binding 0 = params, 1.. = buffers
//   COPY     5 src dst nbytes             buffer-to-buffer copy, in order with the dispatches

const OP_ALLOC = 1, OP_DESTROY = 2, OP_WRITE = 3, OP_DISPATCH = 4, OP_COPY = 5;
const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01; // GPUBufferUsage

export const state = {
  device: null,
  info: null,
  buffers: new Map(), // id -> GPUBuffer
  pipelines: [], // pipeline id -> {pipeline, layout, name, file}
  paramBuf: null,
  paramBytes: 0,
  lost: null, // message once the device is lost
  errors: [], // validation / compile errors waiting to be reported
  scopes: [], // error-scope promises of submitted batches, settled before a read returns
  stats: { calls: 0, submits: 0, dispatches: 0, reads: 0, compiles: 0, compile_ms: 0 },
};

function fail(tag, message) {
  const e = new Error(`[${tag}] ${message}`);
  e.name = "WasmdlWebGPUError";
  lastFailure = e.message;
  return e;
}

// The text of the last failure made by fail()/glFail(): Python asks for it when the exception
// that crossed the FFI arrived without its message (Pyodide can hand over a bare SystemError).
let lastFailure = null;

/** The last failure's "[tag] message" (or null), cleared by the call. */
export function lastFailureText() {
  const m = lastFailure;
  lastFailure = null;
  return m;
}

function check() {
  if (state.lost !== null)
    throw fail("device-lost", `the WebGPU device was lost (${state.lost}); tensors on it are gone`);
  if (state.device === null) throw fail("no-device", "WebGPU is not initialised; call init() first");
  if (state.errors.length) {
    // A WGSL compile error explains every error cascading from it: report it alone.
    const compileErrors = state.errors.filter((m) => m.startsWith("WGSL compile error"));
    const msg = (compileErrors.length ? compileErrors : state.errors).join("\n");
    state.errors = [];
    throw fail("gpu-error", msg);
  }
}

/** Request adapter and device; returns {adapter, limits}. Throws [no-adapter] when none. */
export async function init() {
  if (state.device !== null && state.lost === null) return describe();
  if (!globalThis.navigator || !navigator.gpu)
    throw fail("no-adapter", "this browser has no navigator.gpu (WebGPU is not available)");
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw fail("no-adapter", "navigator.gpu.requestAdapter() returned null");
  const want = ["maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupSizeX", "maxStorageBuffersPerShaderStage"];
  const requiredLimits = {};
  for (const k of want) requiredLimits[k] = adapter.limits[k];
  const device = await adapter.requestDevice({ requiredLimits, label: "wasmdl" });
  Object.assign(state, { device, lost: null, errors: [], buffers: new Map(), pipelines: [] });
  state.paramBuf = null;
  state.paramBytes = 0;
  const info = adapter.info || {};
  state.info = { vendor: info.vendor || "", architecture: info.architecture || "",
    description: info.description || "", isFallbackAdapter: !!adapter.isFallbackAdapter };
  device.lost.then((e) => {
    if (state.device === device) state.lost = `${e.reason}: ${e.message}`;
  });
  device.addEventListener("uncapturederror", (ev) => state.errors.push(ev.error.message));
  return describe();
}

function describe() {
  const l = state.device.limits;
  const limits = {};
  for (const k of ["maxBufferSize", "maxStorageBufferBindingSize", "maxComputeWorkgroupStorageSize",
    "maxComputeInvocationsPerWorkgroup", "maxComputeWorkgroupsPerDimension",
    "maxStorageBuffersPerShaderStage", "minStorageBufferOffsetAlignment"]) limits[k] = l[k];
  return JSON.stringify({ adapter: state.info, limits });
}

/** Compile WGSL into pipeline `pid`; errors are reported (with kernel, file, line) on the next call. */
export function compile(pid, name, file, source, entry) {
  check();
  state.stats.calls++;
  state.stats.compiles++;
  const device = state.device;
  const start = performance.now();
  const module = device.createShaderModule({ label: `${name} (${file})`, code: source });
  device.pushErrorScope("validation");
  const pipeline = device.createComputePipeline({
    label: name, layout: "auto", compute: { module, entryPoint: entry } });
  const lines = source.split("\n");
  const compileErrors = module.getCompilationInfo().then((info) => {
    const errs = info.messages.filter((m) => m.type === "error").map((m) =>
      `WGSL compile error in kernel '${name}' (${file}) line ${m.lineNum}:${m.linePos}: ` +
      `${m.message}\n    ${lines[m.lineNum - 1] || ""}`);
    return errs;
  });
  const scope = device.popErrorScope();
  state.pending = Promise.all([state.pending, compileErrors, scope]).then(([, errs, err]) => [errs, err]).then(([errs, err]) => {
    if (errs.length) state.errors.unshift(...errs);
    else if (err) state.errors.push(`pipeline '${name}' (${file}): ${err.message}`);
  });
  state.pipelines[pid] = { pipeline, layout: pipeline.getBindGroupLayout(0), name, file };
  state.stats.compile_ms += performance.now() - start; // the call only: Chrome compiles lazily
}

/**
 * Compile many pipelines at once with createComputePipelineAsync, in parallel (warm-up).
 * `list` is a JSON string of [pid, name, file, source, entry] rows; resolves to a JSON string
 * {ms: [[pid, name, milliseconds], ...], wall_ms}. A failure is reported like compile()'s.
 */
export async function compileMany(list) {
  check();
  state.stats.calls++;
  const device = state.device;
  const t0 = performance.now();
  const one = async ([pid, name, file, source, entry]) => {
    const start = performance.now();
    const module = device.createShaderModule({ label: `${name} (${file})`, code: source });
    try {
      const pipeline = await device.createComputePipelineAsync({
        label: name, layout: "auto", compute: { module, entryPoint: entry } });
      state.pipelines[pid] = { pipeline, layout: pipeline.getBindGroupLayout(0), name, file };
    } catch (e) {
      const info = await module.getCompilationInfo();
      const lines = source.split("\n");
      const errs = info.messages.filter((m) => m.type === "error").map((m) =>
        `WGSL compile error in kernel '${name}' (${file}) line ${m.lineNum}:${m.linePos}: ` +
        `${m.message}\n    ${lines[m.lineNum - 1] || ""}`);
      state.errors.unshift(...(errs.length ? errs : [`pipeline '${name}' (${file}): ${e.message}`]));
    }
    const ms = performance.now() - start;
    state.stats.compiles++;
    state.stats.compile_ms += ms;
    return [pid, name, ms];
  };
  const ms = await Promise.all(JSON.parse(list).map(one));
  check();
  return JSON.stringify({ ms, wall_ms: performance.now() - t0 });
}

function ensureParams(nbytes) {
  if (state.paramBytes >= nbytes) return;
  if (state.paramBuf) state.paramBuf.destroy();
  state.paramBytes = Math.max(nbytes, 2 * state.paramBytes, 65536);
  state.paramBuf = state.device.createBuffer({
    label: "wasmdl params", size: state.paramBytes, usage: STORAGE | COPY_DST });
}

function buffer(id) {
  const b = state.buffers.get(id);
  if (b === undefined) throw fail("bad-buffer", `buffer id ${id} does not exist`);
  return b;
}

/** Decode one packet and submit it: the only per-batch crossing. */
export function run(packet) {
  check();
  state.stats.calls++;
  const words = new Uint32Array(packet.buffer, packet.byteOffset, packet.byteLength >> 2);
  const nCmd = words[0], nParam = words[1];
  const device = state.device;
  device.pushErrorScope("validation");
  try {
    encode(packet, words, nCmd, nParam);
  } finally {
    state.scopes.push(device.popErrorScope().then((e) => { if (e) state.errors.push(e.message); }));
  }
}

function encode(packet, words, nCmd, nParam) {
  const device = state.device;
  const cmd = words.subarray(4, 4 + nCmd);
  const pBase = 4 + nCmd, dBase = pBase + nParam;
  if (nParam) {
    ensureParams(nParam * 4);
    device.queue.writeBuffer(state.paramBuf, 0, packet.buffer, packet.byteOffset + pBase * 4, nParam * 4);
  }
  let encoder = null, pass = null, nDispatch = 0;
  const endPass = () => { if (pass) { pass.end(); pass = null; } };
  for (let i = 0; i < nCmd;) {
    const op = cmd[i];
    if (op === OP_DISPATCH) {
      const [pid, pOff, pWords, gx, gy, gz, nbuf] = cmd.subarray(i + 1, i + 8);
      const p = state.pipelines[pid];
      const entries = [{ binding: 0, resource: { buffer: state.paramBuf, offset: pOff * 4, size: pWords * 4 } }];
      for (let k = 0; k < nbuf; k++) entries.push({ binding: k + 1, resource: { buffer: buffer(cmd[i + 8 + k]) } });
      if (!encoder) encoder = device.createCommandEncoder({ label: "wasmdl batch" });
      if (!pass) pass = encoder.beginComputePass();
      pass.setPipeline(p.pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: p.layout, entries }));
      pass.dispatchWorkgroups(gx, gy, gz);
      nDispatch++;
      i += 8 + nbuf;
    } else if (op === OP_ALLOC) {
      state.buffers.set(cmd[i + 1], device.createBuffer({ size: cmd[i + 2], usage: STORAGE | COPY_SRC | COPY_DST }));
      i += 3;
    } else if (op === OP_WRITE) {
      device.queue.writeBuffer(buffer(cmd[i + 1]), 0, packet.buffer,
        packet.byteOffset + (dBase + cmd[i + 2]) * 4, cmd[i + 3] * 4);
      i += 4;
    } else if (op === OP_DESTROY) {
      const b = state.buffers.get(cmd[i + 1]);
      if (b) { b.destroy(); state.buffers.delete(cmd[i + 1]); }
      i += 2;
    } else if (op === OP_COPY) {
      if (!encoder) encoder = device.createCommandEncoder({ label: "wasmdl batch" });
      endPass();
      encoder.copyBufferToBuffer(buffer(cmd[i + 1]), 0, buffer(cmd[i + 2]), 0, cmd[i + 3]);
      i += 4;
    } else {
      throw fail("bad-plan", `unknown opcode ${op} at word ${i}`);
    }
  }
  endPass();
  if (encoder) {
    device.queue.submit([encoder.finish()]);
    state.stats.submits++;
    state.stats.dispatches += nDispatch;
  }
}

/** Run a packet (may be empty), then copy buffer `id` to the host: resolves to a Uint8Array. */
export async function read(packet, id, nbytes) {
  if (packet) run(packet);
  else { check(); state.stats.calls++; }
  state.stats.reads++;
  const device = state.device;
  const size = Math.max(4, (nbytes + 3) & ~3);
  const staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder({ label: "wasmdl read" });
  encoder.copyBufferToBuffer(buffer(id), 0, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  state.stats.submits++;
  try {
    await staging.mapAsync(1);
  } catch (e) {
    await settle();
    check();
    throw fail("read-failed", `reading buffer ${id} failed: ${e.message}`);
  }
  const out = new Uint8Array(staging.getMappedRange().slice(0, nbytes));
  staging.unmap();
  staging.destroy();
  await settle();
  check();
  return out;
}

// Wait until every error of the work submitted so far is known (compile info, error scopes).
async function settle() {
  const scopes = state.scopes;
  state.scopes = [];
  await Promise.all([state.pending, ...scopes]);
}

/** Counters of crossings and GPU work since the last reset: a JSON string. */
export function stats(reset) {
  const pipelines = state.pipelines.filter((p) => p).length;
  const s = JSON.stringify({ ...state.stats, buffers: state.buffers.size, pipelines });
  if (reset) for (const k in state.stats) state.stats[k] = 0;
  return s;
}

/** Release every buffer and pipeline (used by tests and when switching away). */
export function reset() {
  for (const b of state.buffers.values()) b.destroy();
  state.buffers.clear();
  state.errors = [];
}

/** Simulate a fault: destroy the device (tests use this to check device-lost handling). */
export function destroyDevice() {
  if (state.device) state.device.destroy();
}

// ===================================================================================== WebGL2
// The WebGL2 backend (src/wasmdl/backend/webgl.py) uses the same pattern: Python owns texture
// ids and the pool, records commands into a packet and sends a batch in ONE call, glRun(packet,
// programs). A tensor is one 2-D texture (R32F for float32, R32I for int32/bool), flat element i
// at texel (i & (w-1), i >> log2 w); every kernel is a fragment shader drawn over the output's
// texels (kernels/glsl/). The packet's commands and parameters name textures by id only, so a
// recorded list of draws can be replayed with just its upload data renewed.
//
// Packet layout (one Int32Array-compatible buffer, little-endian 32-bit words):
//   header [nCmdWords, nParamWords, nDataWords, 0] | cmd words | param words | data words
// Commands:
//   ALLOC  1 id w h fmt                   create a w x h texture (fmt 0: R32F, 1: R32I,
//                                         2: RGBA32F, packed operands inside a kernel, 3 / 4:
//                                         a 2-D array of 4 / 8 RGBA32F layers, drawn as that
//                                         many targets)
//   DELETE 2 id                           delete a texture (pool trimming)
//   WRITE  3 id dataWordOffset rows       upload rows * w words into the texture's first rows
//   DRAW   4 prog pOff pWords n nout out... ntex id...  draw kernel `prog` over n elements into
//                                         nout outputs of one geometry (more than one: render
//                                         targets 0.., e.g. an optimizer's p, m, v), inputs bound
//                                         to texture units 0.. in order
// `programs` (null or a JSON string of [[pid, name, file, source], ...]) are the shaders new in
// this batch: all are compiled and linked first, so KHR_parallel_shader_compile can overlap them.

const GL_ALLOC = 1, GL_DELETE = 2, GL_WRITE = 3, GL_DRAW = 4;
const VERTEX = `#version 300 es
void main() {  // one triangle covering the viewport, no vertex buffers
  vec2 q = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(q * 2.0 - 1.0, 0.0, 1.0);
}`;

export const gls = {
  gl: null,
  canvas: null,
  info: null,
  textures: new Map(), // id -> {tex, fb, w, h, lw, fmt}
  programs: [], // pid -> {prog, name, file, fs, loc: {n, lw, p}, linked}
  vertex: null,
  parallel: null,
  readFormat: [null, null], // per fmt: [format, type, channels] readPixels accepts
  lost: null,
  profile: null, // kernel name -> [draws, ms] while profiling (glProfile(true))
  stats: { calls: 0, draws: 0, uploads: 0, reads: 0, compiles: 0, compile_ms: 0, batches: 0 },
};

function glFail(tag, message) {
  const e = new Error(`[${tag}] ${message}`);
  e.name = "WasmdlWebGLError";
  lastFailure = e.message;
  return e;
}

function glCheck() {
  const gl = gls.gl;
  if (gl === null) throw glFail("no-context", "WebGL2 is not initialised; call glInit() first");
  if (gls.lost !== null || gl.isContextLost()) {
    gls.lost = gls.lost || "isContextLost() is true";
    throw glFail("context-lost", `the WebGL2 context was lost (${gls.lost}) with ${gls.textures.size} ` +
      "textures");
  }
}

/** Create the WebGL2 context (an OffscreenCanvas: works in workers too); returns its limits. */
export function glInit() {
  if (gls.gl !== null && gls.lost === null && !gls.gl.isContextLost()) return glDescribe();
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(1, 1)
    : document.createElement("canvas");
  const gl = canvas.getContext("webgl2", { alpha: false, antialias: false, depth: false,
    stencil: false, preserveDrawingBuffer: false, powerPreference: "high-performance" });
  if (!gl) throw glFail("no-webgl2", "getContext('webgl2') returned null (WebGL2 is not available)");
  if (!gl.getExtension("EXT_color_buffer_float"))
    throw glFail("no-float", "EXT_color_buffer_float is missing: float32 textures cannot be rendered");
  canvas.addEventListener("webglcontextlost", (ev) => {
    ev.preventDefault();
    if (gls.gl === gl) gls.lost = "webglcontextlost event";
  });
  Object.assign(gls, { gl, canvas, lost: null, textures: new Map(), programs: [], mrt: null });
  gls.parallel = gl.getExtension("KHR_parallel_shader_compile");
  gls.vertex = gl.createShader(gl.VERTEX_SHADER);
  gl.shaderSource(gls.vertex, VERTEX);
  gl.compileShader(gls.vertex);
  gl.bindVertexArray(gl.createVertexArray());
  gl.disable(gl.DITHER);
  gl.disable(gl.BLEND);
  gls.readFormat = [null, null];
  const dbg = gl.getExtension("WEBGL_debug_renderer_info");
  gls.info = {
    renderer: dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER),
    maxTextureSize: gl.getParameter(gl.MAX_TEXTURE_SIZE),
    maxDrawBuffers: gl.getParameter(gl.MAX_DRAW_BUFFERS),
    parallelCompile: !!gls.parallel,
  };
  return glDescribe();
}

function glDescribe() {
  return JSON.stringify(gls.info);
}

function glCompileAll(list) {
  const gl = gls.gl;
  const rows = JSON.parse(list);
  const t0 = performance.now();
  for (const [pid, name, file, source] of rows) {
    const fs = gl.createShader(gl.FRAGMENT_SHADER);
    gl.shaderSource(fs, source);
    gl.compileShader(fs);
    const prog = gl.createProgram();
    gl.attachShader(prog, gls.vertex);
    gl.attachShader(prog, fs);
    gl.linkProgram(prog); // with KHR_parallel_shader_compile, links overlap until first use
    gls.programs[pid] = { prog, name, file, fs, source, loc: null };
    gls.stats.compiles++;
  }
  gls.stats.compile_ms += performance.now() - t0;
}

function glProgram(pid) {
  const gl = gls.gl;
  const p = gls.programs[pid];
  if (p === undefined) throw glFail("bad-program", `program id ${pid} does not exist`);
  if (p.error) throw glFail("compile", p.error);
  if (p.loc === null) {
    const t0 = performance.now();
    if (!gl.getProgramParameter(p.prog, gl.LINK_STATUS)) {
      const log = gl.getShaderInfoLog(p.fs) || gl.getProgramInfoLog(p.prog) || "";
      const m = /ERROR:\s*\d+:(\d+):/.exec(log);
      const line = m ? `line ${m[1]}: ${p.source.split("\n")[+m[1] - 1] || ""}\n` : "";
      p.error = `GLSL compile error in kernel '${p.name}' (${p.file}) ${line}${log.trim()}`;
      throw glFail("compile", p.error);
    }
    gl.useProgram(p.prog);
    for (let k = 0; k < LW.length - 1; k++) { // samplers t0 .. t6 on texture units 0 .. 6
      const u = gl.getUniformLocation(p.prog, `t${k}`);
      if (u !== null) gl.uniform1i(u, k);
    }
    p.loc = { n: gl.getUniformLocation(p.prog, "u_n"), lw: gl.getUniformLocation(p.prog, "u_lw"),
      p: gl.getUniformLocation(p.prog, "p") };
    gl.deleteShader(p.fs);
    gls.stats.compile_ms += performance.now() - t0;
  }
  return p;
}

function glTexture(id) {
  const t = gls.textures.get(id);
  if (t === undefined) throw glFail("bad-texture", `texture id ${id} does not exist`);
  return t;
}

function glFramebuffer(t) {
  const gl = gls.gl;
  if (t.fb === null) {
    t.fb = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, t.fb);
    if (t.fmt >= 3) { // an array texture: its layers are render targets 0..
      const bufs = [];
      for (let k = 0; k < LAYERS[t.fmt]; k++) {
        gl.framebufferTextureLayer(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + k, t.tex, 0, k);
        bufs.push(gl.COLOR_ATTACHMENT0 + k);
      }
      gl.drawBuffers(bufs);
    } else {
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, t.tex, 0);
    }
  } else {
    gl.bindFramebuffer(gl.FRAMEBUFFER, t.fb);
  }
  return t.fb;
}

const LW = new Int32Array(8);
const LAYERS = [1, 1, 1, 4, 8]; // per texture format: layers (3, 4: matmul_block's targets)

// Several render targets (one geometry): a shared framebuffer, re-attached per draw.
function glTargets(ids) {
  const gl = gls.gl;
  if (!gls.mrt) gls.mrt = { fb: gl.createFramebuffer(), n: 0 };
  gl.bindFramebuffer(gl.FRAMEBUFFER, gls.mrt.fb);
  const bufs = [];
  for (let k = 0; k < Math.max(ids.length, gls.mrt.n); k++) {
    const tex = k < ids.length ? glTexture(ids[k]).tex : null;
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0 + k, gl.TEXTURE_2D, tex, 0);
    if (k < ids.length) bufs.push(gl.COLOR_ATTACHMENT0 + k);
  }
  gls.mrt.n = ids.length;
  gl.drawBuffers(bufs);
}

/** Decode one packet and execute it: the only per-batch crossing. */
export function glRun(packet, programs) {
  glCheck();
  gls.stats.calls++;
  glExecute(packet, programs);
}

function glExecute(packet, programs) {
  const gl = gls.gl;
  if (programs) glCompileAll(programs);
  if (!packet) return;
  const words = new Int32Array(packet.buffer, packet.byteOffset, packet.byteLength >> 2);
  const nCmd = words[0], nParam = words[1];
  const cmd = words.subarray(4, 4 + nCmd);
  const params = words.subarray(4 + nCmd, 4 + nCmd + nParam);
  const dBase = packet.byteOffset + (4 + nCmd + nParam) * 4;
  gls.stats.batches++;
  let failed = null; // the first failed draw: the texture table must still follow Python's
  for (let i = 0; i < nCmd;) {
    const op = cmd[i];
    if (op === GL_DRAW) {
      const nout = cmd[i + 5], ntex = cmd[i + 6 + nout];
      if (failed === null) {
        try {
          glDraw(cmd, i, params);
        } catch (e) {
          failed = e; // later draws are skipped, allocations and uploads still run
        }
      }
      i += 7 + nout + ntex;
    } else if (op === GL_ALLOC) {
      const [id, w, h, fmt] = cmd.subarray(i + 1, i + 5);
      const tex = gl.createTexture();
      const target = fmt >= 3 ? gl.TEXTURE_2D_ARRAY : gl.TEXTURE_2D;
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(target, tex);
      gl.texParameteri(target, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
      gl.texParameteri(target, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
      if (fmt >= 3) gl.texStorage3D(target, 1, gl.RGBA32F, w, h, LAYERS[fmt]);
      else gl.texStorage2D(target, 1, [gl.R32F, gl.R32I, gl.RGBA32F][fmt], w, h);
      gls.textures.set(id, { tex, fb: null, w, h, lw: Math.log2(w), fmt });
      i += 5;
    } else if (op === GL_WRITE) {
      const t = glTexture(cmd[i + 1]);
      const rows = cmd[i + 3];
      const off = dBase + cmd[i + 2] * 4;
      gl.activeTexture(gl.TEXTURE0);
      gl.bindTexture(gl.TEXTURE_2D, t.tex);
      const int = t.fmt === 1;
      const data = int ? new Int32Array(packet.buffer, off, rows * t.w)
        : new Float32Array(packet.buffer, off, rows * t.w);
      gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, t.w, rows, int ? gl.RED_INTEGER : gl.RED,
        int ? gl.INT : gl.FLOAT, data);
      gls.stats.uploads++;
      i += 4;
    } else if (op === GL_DELETE) {
      const t = gls.textures.get(cmd[i + 1]);
      if (t) {
        if (t.fb) gl.deleteFramebuffer(t.fb);
        gl.deleteTexture(t.tex);
        gls.textures.delete(cmd[i + 1]);
      }
      i += 2;
    } else {
      throw glFail("bad-plan", `unknown opcode ${op} at word ${i}`);
    }
  }
  if (failed !== null) throw failed;
}

function glDraw(cmd, i, params) {
  const gl = gls.gl;
  const pid = cmd[i + 1], pOff = cmd[i + 2], pWords = cmd[i + 3], n = cmd[i + 4], nout = cmd[i + 5];
  const ntex = cmd[i + 6 + nout], at = i + 7 + nout;
  const prog = glProgram(pid);
  const out = glTexture(cmd[i + 6]);
  gl.useProgram(prog.prog);
  LW[0] = out.lw;
  for (let k = 0; k < ntex; k++) {
    const t = glTexture(cmd[at + k]);
    gl.activeTexture(gl.TEXTURE0 + k);
    gl.bindTexture(t.fmt >= 3 ? gl.TEXTURE_2D_ARRAY : gl.TEXTURE_2D, t.tex);
    LW[k + 1] = t.lw;
  }
  if (nout === 1) glFramebuffer(out);
  else glTargets(cmd.subarray(i + 6, i + 6 + nout));
  gl.viewport(0, 0, out.w, Math.ceil(n / out.w));
  gl.uniform1i(prog.loc.n, n);
  gl.uniform1iv(prog.loc.lw, LW);
  if (pWords) gl.uniform1iv(prog.loc.p, params, pOff, pWords);
  gl.drawArrays(gl.TRIANGLES, 0, 3);
  gls.stats.draws++;
  if (gls.profile !== null) glTime(prog.name, out);
}

// The readPixels format/type for a texture format: RED where the implementation offers it,
// else the always-supported RGBA (4 channels read, the first kept).
function glReadFormat(fmt) {
  const gl = gls.gl;
  if (gls.readFormat[fmt] === null) {
    const f = gl.getParameter(gl.IMPLEMENTATION_COLOR_READ_FORMAT);
    const t = gl.getParameter(gl.IMPLEMENTATION_COLOR_READ_TYPE);
    const red = fmt ? gl.RED_INTEGER : gl.RED, type = fmt ? gl.INT : gl.FLOAT;
    gls.readFormat[fmt] = f === red && t === type ? [red, type, 1]
      : [fmt ? gl.RGBA_INTEGER : gl.RGBA, type, 4];
  }
  return gls.readFormat[fmt];
}

function glErrors(where) {
  const gl = gls.gl;
  const e = gl.getError();
  if (e === gl.NO_ERROR) return;
  if (gl.isContextLost()) glCheck();
  if (e === gl.OUT_OF_MEMORY)
    throw glFail("out-of-memory", `${where}: the GPU is out of memory (GL_OUT_OF_MEMORY); ` +
      `${gls.textures.size} textures are live`);
  throw glFail("gl-error", `${where}: WebGL error 0x${e.toString(16)}`);
}

/** Run a packet (may be null), then read `n` elements of texture `id` synchronously with
 * readPixels: returns a Uint8Array of n * 4 bytes. No timers, no polling. */
export function glRead(packet, programs, id, n) {
  glCheck();
  gls.stats.calls++;
  gls.stats.reads++;
  glExecute(packet, programs);
  const gl = gls.gl;
  const t = glTexture(id);
  glFramebuffer(t);
  const rows = Math.max(1, Math.ceil(n / t.w));
  const [format, type, ch] = glReadFormat(t.fmt);
  const buf = t.fmt ? new Int32Array(t.w * rows * ch) : new Float32Array(t.w * rows * ch);
  gl.readPixels(0, 0, t.w, rows, format, type, buf);
  glErrors("read");
  return glPick(buf, ch, n);
}

function glPick(buf, ch, n) {
  if (ch === 1) return new Uint8Array(buf.buffer, 0, n * 4);
  const out = new buf.constructor(n);
  for (let k = 0; k < n; k++) out[k] = buf[k * ch];
  return new Uint8Array(out.buffer);
}

// One macrotask turn without the 4 ms clamp of nested setTimeout.
function glYield() {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(0);
  });
}

/** The asynchronous read: readPixels into a pixel-buffer object, a fence, and `await` until
 * the fence signals (checked once per event-loop turn, not on a timer); then the copy out. */
export async function glReadAsync(packet, programs, id, n) {
  glCheck();
  gls.stats.calls++;
  gls.stats.reads++;
  glExecute(packet, programs);
  const gl = gls.gl;
  const t = glTexture(id);
  glFramebuffer(t);
  const rows = Math.max(1, Math.ceil(n / t.w));
  const [format, type, ch] = glReadFormat(t.fmt);
  const nbytes = t.w * rows * ch * 4;
  const pbo = gl.createBuffer();
  gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
  gl.bufferData(gl.PIXEL_PACK_BUFFER, nbytes, gl.STREAM_READ);
  gl.readPixels(0, 0, t.w, rows, format, type, 0);
  gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
  const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
  gl.flush();
  try {
    for (;;) {
      const s = gl.clientWaitSync(sync, 0, 0);
      if (s === gl.ALREADY_SIGNALED || s === gl.CONDITION_SATISFIED) break;
      if (s === gl.WAIT_FAILED || gl.isContextLost()) { glCheck(); throw glFail("read-failed", "fence wait failed"); }
      await glYield();
    }
    glCheck();
    const buf = t.fmt ? new Int32Array(nbytes >> 2) : new Float32Array(nbytes >> 2);
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, pbo);
    gl.getBufferSubData(gl.PIXEL_PACK_BUFFER, 0, buf);
    gl.bindBuffer(gl.PIXEL_PACK_BUFFER, null);
    glErrors("read");
    return glPick(buf, ch, n);
  } finally {
    gl.deleteSync(sync);
    gl.deleteBuffer(pbo);
  }
}

/** Link every program of `programs` (JSON rows as for glRun) and wait, without blocking the
 * page, until KHR_parallel_shader_compile reports them done: the warm-up verb. */
export async function glPrepare(programs) {
  glCheck();
  gls.stats.calls++;
  const t0 = performance.now();
  const pids = JSON.parse(programs).map((r) => r[0]);
  glCompileAll(programs);
  const gl = gls.gl;
  if (gls.parallel) {
    const done = (pid) => gl.getProgramParameter(gls.programs[pid].prog, gls.parallel.COMPLETION_STATUS_KHR);
    while (!pids.every(done)) await glYield();
  }
  for (const pid of pids) glProgram(pid);
  return JSON.stringify({ programs: pids.length, wall_ms: performance.now() - t0 });
}

// Profiling: wait for each draw (a one-texel readPixels) and charge its time to its kernel.
function glTime(name, out) {
  const gl = gls.gl;
  const t0 = performance.now();
  const int = out.fmt === 1;
  gl.readPixels(0, 0, 1, 1, int ? gl.RGBA_INTEGER : gl.RGBA, int ? gl.INT : gl.FLOAT,
    int ? new Int32Array(4) : new Float32Array(4));
  const row = (gls.profile[name] ||= [0, 0]);
  row[0]++;
  row[1] += performance.now() - t0;
}

/** Time every draw per kernel (slow: each draw waits) until glProfile(false). */
export function glProfile(on) {
  gls.profile = on ? {} : null;
}

/** Counters of crossings and GPU work since the last reset (and, while profiling, the draws
 * and milliseconds per kernel): a JSON string. */
export function glStats(reset) {
  const programs = gls.programs.filter((p) => p).length;
  const s = JSON.stringify({ ...gls.stats, textures: gls.textures.size, programs,
    ...(gls.profile ? { kernels: gls.profile } : {}) });
  if (reset && gls.profile) gls.profile = {};
  if (reset) for (const k in gls.stats) gls.stats[k] = 0;
  return s;
}

/** Simulate a fault: lose the context through WEBGL_lose_context (tests use this). */
export function glLoseContext() {
  const ext = gls.gl && gls.gl.getExtension("WEBGL_lose_context");
  if (!ext) throw glFail("no-extension", "WEBGL_lose_context is not available");
  gls.lost = "WEBGL_lose_context.loseContext() was called";
  ext.loseContext();
}
