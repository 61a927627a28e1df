// MNIST demo page: controls, live charts, drawing canvas, save/load. The model and all maths
// live in mnist_demo.py, run by the site's Python worker (../../assets/pyworker.js).
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const py = new PyWorker({ onEvent });
  const ui = { info: null, training: false, hasModel: false, started: 0, timer: 0, heap: 0 };
  const pct = (v) => `${(100 * v).toFixed(1)}%`;
  const demo = (fn, kwargs = {}) => py.call("call", "mnist_demo", fn, kwargs);

  function setStatus(text, state) {
    $("status").textContent = text;
    $("status").dataset.state = state;
  }

  function enable() {
    const idle = !!ui.info && !ui.training;
    $("train-button").disabled = !idle;
    $("stop-button").disabled = !ui.training;
    $("save-button").disabled = !(idle && ui.hasModel);
    $("load-file").disabled = !idle;
    self.mnistStore.get("mnist-model").then((saved) => {
      $("load-button").disabled = !(idle && saved);
    });
  }

  // ---- charts ----
  function lineChart(canvas, title, yMax) {
    const series = (label, color, points) => ({ label, data: [], borderColor: color,
      backgroundColor: color, pointRadius: points ? 4 : 0, borderWidth: points ? 2 : 1.5,
      showLine: true, tension: 0.2 });
    return new Chart(canvas, {
      type: "line",
      data: { datasets: [series("train (running mean)", "#58a6ff", false),
        series("test (per epoch)", "#7ee787", true)] },
      options: {
        animation: false, maintainAspectRatio: false, parsing: false, normalized: true,
        scales: {
          x: { type: "linear", min: 0, title: { display: true, text: "epoch", color: "#8b949e" },
            ticks: { color: "#8b949e" }, grid: { color: "#30363d" } },
          y: { min: 0, max: yMax, ticks: { color: "#8b949e" }, grid: { color: "#30363d" } },
        },
        plugins: { title: { display: true, text: title, color: "#e6edf3" },
          legend: { labels: { color: "#e6edf3" } } },
      },
    });
  }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  const charts = { loss: lineChart($("loss-chart"), "Loss", undefined),
    acc: lineChart($("acc-chart"), "Accuracy", 1) };
  let redraw = 0;
  function scheduleRedraw() {
    if (redraw) return;
    redraw = requestAnimationFrame(() => {
      redraw = 0;
      charts.loss.update("none");
      charts.acc.update("none");
    });
  }
  function resetCharts(epochs) {
    for (const chart of Object.values(charts)) {
      chart.data.datasets.forEach((d) => { d.data = []; });
      chart.options.scales.x.max = epochs;
      chart.update("none");
    }
  }

  // ---- events from Python ----
  function onEvent(event, data) {
    if (event === "batch") {
      const x = data.epoch - 1 + data.batch / data.batches;
      if (data.loss != null) charts.loss.data.datasets[0].data.push({ x, y: data.loss });
      if (data.accuracy != null) charts.acc.data.datasets[0].data.push({ x, y: data.accuracy });
      $("train-loss").textContent = data.loss != null ? data.loss.toFixed(4) : "–";
      $("progress").textContent = `epoch ${data.epoch}/${data.epochs} · batch ${data.batch}/${data.batches}`;
      scheduleRedraw();
    } else if (event === "epoch") {
      charts.loss.data.datasets[1].data.push({ x: data.epoch, y: data.test_loss });
      charts.acc.data.datasets[1].data.push({ x: data.epoch, y: data.test_accuracy });
      showAccuracy(data.test_accuracy, `after epoch ${data.epoch}`);
      scheduleRedraw();
    } else if (event === "status" && !ui.info) {
      setStatus(data.text, "loading"); // the page says "Ready" once the demo module is loaded
    } else if (event === "stderr") {
      console.warn(data.text);
    } else if (event === "stdout") {
      console.log(data.text);
    }
    if (data && data.heap) ui.heap = data.heap;
  }

  function showAccuracy(value, when) {
    const el = $("test-accuracy");
    el.textContent = pct(value);
    el.dataset.value = String(value);
    el.title = when;
  }

  // ---- training ----
  async function train() {
    const epochs = Number($("epochs").value);
    const params = { model: $("model").value, backend: $("backend").value, epochs,
      batch_size: Number($("batch").value), lr: Number($("lr").value) };
    ui.training = true;
    document.body.dataset.train = "training";
    resetCharts(epochs);
    $("test-accuracy").textContent = "–";
    $("test-accuracy").dataset.value = "";
    ui.started = performance.now();
    ui.timer = setInterval(() => {
      $("elapsed").textContent = `${((performance.now() - ui.started) / 1000).toFixed(0)} s`;
    }, 500);
    setStatus("Training…", "running");
    enable();
    try {
      const report = await demo("train", params);
      ui.hasModel = true;
      $("summary").textContent = await demo("summary");
      $("elapsed").textContent = `${report.seconds.toFixed(1)} s`;
      $("progress").textContent = `done: ${report.epochs} epoch${report.epochs === 1 ? "" : "s"}`;
      document.body.dataset.train = "done";
      setStatus("Ready", "ready");
      predictDrawing();
    } catch (e) {
      document.body.dataset.train = "error";
      setStatus("Training failed", "error");
      $("progress").textContent = e.message.split("\n").slice(-2).join(" ");
      console.error(e);
    } finally {
      clearInterval(ui.timer);
      ui.training = false;
      enable();
    }
  }

  // ---- drawing ----
  const canvas = $("draw-canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  function clearCanvas() {
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    $("prediction").textContent = "?";
    $("prediction").dataset.digit = "";
    $("probs").replaceChildren();
    $("seen-canvas").getContext("2d").clearRect(0, 0, 28, 28);
    ui.inked = false;
  }
  function pointAt(ev) {
    const r = canvas.getBoundingClientRect();
    return [(ev.clientX - r.left) * (canvas.width / r.width),
      (ev.clientY - r.top) * (canvas.height / r.height)];
  }
  let last = null;
  canvas.addEventListener("pointerdown", (ev) => {
    canvas.setPointerCapture(ev.pointerId);
    last = pointAt(ev);
    stroke(last, last);
  });
  canvas.addEventListener("pointermove", (ev) => {
    if (!last) return;
    const p = pointAt(ev);
    stroke(last, p);
    last = p;
  });
  const finish = () => {
    if (!last) return;
    last = null;
    predictDrawing();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  function stroke(a, b) {
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 20;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(a[0], a[1]);
    ctx.lineTo(b[0], b[1]);
    ctx.stroke();
    ui.inked = true;
  }

  let predicting = null;
  async function predictDrawing() {
    if (!ui.hasModel || !ui.inked || ui.training) return;
    if (predicting) { predicting.again = true; return; }
    predicting = { again: false };
    try {
      const rgba = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      const ink = new Uint8Array(canvas.width * canvas.height);
      for (let i = 0; i < ink.length; i++) ink[i] = rgba[4 * i];
      const out = await demo("predict", { pixels: ink, width: canvas.width, height: canvas.height });
      showPrediction(out);
    } catch (e) {
      $("prediction").textContent = "!";
      $("prediction").title = e.message;
    } finally {
      const again = predicting.again;
      predicting = null;
      if (again) predictDrawing();
    }
  }
  function showPrediction(out) {
    $("prediction").textContent = String(out.digit);
    $("prediction").dataset.digit = String(out.digit);
    $("probs").replaceChildren(...out.probabilities.map((p, d) => {
      const row = document.createElement("div");
      row.className = `prob${d === out.digit ? " top" : ""}`;
      row.dataset.digit = String(d);
      row.dataset.p = String(p);
      row.innerHTML = `<span>${d}</span><i style="width:${(100 * p).toFixed(1)}%"></i><b>${pct(p)}</b>`;
      return row;
    }));
    const seen = $("seen-canvas").getContext("2d");
    const img = seen.createImageData(28, 28);
    out.input.forEach((v, i) => {
      const g = Math.round(255 * v);
      img.data.set([g, g, g, 255], 4 * i);
    });
    seen.putImageData(img, 0, 0);
  }

  // ---- save / load ----
  async function saveModel() {
    const bytes = await demo("save");
    await self.mnistStore.set("mnist-model", bytes);
    const link = $("download");
    URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    link.classList.remove("hidden");
    $("save-status").textContent = `Saved ${(bytes.length / 1024).toFixed(0)} KB to this browser `
      + `(IndexedDB) at ${new Date().toLocaleTimeString()}.`;
    $("save-status").dataset.saved = String(bytes.length);
    enable();
  }
  async function loadModel(bytes, from) {
    $("save-status").textContent = `Loading the model from ${from}…`;
    try {
      const out = await demo("load", { data: bytes });
      ui.hasModel = true;
      $("summary").textContent = await demo("summary");
      showAccuracy(out.test_accuracy, `model loaded from ${from}`);
      $("save-status").textContent = `Loaded "${out.name}" from ${from}: `
        + `test accuracy ${pct(out.test_accuracy)}.`;
      $("save-status").dataset.loaded = String(out.test_accuracy);
      predictDrawing();
    } catch (e) {
      $("save-status").textContent = `Could not load the model: ${e.message.split("\n").slice(-2).join(" ")}`;
    }
    enable();
  }

  // ---- start ----
  function offeredBackends(info) {
    const { available } = info.backends;
    const caps = info.caps;
    const offered = { numpy: true, webgpu: !!caps.webgpu, webgl: !!caps.webgl2 };
    const select = $("backend");
    select.replaceChildren(...["numpy", "webgpu", "webgl"].map((name) => {
      const opt = document.createElement("option");
      opt.value = name;
      opt.disabled = !(available.includes(name) && offered[name]);
      opt.textContent = name + (opt.disabled
        ? (offered[name] ? " (not in wasmdl yet)" : " (not in this browser)") : "");
      return opt;
    }));
    select.value = "numpy";
  }

  async function main() {
    clearCanvas();
    $("train-button").onclick = train;
    $("stop-button").onclick = () => demo("request_stop");
    $("clear-button").onclick = clearCanvas;
    $("save-button").onclick = saveModel;
    $("load-button").onclick = async () => loadModel(await self.mnistStore.get("mnist-model"),
      "this browser's storage");
    $("load-file").onchange = async (ev) => {
      const file = ev.target.files[0];
      if (file) loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
    };
    setStatus("Loading Pyodide…", "loading");
    const info = await py.start();
    setStatus("Loading the demo…", "loading");
    const source = await py.call("load_module", "mnist_demo",
      new URL("mnist_demo.py", location.href).href);
    const code = $("python-source");
    code.textContent = source;
    if (self.Prism) Prism.highlightElement(code);
    offeredBackends(info);
    ui.info = info;
    setStatus("Ready", "ready");
    document.body.dataset.train = "idle";
    enable();
    setInterval(async () => {
      if (!ui.info) return;
      const m = await py.call("memory").catch(() => null);
      if (m) ui.heap = m.heap;
      $("memory").textContent = `heap ${(ui.heap / 1048576).toFixed(1)} MB`
        + (m && m.wasmdl && m.wasmdl.bytes !== undefined
          ? ` · wasmdl ${m.wasmdl.tensors ?? "?"} tensors, ${(m.wasmdl.bytes / 1048576).toFixed(1)} MB` : "");
    }, 2000);
  }

  self.mnistDemo = { ready: main().catch((e) => {
    setStatus("Failed to start", "error");
    $("progress").textContent = e.message;
    throw e;
  }), py, ui };
})();
