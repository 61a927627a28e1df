"""Tier 1: native CPython (``pytest tests/native``), with PyTorch as the oracle where needed.

The shared fixtures of tests/conftest.py work here too: ``wasmdl_wheel`` (the freshly built
wheel), ``wasmdl_site`` (the built site/) and ``wasmdl_server`` / ``wasmdl_httpd`` (site/ served
on a free port). Also here:
- ``setup_pyodide``: the module scripts/setup_pyodide.py (dist paths, ``verify``, lock helpers).

Example:
    def test_index_lists_the_wheel(wasmdl_server, wasmdl_wheel):
        import urllib.request
        page = urllib.request.urlopen(wasmdl_server + "/simple/wasmdl/").read().decode()
        assert wasmdl_wheel.name in page
"""

import pytest


@pytest.fixture(scope="session")
def setup_pyodide():
    import setup_pyodide  # scripts/ is on sys.path (tests/conftest.py)

    return setup_pyodide
