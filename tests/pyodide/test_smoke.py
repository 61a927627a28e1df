"""Smoke tests of tier 2: wasmdl installs by name from the local index and numpy works."""

from pytest_pyodide import run_in_pyodide


def test_wasmdl_came_from_local_index(selenium_wasmdl, wasmdl_httpd, wasmdl_wheel):
    """The install in the fixture fetched the index page and the fresh wheel from our server."""
    served = [path for path, status in wasmdl_httpd.requests if status == 200]
    assert "/simple/wasmdl/" in served, wasmdl_httpd.requests
    assert f"/simple/wasmdl/{wasmdl_wheel.name}" in served, wasmdl_httpd.requests


@run_in_pyodide
def test_wasmdl_imports_with_its_version(selenium_wasmdl):
    import micropip

    import wasmdl

    assert micropip.list()["wasmdl"].version == wasmdl.__version__
    assert wasmdl.__file__.startswith("/lib/python3.12/site-packages/wasmdl/"), wasmdl.__file__


@run_in_pyodide
def test_numpy_computation(selenium_wasmdl):
    import numpy as np
    import pytest

    assert np.__version__ == "2.0.2"  # the official Pyodide 0.27.7 wheel from the verified dist
    a = np.array([[4.0, 1.0], [2.0, 3.0]])
    x = np.linalg.solve(a, np.array([1.0, 2.0]))
    np.testing.assert_allclose(x, [0.1, 0.6], rtol=1e-12)  # by hand: det = 10
    np.testing.assert_allclose(a @ x, [1.0, 2.0], rtol=1e-12)
    with pytest.raises(ValueError, match="cannot reshape"):
        np.arange(3).reshape(2, 2)
