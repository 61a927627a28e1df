"""Headless Chromium over the DevTools protocol (a websocket), and the site server.

No WebDriver needed: Chromium is started with ``--remote-debugging-port=0`` and a fresh
profile, the port is read from the profile's ``DevToolsActivePort`` file, and the page is
driven with ``Page.navigate`` and ``Runtime.evaluate``. The flags are those that work offline
here (ENVIRONMENT.md): background networking off, and ``--enable-unsafe-webgpu`` so that
``navigator.gpu`` gets an adapter.

Example (needs Chromium):
    >>> with Chromium() as browser:  # doctest: +SKIP
    ...     browser.navigate("about:blank")
    ...     browser.evaluate("1 + 1")
    2
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--enable-unsafe-webgpu",
    "--mute-audio",
]


def find_chromium() -> str:
    for name in (
        os.environ.get("WASMDL_CHROMIUM", ""),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        path = name and shutil.which(name)
        if path:
            return path
    raise FileNotFoundError(
        "find_chromium: expected chromium on PATH (apt-get install chromium) or "
        "WASMDL_CHROMIUM=<path>; found none"
    )


class PageCrashed(RuntimeError):
    """The page's renderer process died (CDP ``Inspector.targetCrashed``): out of memory, or a
    crash in one of its frames; every frame of the bench page shares that one process."""


class Chromium:
    """One headless Chromium with one page target, driven over CDP."""

    def __init__(self, flags=None, timeout: float = 30.0):
        import websocket  # websocket-client (the test extra)

        self.flags = list(FLAGS if flags is None else flags)
        self.profile = tempfile.mkdtemp(prefix="wasmdl-bench-chromium-")
        cmd = [
            find_chromium(),
            *self.flags,
            f"--user-data-dir={self.profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + timeout
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.time() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError(f"Chromium: no DevTools port after {timeout} s ({cmd})")
            time.sleep(0.1)
        self.port = int(open(port_file).read().split()[0])
        base = f"http://127.0.0.1:{self.port}"
        self.version = json.load(urllib.request.urlopen(base + "/json/version"))
        pages = [
            t for t in json.load(urllib.request.urlopen(base + "/json/list")) if t["type"] == "page"
        ]
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], suppress_origin=True, timeout=timeout
        )
        self._id = 0
        self.crashed = False
        self.targets: dict[str, dict] = {}  # targetId -> targetInfo (Target.setDiscoverTargets)
        self.crashed_targets: list[dict] = []  # Target.targetCrashed events not yet handled
        self.send("Inspector.enable")  # so a renderer crash arrives as Inspector.targetCrashed

    def send(self, method: str, params: dict | None = None, timeout: float = 60.0) -> dict:
        self._id += 1
        self.ws.settimeout(timeout)
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params or {}}))
        if self.crashed:
            raise PageCrashed(f"Chromium.send: {method}: the page's renderer crashed earlier")
        while True:
            msg = json.loads(self.ws.recv())
            event = msg.get("method")
            if event == "Inspector.targetCrashed" and "sessionId" not in msg:
                self.crashed = True
                raise PageCrashed(f"Chromium.send: {method}: the page's renderer crashed")
            if event in ("Target.targetCreated", "Target.targetInfoChanged"):
                info = msg["params"]["targetInfo"]
                self.targets[info["targetId"]] = info
            elif event == "Target.targetCrashed":
                self.crashed_targets.append(msg["params"])
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"Chromium.send: {method} failed: {msg['error']}")
                return msg.get("result", {})

    def post(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        """Send a command without waiting for its answer (on a target's flattened ``session``
        when given: a frame attached with ``Target.attachToTarget``); return its id. An
        answer that comes later is skipped by ``send``."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session is not None:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        return self._id

    def watch_frames(self) -> None:
        """Hear of every target, out-of-process frames included, and of their crashes."""
        self.send("Target.setDiscoverTargets", {"discover": True})

    def end_crashed_frames(self) -> list[str]:
        """Tell the bench page which of its live frames lost their renderer process since the
        last call (``benchFrameCrashed`` in web/bench/interleave.js), so their calls fail at
        once with a named error. Returns the keys of the frames ended (``fw:backend``)."""
        ended = []
        while self.crashed_targets:
            event = self.crashed_targets.pop(0)
            info = self.targets.get(event["targetId"]) or {}
            if info.get("type") != "iframe" or not info.get("url"):
                continue
            ended += self.evaluate(
                "globalThis.benchFrameCrashed ? benchFrameCrashed("
                f"{json.dumps(info['url'])}, {json.dumps(event.get('status') or 'crashed')}) : []"
            )
        return ended

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expr: str, timeout: float = 60.0):
        """Evaluate ``expr`` in the page (awaiting promises); return its JSON value."""
        res = self.send(
            "Runtime.evaluate",
            {"expression": expr, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in res:
            raise RuntimeError(
                f"Chromium.evaluate: {expr[:80]!r} threw "
                f"{res['exceptionDetails'].get('exception', {}).get('description')}"
            )
        return res["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


CHARTS_JS = (
    "JSON.stringify([...document.querySelectorAll('#charts canvas')]"
    ".map(c => [c.dataset.phase, c.toDataURL('image/png')]))"
)
STATE_JS = (
    "window.bench ? JSON.stringify({s: bench.status, c: bench.completed, t: bench.total, "
    "cur: bench.current, e: bench.error}) : null"
)


def run_page(
    url: str, query: dict, timeout: float = 3600, stall: float = 180, on_state=None
) -> dict:
    """Open ``<url>/bench/?<query>&autorun=1`` in a fresh headless Chromium, wait until the
    page reports done, return its export (env, rows, libraries) plus the chart PNGs (data
    URLs), the browser version and flags."""
    import urllib.parse

    with Chromium() as browser:
        browser.watch_frames()
        browser.navigate(f"{url}/bench/?{urllib.parse.urlencode({**query, 'autorun': 1})}")
        t0, state = time.time(), {}
        while time.time() - t0 < timeout:
            time.sleep(1)
            try:
                for key in browser.end_crashed_frames():
                    print(f"run_page: {key}'s frame crashed (its row says so)", file=sys.stderr)
                raw = browser.evaluate(STATE_JS, timeout=stall)
            except PageCrashed:
                raise RuntimeError(
                    f"run_page: the page crashed (its renderer process died: out of memory, or "
                    f"a crash in a framework running in the page itself) at {state}"
                ) from None
            except Exception:  # noqa: BLE001 - a page busy in a long synchronous call
                continue
            state = json.loads(raw) if raw else {}
            if on_state:
                on_state(state)
            if state.get("s") in ("done", "error"):
                break
        if state.get("s") != "done":
            raise RuntimeError(f"run_page: the page did not finish in {timeout} s: {state}")
        result = json.loads(browser.evaluate("benchExport.json()"))
        result["charts"] = json.loads(browser.evaluate(CHARTS_JS))
        result["browser"] = browser.version.get("Browser")
        result["flags"] = browser.flags
    return result


def repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/ is at the top


def _script(name: str):
    path = os.path.join(repo_root(), "scripts", f"{name}.py")
    if not os.path.exists(path):
        raise FileNotFoundError(f"bench: {path} is missing (run from a wasmdl checkout)")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def serve(site: str):
    """Serve ``site`` on a free localhost port (scripts/serve.py: MIME types, no caching)."""
    from pathlib import Path

    with _script("serve").serve_in_thread(Path(site)) as server:
        yield server.url
