"""Every module's docstring examples run and print what they show (natively).

The style guide asks each public function for a runnable example; this finds every module of
the package (``pkgutil.walk_packages``), so a new module's examples are checked from the day it
lands, not when someone adds it to a list; the benchmark package (bench/) likewise.
(test_training_examples.py keeps the high-level API's examples as a separate, named set.)
"""

import doctest
import importlib
import pkgutil

import pytest

import bench  # the top-level benchmark package (not in the wheel): its examples run too
import wasmdl

MODULES = sorted(
    [m.name for m in pkgutil.walk_packages(wasmdl.__path__, "wasmdl.")]
    + ["bench"]
    + [m.name for m in pkgutil.walk_packages(bench.__path__, "bench.")]
)


def test_every_module_is_found():
    assert {"wasmdl.ops", "wasmdl._wasm.loader", "bench.gemm", "bench.wheel"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
