"""The op test table and its checkers, importable anywhere wasmdl runs (natively, in Pyodide,
in the browser), so one table checks every backend.

>>> from wasmdl.testing import CASES, check
>>> check.check_forward(next(c for c in CASES if c.name.startswith("matmul")))
"""

from . import cases_fused, cases_more, cases_nn  # noqa: F401  (they add rows to CASES)
from .cases import CASES, Case  # noqa: F401
