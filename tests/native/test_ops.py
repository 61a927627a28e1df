"""Tier 1: the op case table (wasmdl.testing) on CPython: forward vs numpy references,
gradients vs finite differences (float32 analytic vs float64 FD of the reference, and float64
analytic vs FD of wasmdl), contiguous and strided inputs, and PyTorch as a second oracle.
Tolerances: see wasmdl/testing/check.py."""

import pytest
import torch

from wasmdl.testing import CASES, check

TORCH_CASES = [c for c in CASES if c.torch is not None]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_forward(case):
    check.check_forward(case)
    check.check_forward(case, noncontig=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_grad_vs_reference_fd(case):
    check.check_grad(case)
    check.check_grad(case, noncontig=True)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_grad_float64_vs_own_fd(case):
    check.check_grad_fd64(case)


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda c: c.name)
def test_vs_torch(case):
    check.check_torch(case, torch)


def test_table_covers_every_primitive():
    """Every primitive in wasmdl.OPS is exercised by some case (directly or as a VJP)."""
    import wasmdl as wl
    from wasmdl.ops import core

    seen = set()
    orig = core.apply

    def spy(name, *xs, **p):
        seen.add(name)
        return orig(name, *xs, **p)

    core.apply = spy
    try:
        for mod in ("elementwise", "reduce", "shape", "index", "conv"):
            getattr(wl.ops, mod).apply = spy
        for case in CASES:
            check.check_grad(case)
            check.check_forward(case)
    finally:
        core.apply = orig
        for mod in ("elementwise", "reduce", "shape", "index", "conv"):
            getattr(wl.ops, mod).apply = orig
    assert set(wl.OPS) - seen == set()
