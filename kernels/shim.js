// wasmdl WebGPU shim: device verbs only (no model logic lives in JavaScript).
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
  return e;
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
