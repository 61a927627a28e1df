"""Which tests of tests/chrome run in the Firefox tier (``bash scripts/test firefox``).

The Firefox tier is the same Pyodide test modules as the Chromium tier where they apply: the op
case table on numpy/WASM, WebGPU and WebGL2 (as Firefox offers them), a training recipe per
backend, the kernels' build, the site's REPL and MNIST demo. ``SELECT`` names, per module, the
tests that run (``None``: all of them); everything else in tests/chrome is Chromium's (benchmark
pages, interop with TF.js/ONNX, captures, fault injection) and is deselected, not skipped.

A gap is ``XFAIL``: ``xfail(strict=True)`` with the browser's own error as the reason, so the
day Firefox fills it the test XPASSes and the strict marker fails the run.
"""

from __future__ import annotations

import pytest

SELECT: dict[str, tuple[str, ...] | None] = {
    "test_smoke.py": None,
    "test_engine.py": None,
    "test_jupyterlite.py": None,
    "test_pyscript.py": None,
    "test_site_repl.py": None,
    "test_site_mnist.py": None,
    "test_gpu_adapters.py": None,
    "test_wasm_kernels.py": ("test_kernels_active_and_exact_in_chromium",),
    "test_datasets.py": ("test_mnist_downloads_synchronously_in_a_page",),
    "test_numpy_backend.py": (
        "test_op_table_with_kernels[firefox-on]",
        "test_mlp_recipe_reaches_92_percent[firefox-on]",
    ),
    "test_webgpu.py": (
        "test_coverage_report_is_empty_for_the_core_table",
        "test_op_table_forward_and_gradients_match_numpy",
        "test_mlp_follows_the_numpy_loss_curve",
        "test_fit_and_predict_without_await_per_batch",
        "test_sync_numpy_outside_async_python_says_to_await",
    ),
    "test_webgl.py": (
        "test_smoke_sync_read_under_plain_run_python",
        "test_op_table_forward_and_gradients_match_numpy",
        "test_coverage_report_is_empty_for_the_core_table",
        "test_training_follows_the_numpy_losses[firefox-mlp]",
        "test_async_read_and_memory_verbs",
    ),
}

# test name prefix -> Firefox's own error, seen on lavapipe (Mesa's CPU Vulkan driver)
XFAIL: dict[str, str] = {
    "test_gpu_adapters.py::test_webgpu_adapter": (
        "Firefox on lavapipe: requestAdapter() gives a working device but an empty "
        "GPUAdapterInfo {vendor: '', architecture: '', description: ''}"
    ),
}


def _selected(module: str, name: str) -> bool:
    if module not in SELECT:
        return False
    names = SELECT[module]
    return names is None or any(name == n or name.startswith(n + "[") for n in names)


def select(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect what does not apply to Firefox; mark the known gaps strict xfail."""
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("runtime") not in (None, "firefox"):
            keep.append(item)  # another runtime's item (--runtime chrome,firefox)
            continue
        module = item.path.name
        if not _selected(module, item.name):
            drop.append(item)
            continue
        for prefix, reason in XFAIL.items():
            if f"{module}::{item.name}".startswith(prefix):
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep
