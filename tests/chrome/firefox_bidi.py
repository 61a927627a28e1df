"""Headless Firefox ESR over WebDriver BiDi, as a pytest-pyodide runtime (``--runtime firefox``).

No geckodriver is reachable here, so pytest-pyodide's own Firefox runner cannot start. Firefox
speaks WebDriver BiDi itself: ``firefox-esr --headless --remote-debugging-port=0`` prints
``WebDriver BiDi listening on ws://127.0.0.1:PORT``; a websocket to ``/session`` then takes
``session.new``, ``browsingContext.navigate`` and ``script.evaluate``.

- ``FirefoxBidi``: the browser and its one tab: ``get(url)``, ``evaluate(js)`` (awaits a
  promise, returns the value as Python), ``execute_script(body, *args)``, ``find_element``,
  ``execute`` (selenium's W3C actions), ``save_screenshot``, ``get_log("browser")``, ``quit()``:
  the part of selenium's driver the site tests use (elements and values: bidi_values.py).
- ``BidiFirefoxRunner``: pytest-pyodide's browser runner on that driver; ``register()`` makes it
  the runner of ``--runtime firefox``.
- ``ensure_display()``: WebGL2 in Firefox needs a display; starts ``Xvfb`` once when there is
  no ``$DISPLAY`` (headless without one: "Exhausted GL driver options").

Prefs (``PREFS``): WebGPU on (lavapipe, a CPU Vulkan driver), and no updates, telemetry, safe
browsing or captive-portal checks, so the browser stays offline.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import websocket
from bidi_values import BidiElement, bidi_action, from_remote, to_local

FIREFOX = os.environ.get("WASMDL_FIREFOX", "firefox-esr")
PREFS = {
    "dom.webgpu.enabled": True,
    "gfx.webgpu.ignore-blocklist": True,
    "gfx.webgpu.force-enabled": True,
    "webgl.force-enabled": True,
    "app.update.enabled": False,
    "app.update.auto": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "browser.newtabpage.enabled": False,
    "browser.aboutwelcome.enabled": False,
    "remote.prefs.recommended": True,
    "dom.max_script_run_time": 0,
    "browser.sessionstore.resume_from_crash": False,
}
_XVFB: list[subprocess.Popen] = []


class BidiError(RuntimeError):
    """A BiDi command failed (the browser's error and message)."""


class ScriptTimeout(TimeoutError):
    """A script ran past the driver's script timeout."""


def ensure_display() -> str | None:
    """Start Xvfb once when ``$DISPLAY`` is unset; return the display (None without Xvfb)."""
    if os.environ.get("DISPLAY"):
        return os.environ["DISPLAY"]
    if not shutil.which("Xvfb"):
        return None
    r, w = os.pipe()
    cmd = ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"]
    proc = subprocess.Popen(cmd, pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        return None
    _XVFB.append(proc)
    atexit.register(proc.terminate)
    os.environ["DISPLAY"] = f":{number}"
    return os.environ["DISPLAY"]


class FirefoxBidi:
    """One headless Firefox with one tab, driven over WebDriver BiDi."""

    def __init__(self, flags=(), headless: bool = True, start_timeout: float = 60):
        ensure_display()
        self.profile = Path(tempfile.mkdtemp(prefix="wasmdl-firefox-"))
        prefs = "".join(f"user_pref({k!r}, {json.dumps(v)});\n" for k, v in PREFS.items())
        (self.profile / "prefs.js").write_text(prefs.replace("'", '"'))
        cmd = [FIREFOX, "--no-remote", "--profile", str(self.profile), "--remote-debugging-port=0"]
        cmd += ["--headless"] if headless else []
        self.proc = subprocess.Popen(
            [*cmd, *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        url = self._wait_for_url(start_timeout)
        threading.Thread(target=self._drain, daemon=True).start()
        self.ws = websocket.create_connection(
            url + "/session", timeout=start_timeout, suppress_origin=True
        )
        self._id = 0
        self.script_timeout = 30.0
        self.console: list[str] = []
        self.version = self.command("session.new", {"capabilities": {}})["capabilities"]
        self.command("session.subscribe", {"events": ["log.entryAdded"]})
        self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line and self.proc.poll() is not None:
                break
            self.stderr.append(line)
            m = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
            if m:
                return m.group(1)
        self.proc.kill()
        raise BidiError(f"{FIREFOX} did not start WebDriver BiDi: {''.join(self.stderr)[-2000:]}")

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line)
            del self.stderr[:-200]

    def command(self, method: str, params: dict, timeout: float | None = None):
        """Send one BiDi command and return its result (events meanwhile: console lines)."""
        self._id += 1
        my_id = self._id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + (timeout or max(self.script_timeout, 30))
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ScriptTimeout(f"{method}: no answer in {timeout or self.script_timeout} s")
            self.ws.settimeout(left)
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            if msg.get("method") == "log.entryAdded":
                p = msg["params"]
                self.console.append(f"{p.get('level')}: {p.get('text')}")
                del self.console[:-500]
            elif msg.get("id") == my_id:
                if msg.get("type") == "error":
                    raise BidiError(f"{method}: {msg.get('error')}: {msg.get('message')}")
                return msg["result"]

    # selenium-like surface (what pytest-pyodide's runner and site_pages.py use)
    def get(self, url: str) -> None:
        params = {"context": self.context, "url": url, "wait": "complete"}
        self.command("browsingContext.navigate", params, timeout=max(self.script_timeout, 60))

    def refresh(self) -> None:
        self.command("browsingContext.reload", {"context": self.context, "wait": "complete"})

    def evaluate(self, expression: str, timeout: float | None = None):
        """Evaluate ``expression`` in the page, await it if a promise, return it as Python."""
        params = {
            "expression": expression,
            "target": {"context": self.context},
            "awaitPromise": True,
            "resultOwnership": "none",
        }
        result = self.command("script.evaluate", params, timeout=timeout)
        if result["type"] == "exception":
            details = result["exceptionDetails"]
            raise BidiError(f"script error: {details.get('text')}")
        return from_remote(result["result"])

    def call(self, function: str, *args, timeout: float | None = None):
        """Call the JS ``function`` declaration with ``args`` (JSON values, ``BidiElement``s)."""
        params = {
            "functionDeclaration": function,
            "arguments": [to_local(a) for a in args],
            "target": {"context": self.context},
            "awaitPromise": True,
            "resultOwnership": "none",
        }
        result = self.command("script.callFunction", params, timeout=timeout)
        if result["type"] == "exception":
            raise BidiError(f"script error: {result['exceptionDetails'].get('text')}")
        return from_remote(result["result"], self)

    def execute_script(self, body: str, *args):
        """Like selenium's: run ``body`` as a function of ``arguments`` (elements included)."""
        return self.call(f"async function() {{ {body} }}", *args)

    def execute_async_script(self, body: str, *args):
        """Like selenium's: ``body`` calls ``arguments[arguments.length - 1](result)``."""
        wrapper = (
            "function(...args) { return new Promise((done) => {"
            f"  (function() {{ {body} }}).apply(null, [...args, done]); }}); }}"
        )
        return self.call(wrapper, *args)

    def find_elements(self, by: str, value: str, within: BidiElement | None = None) -> list:
        """selenium's ``find_elements`` for ``By.ID``, ``By.CSS_SELECTOR``, ``By.TAG_NAME``."""
        selector = {"id": lambda v: f'[id="{v}"]', "css selector": str, "tag name": str}[by](value)
        found = self.call(
            "function(root, sel) { return [...(root || document).querySelectorAll(sel)]; }",
            within,
            selector,
        )
        return found or []

    def find_element(self, by: str, value: str, within: BidiElement | None = None):
        found = self.find_elements(by, value, within)
        if not found:
            from selenium.common.exceptions import NoSuchElementException

            raise NoSuchElementException(f"no element {by}={value!r}")
        return found[0]

    def execute(self, command: str, params: dict | None = None):
        """selenium's W3C actions (``ActionChains``, ``send_keys``) as BiDi input actions."""
        if command == "actions":
            sources = [
                dict(s, actions=[bidi_action(a) for a in s["actions"]]) for s in params["actions"]
            ]
            self.command("input.performActions", {"context": self.context, "actions": sources})
            return {"value": None}
        if command == "clearActionState":
            self.command("input.releaseActions", {"context": self.context})
            return {"value": None}
        raise NotImplementedError(f"FirefoxBidi.execute({command!r})")

    def set_script_timeout(self, timeout: float) -> None:
        self.script_timeout = timeout

    def set_window_size(self, width: int, height: int) -> None:
        params = {"context": self.context, "viewport": {"width": width, "height": height}}
        self.command("browsingContext.setViewport", params)

    def save_screenshot(self, path: str) -> bool:
        data = self.command("browsingContext.captureScreenshot", {"context": self.context})
        Path(path).write_bytes(base64.b64decode(data["data"]))
        return True

    def get_log(self, kind: str = "browser") -> list[dict]:
        return [{"message": line} for line in self.console]

    def quit(self) -> None:
        try:
            self.command("session.end", {}, timeout=5)
        except Exception:  # noqa: BLE001 - the browser may be gone already
            pass
        self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def make_runner_class():
    """pytest-pyodide's browser runner on ``FirefoxBidi`` (imported lazily: tier 1 lacks it)."""
    from pytest_pyodide.runner import JavascriptException, _BrowserBaseRunner

    class BidiFirefoxRunner(_BrowserBaseRunner):
        browser = "firefox"
        runner = "selenium"

        def get_driver(self, jspi=False):
            return FirefoxBidi(self._config.get_flags("firefox"))

        def goto(self, page):
            self.driver.get(page)

        def set_script_timeout(self, timeout):
            self.driver.set_script_timeout(timeout)
            self.script_timeout = timeout

        def quit(self):
            self.driver.quit()

        def refresh(self):
            self.driver.refresh()
            self.javascript_setup()

        def run_js_inner(self, code, check_code):
            wrapper = """(async () => {
                let run = async () => { %s };
                try {
                    let result = await run();
                    %s
                    return [0, result];
                } catch (e) {
                    return [1, e.toString(), e.stack || "", e.message || ""];
                }
            })()"""
            retval = self.driver.evaluate(wrapper % (code, check_code))
            if retval[0] == 0:
                return retval[1]
            raise JavascriptException(retval[1], retval[2])

    return BidiFirefoxRunner


def register():
    """Make ``--runtime firefox`` use the BiDi runner (pytest-pyodide's maps it to geckodriver)."""
    from pytest_pyodide import fixture

    runner = make_runner_class()
    fixture._runner_map()[("selenium", "firefox", "main")] = runner
    return runner
