// Pretrained demo page: image sources (bundled photos, files, webcam) drawn onto a 224x224
// canvas, whose RGBA bytes go to pretrained_demo.py in the site's Python worker.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const py = new PyWorker({ onEvent });
  const demo = (fn, kwargs = {}) => py.call("call", "pretrained_demo", fn, kwargs);
  const canvas = $("image");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const ui = { info: null, loaded: false, trained: false, busy: false, stream: null };
  const pct = (v) => `${(100 * v).toFixed(1)}%`;

  function setStatus(text, state) {
    $("status").textContent = text;
    $("status").dataset.state = state;
  }
  function enable() {
    const idle = !!ui.info && !ui.busy;
    $("load-button").disabled = !idle;
    $("classify-button").disabled = !(idle && ui.loaded);
    $("add-button").disabled = !(idle && ui.loaded);
    $("train-button").disabled = !(idle && ui.loaded);
    $("custom-button").disabled = !(idle && ui.trained);
    $("save-button").disabled = !(idle && ui.trained);
    self.mnistStore.get("pretrained-model").then((saved) => {
      $("restore-button").disabled = !(idle && saved);
    });
  }
  async function busy(label, fn) {
    ui.busy = true;
    enable();
    setStatus(label, "running");
    try {
      return await fn();
    } catch (e) {
      setStatus("Error", "error");
      $("progress").textContent = e.message.split("\n").slice(-2).join(" ");
      console.error(e);
      throw e;
    } finally {
      ui.busy = false;
      if ($("status").dataset.state === "running") setStatus("Ready", "ready");
      // a count of finished actions, so a script that clicks can wait for its own action
      $("status").dataset.done = String(Number($("status").dataset.done || 0) + 1);
      enable();
    }
  }

  function onEvent(event, data) {
    if (event === "batch") {
      $("progress").textContent = `epoch ${data.epoch} · batch ${data.batch}/${data.batches}`;
      if (data.accuracy != null) showAccuracy(data.accuracy);
    } else if (event === "stderr") console.warn(data.text);
    else if (event === "stdout") console.log(data.text);
  }
  function showAccuracy(v) {
    $("accuracy").textContent = pct(v);
    $("accuracy").dataset.value = String(v);
  }

  // ---- image sources: everything is drawn to the 224x224 canvas (the whole image, resized) ----
  function draw(source, w, h) {
    ctx.drawImage(source, 0, 0, w, h, 0, 0, canvas.width, canvas.height);
  }
  async function drawURL(url) {
    const img = new Image();
    img.src = url;
    await img.decode();
    draw(img, img.naturalWidth, img.naturalHeight);
  }
  const pixels = () => ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  async function webcam() {
    if (!ui.stream) {
      ui.stream = await navigator.mediaDevices.getUserMedia({ video: true });
      $("video").srcObject = ui.stream;
      await $("video").play();
    }
    const v = $("video");
    draw(v, v.videoWidth, v.videoHeight);
  }

  async function classify() {
    const out = await busy("Classifying…", () => demo("classify", { rgba: pixels() }));
    $("top5").replaceChildren(...out.top5.map((t) => {
      const li = document.createElement("li");
      li.dataset.index = String(t.index);
      li.dataset.p = String(t.p);
      li.textContent = `${t.name} — ${pct(t.p)}`;
      return li;
    }));
    $("latency").textContent = `${out.ms.toFixed(0)} ms`;
    $("latency").dataset.ms = String(out.ms);
  }
  async function load() {
    const backend = $("backend").value;
    const out = await busy(`Loading EfficientNet-Lite0 on ${backend}…`,
      () => demo("load", { backend }));
    ui.loaded = true;
    ui.trained = false;
    $("load-info").textContent = `Loaded on ${out.backend} in ${out.load_s.toFixed(1)} s; `
      + `first image ${(out.warmup_s * 1000).toFixed(0)} ms.`;
    $("load-info").dataset.backend = out.backend;
    enable();
  }
  async function addExample() {
    const counts = await busy("Adding…", () => demo("add_example",
      { rgba: pixels(), label: $("label").value }));
    $("examples").textContent = Object.entries(counts).map(([k, n]) => `${k}: ${n}`).join(" · ");
    $("examples").dataset.total = String(Object.values(counts).reduce((a, b) => a + b, 0));
  }
  async function train() {
    const out = await busy("Training the head…", () => demo("train",
      { epochs: Number($("epochs").value) }));
    ui.trained = true;
    showAccuracy(out.train_accuracy);
    $("progress").textContent = `done in ${out.seconds.toFixed(1)} s`;
    enable();
  }
  async function classifyCustom() {
    const out = await busy("Classifying…", () => demo("classify_custom", { rgba: pixels() }));
    $("custom").replaceChildren(...out.map((c) => {
      const li = document.createElement("li");
      li.dataset.name = c.name;
      li.dataset.p = String(c.p);
      li.textContent = `${c.name} — ${pct(c.p)}`;
      return li;
    }));
  }
  async function save() {
    const out = await busy("Saving…", () => demo("save"));
    await self.mnistStore.set("pretrained-model", { data: out.data, labels: out.labels });
    $("save-status").textContent = `Saved ${(out.data.length / 1048576).toFixed(1)} MB `
      + "to this browser (IndexedDB).";
    $("save-status").dataset.saved = String(out.data.length);
    enable();
  }
  async function restore() {
    // busy from the click on: the IndexedDB read is part of the action
    const out = await busy("Loading…", async () =>
      demo("load_saved", await self.mnistStore.get("pretrained-model")));
    ui.trained = true;
    $("save-status").textContent = `Loaded "${out.name}" (${out.labels.join(", ")}; `
      + `${out.frozen.toLocaleString()} frozen weights).`;
    $("save-status").dataset.loaded = out.labels.join(",");
    enable();
  }

  function offeredBackends(info) {
    const { available } = info.backends;
    const offered = { numpy: true, webgpu: !!info.caps.webgpu, webgl: !!info.caps.webgl2 };
    const names = { numpy: "CPU (WASM)", webgpu: "WebGPU", webgl: "WebGL" };
    $("backend").replaceChildren(...Object.keys(names).map((name) => {
      const opt = document.createElement("option");
      opt.value = name;
      opt.disabled = !(available.includes(name) && offered[name]);
      opt.textContent = names[name] + (opt.disabled ? " (not in this browser)" : "");
      return opt;
    }));
  }

  async function main() {
    $("load-button").onclick = load;
    $("classify-button").onclick = classify;
    $("photo").onchange = () => drawURL(`../../models/${$("photo").value}`);
    $("file").onchange = async (ev) => {
      const file = ev.target.files[0];
      if (file) await drawURL(URL.createObjectURL(file));
    };
    $("webcam-button").onclick = webcam;
    $("add-button").onclick = addExample;
    $("train-button").onclick = train;
    $("custom-button").onclick = classifyCustom;
    $("save-button").onclick = save;
    $("restore-button").onclick = restore;
    await drawURL(`../../models/${$("photo").value}`);
    setStatus("Loading Pyodide…", "loading");
    const info = await py.start();
    const source = await py.call("load_module", "pretrained_demo",
      new URL("pretrained_demo.py", location.href).href);
    $("python-source").textContent = source;
    if (self.Prism) Prism.highlightElement($("python-source"));
    offeredBackends(info);
    ui.info = info;
    setStatus("Ready", "ready");
    enable();
  }

  self.pretrainedDemo = { ready: main().catch((e) => {
    setStatus("Failed to start", "error");
    throw e;
  }), py, ui, drawURL, pixels };
})();
