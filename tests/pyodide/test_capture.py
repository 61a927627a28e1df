"""Captured step programs in Pyodide (Node): the step case table of ``wasmdl.testing.steps``,
eager against captured, with the WASM CPU kernels on and off."""

import json

import pytest


@pytest.mark.driver_timeout(600)
@pytest.mark.parametrize("kernels", [True, False], ids=["wasm", "numpy"])
def test_step_case_table_capture_matches_eager(selenium_wasmdl, kernels):
    r = json.loads(
        selenium_wasmdl.run_async(f"""
import json, wasmdl
from wasmdl.testing import steps
wasmdl.set_cpu_kernels({kernels})
try:
    r = steps.check_table()
finally:
    wasmdl.set_cpu_kernels(True)
json.dumps(r)
""")
    )
    print({k: (v["captured"], v.get("backend_calls")) for k, v in r["info"].items()})
    assert not r["failures"], "\n".join(r["failures"])
    assert len(r["info"]) == 22
