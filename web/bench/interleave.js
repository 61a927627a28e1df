// The interleaved protocol (the default; BENCHMARK.md "Timing rules"). Per configuration:
// every framework x backend, each set up in a fresh live frame (live.html) of its own (bench.js
// makes new frames per configuration), loads the model and is checked; then per phase (infer,
// train) each is warmed until its per-call time is stable (>= 1 s and >= 20 calls), and all
// are timed in rounds that alternate frameworks (order rotated every round), each framework's
// turn a batch of k calls lasting about `roundMs` ms. Rows report the median round's per-call time and the median of per-round
// ratios to the reference row (wasmdl); every round is kept in the JSON.
// The pure parts (rotation, round sizes, summaries) are exported for tests/native.

// slowMs: a framework whose call takes longer (after warm-up) is not put in rounds (one call
// would be a whole round of everyone else's); its row reports its last warm-up window, flagged
// `slow`, and its warm-up stops after 2 calls.
export const DEFAULTS = { roundMs: 75, minRounds: 6, maxRounds: 30, phaseMs: 3000,
                          warmMinMs: 1000, warmMinCalls: 20, warmMaxMs: 5000, slowMs: 1000,
                          callTimeoutMs: 600000 };

// Framework order in round r: a rotation by r, so each runs first, second, ... in turn.
export function rotation(n, r) {
  return Array.from({ length: n }, (_, i) => (i + r) % n);
}

// Calls per round for a per-call time: about roundMs per turn, at least 1, at most kmax.
export function callsPerRound(perCallMs, roundMs = DEFAULTS.roundMs, kmax = 5000) {
  if (!(perCallMs > 0)) return kmax;
  return Math.max(1, Math.min(kmax, Math.round(roundMs / perCallMs)));
}

export function quantiles(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => {
    const i = (s.length - 1) * p, lo = Math.floor(i), hi = Math.ceil(i);
    return s[lo] + (s[hi] - s[lo]) * (i - lo);
  };
  return { median: q(0.5), min: s[0], max: s[s.length - 1], q1: q(0.25), q3: q(0.75),
           n: s.length };
}

// Enough rounds? At least minRounds, then until phaseMs has passed or maxRounds.
export function moreRounds(done, elapsedMs, o = DEFAULTS) {
  if (done < o.minRounds) return true;
  return done < o.maxRounds && elapsedMs < o.phaseMs;
}

// rounds: [{key: per-call ms}] (a key missing from a round: it failed there). Returns
// {key: {median, min, max, q1, q3, n, samples, ratios, ratio}}: the per-call statistics over
// rounds, and the per-round ratios to `ref` with their median (`ratio`; 1 for ref itself).
export function summarize(rounds, ref) {
  const keys = [...new Set(rounds.flatMap((r) => Object.keys(r)))];
  const out = {};
  for (const k of keys) {
    const samples = rounds.map((r) => r[k]).filter((v) => v != null);
    const ratios = rounds.filter((r) => r[k] != null && r[ref] != null).map((r) => r[k] / r[ref]);
    out[k] = { ...quantiles(samples), samples,
               ratios, ratio: ratios.length ? quantiles(ratios).median : null };
  }
  return out;
}

// The origin live frame `k` loads from. On a local server (127.0.0.1 or localhost) every frame
// gets a site of its own, f<k>.localhost (Chromium resolves *.localhost to the loopback), so
// site isolation runs each library in its own renderer process with its own V8 heap. Same-site
// frames would share the page's process and one heap (4 GB): one library's heap exhaustion
// took every frame and the page down (synaptic holds 1.3 GB for d8_w256; a full-grid run died
// that way), and a long synchronous call stalled the page's own timers. Elsewhere (a static
// host): the page's own origin.
export function frameOrigin(loc, k) {
  const local = loc.hostname === '127.0.0.1' || loc.hostname === 'localhost';
  return local ? `${loc.protocol}//f${k}.localhost${loc.port ? `:${loc.port}` : ''}` : loc.origin;
}

let framesMade = 0;
const liveSlots = [];  // LiveFrame tiles on screen, by position
const TILE = { w: 88, h: 34 };  // px per tile, border and gap included
const liveFrames = new Set();

// Called by the driver (bench/driver.py, which sees Chromium's Target.targetCrashed for each
// frame's renderer process) when the process of the frame at `url` died: that frame's pending
// and later calls fail at once with a named error, not after callTimeoutMs of silence. Returns
// the keys of the frames it ended.
globalThis.benchFrameCrashed = (url, status = 'crashed') => {
  // The frame's own URL; else its origin, which names one frame only where each frame has a
  // site of its own (frameOrigin on a local server). An ambiguous origin ends no frame.
  let hit = [...liveFrames].filter((f) => f.frame.src === url);
  if (!hit.length) {
    hit = [...liveFrames].filter((f) => new URL(f.frame.src).origin === new URL(url).origin);
    if (hit.length > 1) hit = [];
  }
  for (const f of hit) f.crashed(status);
  return hit.map((f) => f.key);
};

