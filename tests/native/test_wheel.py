"""The wheel is the runtime (issue #13): code, kernels and shaders; no benchmark, no self-checks
outside wasmdl.testing, no C sources, no data; under 600 KB. Built as the site builds it."""

import shutil
import zipfile

import build_site  # scripts/ is on sys.path (tests/conftest.py)
import pytest

LIMIT = 600_000


@pytest.fixture(scope="module")
def wheel():
    path = build_site.build_wheel()
    try:
        with zipfile.ZipFile(path) as z:
            yield path.stat().st_size, set(z.namelist())
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def test_the_wheel_is_under_600_kb(wheel):
    size, _ = wheel
    print(f"wheel: {size} bytes")
    assert size < LIMIT, f"the wheel is {size} bytes, the limit {LIMIT}"


def test_the_wheel_holds_what_runs(wheel):
    _, names = wheel
    runtime = {
        "wasmdl/__init__.py",
        "wasmdl/kernels/shim.js",
        "wasmdl/kernels/wasm/cpu.wasm",
        "wasmdl/kernels/wasm/cpu_relaxed.wasm",
        "wasmdl/kernels/wasm/find_memory.js",
        "wasmdl/kernels/wgsl/matmul.wgsl",
        "wasmdl/datasets/mnist.py",
        "wasmdl/testing/wasm_checks.py",  # imported inside Pyodide by the browser tiers
        "wasmdl/testing/webgpu_checks.py",
    }
    assert runtime <= names, sorted(runtime - names)


def test_the_wheel_holds_nothing_else(wheel):
    _, names = wheel
    bad = sorted(
        n
        for n in names
        if n.endswith((".c", ".h", ".npz"))
        or n.startswith(("wasmdl/bench/", "bench/"))
        or n in ("wasmdl/_wasm/checks.py", "wasmdl/backend/webgpu_checks.py")
    )
    assert not bad, bad
