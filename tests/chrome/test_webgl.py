"""Tier 3: the WebGL2 backend in headless Chromium (SwiftShader, default flags).

One page for the module (``selenium_wasmdl``). Reads are synchronous ``readPixels``, so
``t.numpy()`` works even where Python was entered with plain ``runPython``. The checks live in
``wasmdl.backend.webgl_checks``; the op cases are the core table ``wasmdl.testing.CASES``,
compared with the numpy references at the table's float32 tolerances (forward rtol/atol 1e-5;
gradients against float64 finite differences rtol/atol 1e-4), widened per op only where
``WEBGL_TOL`` says so.
"""

import json

import pytest
from pytest_pyodide import run_in_pyodide


@pytest.fixture(autouse=True)
def _long_scripts(selenium_wasmdl):
    selenium_wasmdl.set_script_timeout(300)  # SwiftShader runs shaders on the CPU


def test_smoke_sync_read_under_plain_run_python(selenium_wasmdl):
    code = """
import numpy as np, wasmdl as wl
wl.set_backend("webgl")
x = wl.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
y = (x @ wl.ones((3, 2))) * 2 + 1
r = [y.numpy().tolist(), (x > 2).numpy().tolist(), wl.argmax(x, axis=1).numpy().tolist()]
wl.set_backend("numpy")
str(r)
"""
    out = selenium_wasmdl.run(code)  # runPython: no JSPI, yet the read is synchronous
    assert out == str(
        [[[7.0, 7.0], [25.0, 25.0]], [[False, False, False], [True, True, True]], [2, 2]]
    ), out
