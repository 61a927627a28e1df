"""Tier 3: pytest-pyodide in headless Chromium (``pytest tests/chrome --runtime chrome``), and
the Firefox tier (``--runtime firefox``: headless Firefox ESR over WebDriver BiDi, firefox_bidi.py;
the tests that apply are chosen in firefox_tier.py).

Chromium runs with ``--enable-unsafe-webgpu`` (WebGPU on SwiftShader's fallback adapter) and
the flags that keep it offline (``CHROME_FLAGS`` in tests/conftest.py). The fixtures of
tests/conftest.py work here unchanged: ``selenium_wasmdl`` is Pyodide in a Chromium page with
wasmdl installed by name from the local index (one page per test module), ``wasmdl_server`` the
site's base URL.

Also here:
- ``chrome_report``: ``chrome_report("WebGPU adapter", info)`` adds a line to the summary printed
  at the end of the run (renderer and adapter names, page load times...).
- ``artifacts_dir``: ``artifacts/`` at the repository root (screenshots, logs; ignored by git).
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
_REPORT: list[str] = []


def pytest_collection_modifyitems(config, items):
    """``--runtime firefox``: only the tests that apply to Firefox (firefox_tier.py)."""
    if "firefox" in config.option.runtime:
        import firefox_tier

        firefox_tier.select(config, items)


@pytest.fixture(autouse=True)
def _browser_runtime_only(request):
    """Every test here needs ``--runtime chrome`` or ``firefox``; fail clearly otherwise."""
    if "runtime" in request.fixturenames:
        runtime = request.getfixturevalue("runtime")
        if runtime not in ("chrome", "firefox"):
            pytest.fail(f"tests/chrome: runtime {runtime!r}; run with --runtime chrome|firefox")


@pytest.fixture(scope="session")
def chrome_report():
    """Return ``add(label, value)``: a line for the terminal summary of this tier."""

    def add(label: str, value) -> None:
        _REPORT.append(f"{label}: {value}")

    return add


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = ROOT / "artifacts"
    path.mkdir(exist_ok=True)
    return path


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("chrome tier report")
        for line in _REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def keras_files(tmp_path_factory):
    """Model files written by Keras 3 itself, natively (tests/keras_files/make_keras_models.py)."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "keras_files"))
    from keras_fixture import make_keras_files

    return make_keras_files(tmp_path_factory.mktemp("keras_files"))
