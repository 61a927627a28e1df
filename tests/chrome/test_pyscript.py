"""wasmdl in PyScript, end to end, offline from the built site (``/pyscript/``).

The page (web/pyscript/) starts a PyScript worker (``@pyscript/core`` 0.6.66's ``PyWorker``) on
the site's Pyodide with ``packages = ["wasmdl"]`` from the site's index; the worker trains the
README model on MNIST and the page writes the test accuracy into the DOM, which this reads.
Waits poll the page (no sleeps beyond the poll interval).
"""

import json
import time

import pytest
from site_pages import chrome_driver, screenshot

TIMEOUT = 300
STATE = """
const acc = document.getElementById('accuracy');
return {state: document.body.dataset.state, status: document.getElementById('status').textContent,
        accuracy: acc.dataset.value, log: document.getElementById('log').textContent};
"""


@pytest.mark.driver_timeout(TIMEOUT)
def test_worker_installs_wasmdl_trains_and_shows_accuracy(
    request,
    runtime,
    web_server_main,
    playwright_browsers,
    wasmdl_server,
    wasmdl_httpd,
    artifacts_dir,
):
    with chrome_driver(request, runtime, web_server_main, playwright_browsers) as driver:
        driver.get(f"{wasmdl_server}/pyscript/")
        deadline, page = time.monotonic() + TIMEOUT, None
        try:
            while time.monotonic() < deadline:
                page = driver.execute_script(STATE)
                if page["state"] in ("done", "error"):
                    break
                time.sleep(1)
        finally:
            screenshot(driver, artifacts_dir, f"pyscript_{runtime}")
        assert page["state"] == "done", f"PyScript page did not finish: {page}"
        result = json.loads(page["log"])
        print(f"PyScript ({runtime}): {result}; {page['status']}")
        assert float(page["accuracy"]) == pytest.approx(result["accuracy"])
        assert result["accuracy"] > 0.8, result
        served = [path for path, status in wasmdl_httpd.requests if status == 200]
        assert any(p.startswith("/simple/wasmdl/wasmdl-") for p in served), "not from the index"
        assert "/vendor/@pyscript/core/dist/core.js" in served, served