// A framework x backend in its own live iframe, called by messages.
export class LiveFrame {
  constructor(row, container, models, timeoutMs = DEFAULTS.callTimeoutMs) {
    this.row = row;
    this.key = `${row.fw.id}:${row.backend}`;
    this.timeoutMs = timeoutMs;
    this.pending = new Map();
    this.nextId = 1;
    this.frame = document.createElement('iframe');
    this.ready = new Promise((resolve) => { this.onReady = resolve; });
    this.listener = (ev) => {
      if (ev.source !== this.frame.contentWindow || !ev.data?.bench) return;
      if (ev.data.ready) { this.onReady(); return; }
      const p = this.pending.get(ev.data.id);
      if (!p) return;
      this.pending.delete(ev.data.id);
      clearTimeout(p.timer);
      if (ev.data.error != null) p.reject(new Error(ev.data.error));
      else p.resolve(ev.data.result);
    };
    window.addEventListener('message', this.listener);
    const page = new URL('live.html', location.href);
    this.frame.src = `${frameOrigin(location, framesMade++)}${page.pathname}?fw=${row.fw.id}`
      + `&backend=${row.backend}&models=${encodeURIComponent(models)}`;
    // cross-origin isolation passes to the frame (5 us timers, SharedArrayBuffer for WgPy)
    this.frame.allow = 'cross-origin-isolated';
    // Every live frame stays inside the viewport: Chromium throttles the timers of a
    // cross-origin frame that is scrolled out of view to one wake-up per second, and a
    // framework that waits on a timer (TF.js's and Paddle.js's WebGL reads poll for the GPU)
    // would then take ~1 s per call. Small tiles in rows fixed at the bottom of the page, as
    // many per row as the window's width holds (an 800 px headless window: 9).
    const slot = liveSlots.indexOf(null) >= 0 ? liveSlots.indexOf(null) : liveSlots.length;
    liveSlots[slot] = this;
    this.slot = slot;
    const perRow = Math.max(1, Math.floor((window.innerWidth || 800) / TILE.w));
    Object.assign(this.frame.style, { position: 'fixed', zIndex: 10, width: `${TILE.w - 4}px`,
      height: `${TILE.h - 4}px`, left: `${(slot % perRow) * TILE.w}px`,
      bottom: `${Math.floor(slot / perRow) * TILE.h}px`, border: '1px dashed #ccc',
      background: '#fff' });
    container.appendChild(this.frame);
    liveFrames.add(this);
  }

  async call(op, args = {}, timeoutMs = this.timeoutMs) {
    if (this.dead) throw new Error(`${op}: ${this.dead}`);
    await this.ready;
    if (this.dead) throw new Error(`${op}: ${this.dead}`);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${op}: no answer in ${timeoutMs / 1000} s (stalled or hung)`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, op });
      this.frame.contentWindow.postMessage({ bench: true, id, op, args }, '*');
    });
  }

  // The frame's renderer process died (Chromium's status, e.g. 'crashed' or 'killed'): out of
  // memory, or a crash inside the library. Every pending and later call fails with that.
  crashed(status) {
    this.dead = `the frame's renderer process ${status === 'killed' ? 'was killed' : status} `
      + '(out of memory, or a crash inside the library); the frame is gone';
    this.onReady();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new Error(`${p.op}: ${this.dead}`));
    }
  }

  close() {
    liveFrames.delete(this);
    window.removeEventListener('message', this.listener);
    liveSlots[this.slot] = null;
    this.frame.remove();
  }
}

// Time one phase on the prepared frames: warm each, then rotated rounds. Returns
// {summary: {key: stats}, warm: {key: warm result}, k: {key: k}, rounds, errors: {key: msg}}.
export async function timePhase(frames, phase, o, ref, onRound = () => {}) {
  const warm = {}, k = {}, errors = {};
  let live = [];
  for (const f of frames) {
    try {
      warm[f.key] = await f.call('warm', { phase, minMs: o.warmMinMs, slowMs: o.slowMs,
                                           minCalls: o.warmMinCalls, maxMs: o.warmMaxMs });
      k[f.key] = callsPerRound(warm[f.key].perCall, o.roundMs);
      if (!(warm[f.key].perCall > o.slowMs)) live.push(f);
    } catch (e) { errors[f.key] = String(e.message || e); }
  }
  const rounds = [];
  const t0 = performance.now();
  while (live.length && moreRounds(rounds.length, performance.now() - t0, o)) {
    const per = {};
    for (const i of rotation(live.length, rounds.length)) {
      const f = live[i];
      try {
        per[f.key] = (await f.call('round', { phase, k: k[f.key] })) / k[f.key];
      } catch (e) { errors[f.key] = String(e.message || e); }
    }
    live = live.filter((f) => !errors[f.key]);
    rounds.push(per);
    onRound(rounds.length);
  }
  const summary = summarize(rounds, ref);
  for (const f of frames) {
    const w = warm[f.key];
    if (w && w.perCall > o.slowMs && !errors[f.key]) {
      const r = summary[ref]?.median;
      summary[f.key] = { median: w.perCall, min: w.perCall, max: w.perCall, n: 1, slow: true,
                         samples: [w.perCall], ratios: [], ratio: r ? w.perCall / r : null };
    }
  }
  return { summary, warm, k, rounds, errors };
}
