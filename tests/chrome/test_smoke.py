"""Smoke tests of tier 3: in a Chromium page, wasmdl installs by name and numpy works."""

from pytest_pyodide import run_in_pyodide


def test_wasmdl_came_from_local_index(selenium_wasmdl, wasmdl_httpd, wasmdl_wheel):
    served = [path for path, status in wasmdl_httpd.requests if status == 200]
    assert f"/simple/wasmdl/{wasmdl_wheel.name}" in served, wasmdl_httpd.requests


@run_in_pyodide
def test_wasmdl_and_numpy_in_chrome(selenium_wasmdl):
    import js
    import numpy as np

    import wasmdl

    assert "Chrome" in js.navigator.userAgent or "Firefox" in js.navigator.userAgent
    assert wasmdl.__version__
    x = np.linspace(0.0, 1.0, 101)
    assert abs(np.trapezoid(x**2, x) - 1 / 3) < 1e-4  # integral of x^2 on [0, 1]
