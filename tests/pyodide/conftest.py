"""Tier 2: pytest-pyodide in Node (``pytest tests/pyodide --runtime node``).

Fixtures (defined in tests/conftest.py): ``selenium_wasmdl`` (a Pyodide runtime with wasmdl
installed by name via micropip from a local index; one Pyodide per test module),
``selenium_wasmdl_module``, ``wasmdl_server`` (base URL of the site on a free port),
``wasmdl_httpd``, ``wasmdl_site``, ``wasmdl_wheel``.

Example test file (tests/pyodide/test_example.py)::

    from pytest_pyodide import run_in_pyodide

    @run_in_pyodide
    def test_sum(selenium_wasmdl):
        import numpy as np
        import wasmdl
        assert float(np.arange(4).sum()) == 6.0

The dist is ``.cache/pyodide/test-dist`` (``--dist-dir`` in pyproject's addopts): the verified
Pyodide dist plus pytest and tblib, so ``pytest.raises`` works inside the test body.
"""

import pytest


@pytest.fixture(autouse=True)
def _pyodide_runtime_only(request):
    """Tests here need a Pyodide runtime: fail clearly when run without ``--runtime``."""
    if "runtime" in request.fixturenames:
        runtime = request.getfixturevalue("runtime")
        if runtime not in ("node", "chrome"):
            pytest.fail(f"tests/pyodide: runtime {runtime!r}; use --runtime node or chrome")
