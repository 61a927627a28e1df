"""Helpers for the site's end-to-end tests (tests/chrome/test_site_*.py): a browser per module,
a plain static server, waiting on page state, screenshots.

The pages run Python in a Web Worker; the tests drive them like a person (typing, clicking,
drawing with the pointer) and read what the page shows.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# Loading Pyodide + numpy + micropip.install("wasmdl") takes 8-15 s on an idle 2-core machine;
# leave room for a busy one.
PAGE_TIMEOUT = 120


@contextlib.contextmanager
def chrome_driver(request, runtime, web_server_main, playwright_browsers):
    """A pytest-pyodide Chrome runner without Pyodide loaded (the site's pages load their own)."""
    from pytest_pyodide.fixture import selenium_common

    with selenium_common(
        request, runtime, web_server_main, load_pyodide=False, browsers=playwright_browsers
    ) as runner:
        runner.driver.set_window_size(1280, 900)
        runner.driver.set_script_timeout(PAGE_TIMEOUT)
        yield runner.driver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def plain_static_server(root: Path):
    """``python -m http.server`` over ``root``: any plain static server, no project code."""
    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    proc = subprocess.Popen(cmd, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def wait_for(driver, condition, timeout=PAGE_TIMEOUT, what="the page"):
    """Wait until ``condition(driver)`` is truthy; fail naming ``what`` and the page's logs."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)
    except TimeoutException:
        raise AssertionError(
            f"timed out after {timeout} s waiting for {what}; browser log: {browser_log(driver)}"
        ) from None


def browser_log(driver) -> list[str]:
    """The page's last console messages (when the driver records them)."""
    try:
        return [e["message"][:300] for e in driver.get_log("browser")][-10:]
    except Exception:  # noqa: BLE001 - a driver without logs still reports the timeout
        return []


def attr(driver, element_id: str, name: str) -> str | None:
    return driver.find_element(By.ID, element_id).get_attribute(name)


def text(driver, element_id: str) -> str:
    return driver.find_element(By.ID, element_id).text


def screenshot(driver, artifacts_dir: Path, name: str) -> Path:
    path = artifacts_dir / f"site_{name}.png"
    driver.save_screenshot(str(path))
    return path
