"""The lowering of captured programs for the WASM opcode stream (``wasmdl/_wasm/program_lower``)
runs on CPython too (only running the stream needs Pyodide): every row of the stream's case
table encodes as one stream segment, a traced training step is fully covered, temporaries
share arena blocks by liveness, reshapes are aliases and 2-D transposes fold into GEMMs.
The stream itself is checked in tests/pyodide/test_wasm_program.py."""

import numpy as np
import pytest

from wasmdl._wasm.program_lower import Lowered, nbytes
from wasmdl.program import Program
from wasmdl.testing import program_cases as pc
from wasmdl.testing.program_steps import MODELS, trace_step

KERNELS = object()  # stands in for the loaded kernels: lowering only needs to know they exist


@pytest.mark.parametrize("row", range(len(pc.CASES)))
def test_every_case_row_is_one_stream_segment(row):
    kernel, specs, params = pc.CASES[row]
    arrays = [pc._array(np.random.default_rng(row), s) for s in specs]
    low = Lowered(pc.program_of(kernel, arrays, params), KERNELS)
    assert [kind for kind, _ in low.segments] == ["wasm"], (kernel, low.segments)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_traced_steps_are_covered_and_reuse_memory(model):
    tr, _ = trace_step(model, "adam")
    p = tr.program
    low = Lowered(p, KERNELS)
    assert [kind for kind, _ in low.segments] == ["wasm"]
    temps = sum(nbytes(s.shape, s.dtype) for s in p.slots if s.kind == "temp")
    assert low.arena.size < temps  # freed blocks were reused (and aliases took none)


def test_aliases_transposes_and_uncovered_instructions():
    p = Program()
    a, b = p.slot("input", (5, 3), np.float32), p.slot("input", (5, 4), np.float64)
    at = p.emit("permute", (a,), {"axes": (1, 0)}, (3, 5), np.float32)
    r = p.emit("reshape", (a,), {"shape": (15,)}, (15,), np.float32)
    x = p.emit("matmul", (at, a), {}, (3, 3), np.float32)  # a.T @ a: a transpose flag
    y = p.emit("exp", (b,), {}, (5, 4), np.float64)  # float64: a numpy segment
    p.externals, p.outputs = [a, b], [x, y, r]
    low = Lowered(p, KERNELS)
    assert low.transposed == {at: a} and low.aliases == 1
    assert low.loc[r] == low.loc[a] == low.loc[at]
    assert [kind for kind, _ in low.segments] == ["wasm", "numpy"]
    assert low.segments[1][1].kernel == "exp"
    none = Lowered(p, None)  # no kernels: no folding, every instruction numpy's (not the alias)
    assert [i.kernel for _, i in none.segments] == ["permute", "matmul", "exp"]
