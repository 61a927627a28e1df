"""wasmdl in JupyterLite, end to end, offline from the built site (``/lite/``).

Opens ``lite/content/wasmdl_mnist.ipynb`` in JupyterLite's notebook app (the Pyodide kernel on
the site's own Pyodide dist), runs every cell as a person would with *Run All Cells*
(``notebook:run-all-cells``; the site exposes the app as ``window.jupyterapp``), and reads what
the notebook shows: ``%pip install wasmdl`` from the site's index, the progress bar at its end,
the matplotlib figure, and the trained model's test accuracy.

Waits poll the page (no sleeps): the first cell starts the kernel and installs packages, which
takes 10-60 s on a busy 2-core machine; training one MNIST epoch another 10-60 s.
"""

import re
import time

import pytest
from site_pages import chrome_driver, screenshot

NOTEBOOK = "wasmdl_mnist.ipynb"
TIMEOUT = 420  # the whole notebook

KERNEL = "window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status"
OUTPUTS = """
const texts = [...document.querySelectorAll('.jp-Cell .jp-OutputArea-output')]
    .map(e => e.innerText);
const errors = [...document.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .map(e => e.innerText).filter(t => /Error|Traceback/.test(t));
const bar = document.querySelector('progress.wasmdl-progress');
return {texts, errors,
        progress: bar ? [Number(bar.value), Number(bar.max)] : null,
        images: document.querySelectorAll('.jp-OutputArea-output img').length,
        kernel: KERNEL};
""".replace("KERNEL", KERNEL)


def poll(driver, script: str, done, timeout: float, what: str):
    """Run ``script`` every second until ``done(value)``; fail with the last value."""
    deadline, value = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if done(value):
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last: {value}")


@pytest.mark.driver_timeout(TIMEOUT)
def test_notebook_installs_trains_plots_and_reports_accuracy(
    request, runtime, web_server_main, playwright_browsers, wasmdl_server, artifacts_dir
):
    with chrome_driver(request, runtime, web_server_main, playwright_browsers) as driver:
        driver.get(f"{wasmdl_server}/lite/notebooks/index.html?path={NOTEBOOK}")
        poll(driver, f"return {KERNEL}", lambda s: s == "idle", 180, "the Pyodide kernel to start")
        driver.execute_script("jupyterapp.commands.execute('notebook:run-all-cells'); return 1")
        start = time.monotonic()
        try:
            out = poll(
                driver,
                OUTPUTS,
                lambda o: o["errors"] or any("test accuracy:" in t for t in o["texts"]),
                TIMEOUT,
                "the notebook's 'test accuracy:' line",
            )
        finally:
            screenshot(driver, artifacts_dir, f"jupyterlite_{runtime}")
        assert not out["errors"], "\n".join(out["errors"])
        text = "\n".join(out["texts"])
        accuracy = float(re.search(r"test accuracy: ([0-9.]+)", text).group(1))
        print(
            f"JupyterLite ({runtime}): accuracy {accuracy:.4f} in {time.monotonic() - start:.0f} s"
        )
        assert accuracy > 0.8, text
        assert out["progress"] and out["progress"][0] == out["progress"][1] > 0, out["progress"]
        assert out["images"] >= 1, "no matplotlib figure in the outputs"
        assert text.startswith("wasmdl "), text  # the installed package printed its version
