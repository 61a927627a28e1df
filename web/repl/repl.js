// The REPL page: jquery.terminal in the page, Pyodide's console (pyodide.console.PyodideConsole)
// in a Web Worker (../assets/pyworker.js). This file only relays lines, completions and output.
"use strict";

(function () {
  const PS1 = ">>> ";
  const PS2 = "... ";
  const $status = document.getElementById("status");
  const $stop = document.getElementById("stop");
  const $memory = document.getElementById("memory");
  const $backends = document.getElementById("backends");
  const state = { term: null, py: null, info: null, running: false, commands: 0, partial: "", live: false,
    liveErr: false, heap: 0, wasmdl: {} };

  const esc = (text) => $.terminal.escape_brackets(text);
  // exec: false everywhere: jquery.terminal would otherwise run "[[ ... ]]" found in output
  // (a numpy array's repr!) as a command.
  const echo = (text, opts) => state.term.echo(text, { exec: false, ...opts });
  const update = (text) => state.term.update(-1, text, { exec: false });
  const echoError = (text) => echo(`[[;#ff7b72;]${esc(text)}]`);
  const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;

  function setStatus(text, kind) {
    $status.textContent = text;
    $status.dataset.state = kind;
    $stop.disabled = kind !== "running";
  }

  // ---- output: stream text line by line; "\r" rewrites the current line (progress bars) ----
  function styled(line, isErr) {
    const text = esc(line.slice(line.lastIndexOf("\r") + 1));
    return isErr ? `[[;#ff7b72;]${text}]` : text;
  }

  function showLine(line, isErr) {
    const shown = styled(line, isErr) || " ";
    if (state.live) update(shown);
    else echo(shown);
    state.live = false;
  }

  function stream(text, isErr) {
    if (state.partial && state.liveErr !== isErr) flushPartial();
    const lines = (state.partial + text).split("\n");
    state.partial = lines.pop();
    state.liveErr = isErr;
    for (const line of lines) showLine(line, isErr);
    if (state.partial) {
      const shown = styled(state.partial, isErr) || " ";
      if (state.live) update(shown);
      else echo(shown);
      state.live = true;
    }
  }

  function flushPartial() {
    if (state.partial) showLine(state.partial, state.liveErr);
    state.partial = "";
    state.live = false;
  }

  function showImage(png) {
    flushPartial();
    echo(`<img class="py-figure" alt="figure" src="data:image/png;base64,${png}">`,
      { raw: true });
  }

  function showResult(res) {
    flushPartial();
    for (const png of res.images || []) showImage(png);
    if (res.error) echoError(res.error.trimEnd());
    else if (res.text !== null && res.text !== undefined) echo(esc(res.text) || " ");
  }

  // ---- running code ----
  async function runCommand(command) {
    const py = state.py;
    state.running = true;
    setStatus("Running…", "running");
    try {
      const multi = command.includes("\n") && state.term.get_prompt() === PS1;
      if (multi) {
        showResult(await py.call("repl_cell", command));
      } else {
        for (const line of command.split("\n")) {
          const res = await py.call("repl_push", line.replaceAll("\u00a0", " "));
          state.term.set_prompt(res.state === "incomplete" ? PS2 : PS1);
          if (res.state !== "incomplete") showResult(res);
          else state.indent = nextIndent(line);
        }
      }
    } catch (e) {
      flushPartial();
      state.term.set_prompt(PS1);
      if (e.message === "stopped") await restart("Stopped: Python was restarted (variables are lost).");
      else echoError(`REPL error: ${e.message}`);
    } finally {
      state.running = false;
      state.commands += 1; // tests wait on this
      if (state.info) setStatus("Ready", "ready");
      refreshMemory();
    }
  }

  // Python's own REPL (3.13) indents the next line of a block for you; so do we.
  function nextIndent(line) {
    if (!line.trim()) return "";
    const indent = line.match(/^\s*/)[0];
    return /:\s*(#.*)?$/.test(line) ? `${indent}    ` : indent;
  }

  async function interpreter(command, term) {
    term.pause();
    try {
      await state.started; // lines typed while Python loads run once it is ready
      await runCommand(command);
    } finally {
      term.resume();
      const indent = state.indent;
      state.indent = "";
      if (indent) setTimeout(() => term.set_command(indent), 0);
    }
  }

  function completion(word, callback) {
    const before = this.before_cursor(false);
    if (!state.info || !before.trim()) return callback([]);
    state.py.call("complete", before).then(({ items, start }) => {
      const wordStart = before.length - word.length;
      callback(items.map((c) => (start >= wordStart
        ? before.slice(wordStart, start) + c
        : c.slice(wordStart - start))));
    }, () => callback([]));
  }

  const keymap = {
    "CTRL+C": function () {
      if (state.running) {
        stopRunning();
        return false;
      }
      state.py.call("reset_buffer");
      echo(`${esc(state.term.get_prompt() + state.term.get_command())}^C`);
      echo("[[;#ff7b72;]KeyboardInterrupt]");
      state.term.set_command("");
      state.term.set_prompt(PS1);
      return false;
    },
    TAB: function (event, original) {
      if (!this.before_cursor(false).trim() || /\s$/.test(this.before_cursor(false))) {
        this.insert("    ");
        return false;
      }
      return original(event);
    },
  };

  async function stopRunning() {
    const how = await state.py.stop();
    if (how === "interrupted") echo("[[;#ff7b72;]^C (interrupt sent)]");
  }

  // ---- backends and memory ----
  function browserOffers(name, caps) {
    if (name === "numpy") return [true, "CPU: numpy in WebAssembly"];
    if (name === "webgpu") {
      return caps.webgpu
        ? [true, `WebGPU adapter: ${caps.webgpu.description || caps.webgpu.architecture || "yes"}`]
        : [false, "this browser offers no WebGPU adapter"];
    }
    if (name === "webgl") {
      return caps.webgl2 ? [true, "WebGL2 is available"] : [false, "this browser has no WebGL2"];
    }
    return [true, ""];
  }

  function renderBackends(backends) {
    const caps = state.info.caps;
    const names = [...new Set(["numpy", "webgpu", "webgl", ...backends.available])];
    $backends.replaceChildren(...names.map((name) => {
      const [offered, why] = browserOffers(name, caps);
      const inWasmdl = backends.available.includes(name);
      const button = document.createElement("button");
      button.className = "backend";
      button.textContent = name;
      button.dataset.backend = name;
      button.setAttribute("role", "radio");
      button.setAttribute("aria-checked", String(backends.current === name));
      button.disabled = !(offered && inWasmdl);
      button.title = `${why}${inWasmdl ? "" : " · not in this wasmdl yet"}`;
      button.onclick = () => switchBackend(name);
      return button;
    }));
  }

  async function switchBackend(name) {
    if (state.running) return;
    try {
      const backends = await state.py.call("set_backend", name);
      renderBackends(backends);
      echo(`[[;#7ee787;]# wasmdl backend: ${esc(backends.current)}]`);
    } catch (e) {
      echoError(`set_backend(${JSON.stringify(name)}) failed: ${e.message}`);
    }
  }

  function renderMemory() {
    const w = state.wasmdl || {};
    const parts = [`heap ${mb(state.heap)}`];
    if (w.bytes !== undefined) parts.push(`wasmdl ${w.buffers ?? "?"} buffers, ${mb(w.bytes)}`);
    $memory.textContent = parts.join(" · ");
  }

  async function refreshMemory() {
    if (!state.info || state.running) return;
    try {
      const m = await state.py.call("memory");
      state.heap = m.heap;
      state.wasmdl = m.wasmdl;
      renderMemory();
    } catch (e) { /* the worker was restarted */ }
  }

  // ---- start ----
  function onEvent(event, data) {
    if (event === "stdout" || event === "stderr") {
      stream(data.text, event === "stderr");
      if (data.heap) {
        state.heap = data.heap;
        renderMemory();
      }
    } else if (event === "note") {
      flushPartial();
      echo(`[[;#8b949e;]${esc(data.text)}]`);
    } else if (event === "image") {
      showImage(data.png);
    } else if (event === "status" && !state.info) {
      setStatus(data.text, "loading"); // start() says "Ready" once the console is set up
    }
  }

  async function start() {
    setStatus("Loading Pyodide…", "loading");
    const t0 = performance.now();
    state.info = null;
    const info = await state.py.start();
    state.info = info;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const v = info.versions;
    echo(`[[b;#7ee787;]wasmdl ${esc(v.wasmdl)}] · Python ${v.python} · numpy ${v.numpy}`
      + ` · Pyodide ${info.pyodide} · ready in ${secs} s`);
    echo("[[;#8b949e;]wasmdl was installed with micropip.install(\"wasmdl\"); "
      + "try `import wasmdl` or an example on the right.]");
    renderBackends(info.backends);
    state.py.call("set_width", state.term.cols());
    setStatus("Ready", "ready");
    refreshMemory();
  }

  async function restart(message) {
    echo(`[[;#ff7b72;]${esc(message)}]`);
    await start();
  }

  function runSnippet(code) {
    if (!state.info || state.running) return;
    state.term.focus();
    state.term.exec(code);
  }

  function renderExamples() {
    const box = document.getElementById("examples");
    for (const ex of self.REPL_EXAMPLES || []) {
      const button = document.createElement("button");
      button.className = "example";
      button.dataset.example = ex.id;
      button.innerHTML = "<strong></strong><span></span>";
      button.firstChild.textContent = ex.title;
      button.lastChild.textContent = ex.about;
      button.title = ex.code;
      button.onclick = () => runSnippet(ex.code);
      box.append(button);
    }
  }

  async function main() {
    state.py = new PyWorker({ onEvent });
    state.term = $("#terminal").terminal(interpreter, {
      greetings: "[[;#8b949e;]Starting Python (Pyodide) in a Web Worker…]",
      prompt: PS1,
      name: "wasmdl-repl",
      completion,
      completionEscape: false,
      keymap,
      outputLimit: 5000,
      exceptionHandler: (e) => echoError(String(e)),
    });
    state.term.focus();
    renderExamples();
    $stop.onclick = stopRunning;
    window.addEventListener("resize", () => state.info && state.py.call("set_width",
      state.term.cols()));
    setInterval(refreshMemory, 2000);
    self.wasmdlRepl = { state };
    state.started = start();
    try {
      await state.started;
    } catch (e) {
      setStatus("Failed to start", "error");
      echoError(`Could not start Python: ${e.message}`);
      throw e;
    }
    const code = new URLSearchParams(location.search).get("code");
    if (code) runSnippet(code);
  }

  self.wasmdlReplReady = main();
})();
