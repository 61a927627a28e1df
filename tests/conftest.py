"""Fixtures shared by the three test tiers (native, Pyodide in Node, Pyodide in Chromium).

Session-scoped, usable in every tier:
- ``wasmdl_site``: the built site folder (``site/``): Pyodide dist, ``/simple/`` index with the
  freshly built wheel. ``bash scripts/test`` builds it once and sets ``WASMDL_SITE_FRESH=1``;
  a tier run alone (plain ``pytest``) rebuilds it once per session (about 1 s).
- ``wasmdl_wheel``: the path of that wheel (``site/simple/wasmdl/wasmdl-<version>-...whl``).
- ``wasmdl_server``: base URL (``http://127.0.0.1:<free port>``) of a server over ``site/`` in a
  thread: right MIME types, charset, CORS; ``wasmdl_server + "/simple/"`` is the package index.
- ``wasmdl_httpd``: that server itself; ``wasmdl_httpd.requests`` lists ``(path, status)``.

For Pyodide (tests/pyodide with ``--runtime node``, tests/chrome with ``--runtime chrome``):
- ``selenium_wasmdl``: a pytest-pyodide runtime (the ``selenium`` object) in which wasmdl was
  installed BY NAME with ``micropip.install("wasmdl")`` from ``wasmdl_server``'s index. One Pyodide
  instance is shared by all tests of a module (loading costs 2-3 s); Python state persists
  between the tests of a module, so do not rely on a pristine interpreter. Use it as the first
  argument of a ``@run_in_pyodide`` test (pytest-pyodide requires that first argument's name
  to start with ``selenium``)::

      from pytest_pyodide import run_in_pyodide

      @run_in_pyodide
      def test_add(selenium_wasmdl):
          import numpy as np
          import wasmdl
          assert wasmdl.__version__
          np.testing.assert_allclose(np.ones(3) + 1, 2.0)

  ``pytest`` and ``tblib`` are available inside Pyodide (the test dist), so ``pytest.raises``
  and assertion rewriting work in the test body. Or drive JavaScript directly:
  ``selenium_wasmdl.run_js("return 1 + 1")``, ``selenium_wasmdl.run_async("import wasmdl; ...")``.
- ``selenium_wasmdl_module``: the same runtime as a module-scoped fixture (for module fixtures).
  Datasets download from ``wasmdl_server + "/datasets/"`` (``wasmdl.datasets.set_base_url``);
  Node has no synchronous fetch, so a Node test first runs ``await mnist.load_data_async()``.

Timeouts: loading Pyodide and installing wasmdl may take ``WASMDL_SCRIPT_TIMEOUT`` (180 s); each
script of a test ``WASMDL_TEST_TIMEOUT`` (90 s) unless marked ``@pytest.mark.driver_timeout(s)``.

Chrome runs with ``CHROME_FLAGS`` (``--enable-unsafe-webgpu`` among them), set here through
pytest-pyodide's global config.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))  # the top-level bench/ package (not in the wheel)

import build_site  # noqa: E402
import serve  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
import matrix  # noqa: E402  (the support matrix, written by the browser tiers)

os.environ.setdefault("SE_OFFLINE", "true")  # selenium: use /usr/bin/chromedriver, no downloads
CHROME_FLAGS = [
    "--js-flags=--expose-gc",  # pytest-pyodide's default
    "--enable-unsafe-webgpu",  # WebGPU: without it requestAdapter() returns null
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


NODE_FLAGS = ["--experimental-wasm-relaxed-simd"]


# pytest-pyodide waits 20 s for a script, loading Pyodide included; on 2 busy cores that is too
# short. Loading Pyodide and installing wasmdl get SCRIPT_TIMEOUT; then each script of a test
# gets TEST_TIMEOUT, so a hung test fails in 90 s instead of holding the run for minutes.
# A slow test asks for its own: @pytest.mark.driver_timeout(300).
SCRIPT_TIMEOUT = float(os.environ.get("WASMDL_SCRIPT_TIMEOUT", "180"))
TEST_TIMEOUT = float(os.environ.get("WASMDL_TEST_TIMEOUT", "90"))


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("wasmdl-matrix"):
        config.pluginmanager.register(matrix, "wasmdl-matrix")
    try:
        from pytest_pyodide import get_global_config
        from pytest_pyodide.runner import NodeRunner, SeleniumChromeRunner
    except ImportError:  # tier 1 needs no pytest-pyodide
        return
    get_global_config().set_flags("chrome", CHROME_FLAGS)
    if "firefox" in (config.getoption("runtime", "") or ""):
        _register_firefox()
    # Node 20 has relaxed SIMD behind a flag (Chromium and Node 22 have it on): with it the Node
    # tier loads cpu_relaxed.wasm as browsers do; cpu.wasm is tested explicitly.
    get_global_config().set_flags("node", NODE_FLAGS)
    for runner in (NodeRunner, SeleniumChromeRunner):
        runner.script_timeout = max(runner.script_timeout, SCRIPT_TIMEOUT)
    _node_waits_for_script_timeout(NodeRunner)


def _register_firefox() -> None:
    """``--runtime firefox``: headless Firefox ESR over WebDriver BiDi (no geckodriver here)."""
    sys.path.insert(0, str(ROOT / "tests" / "chrome"))
    import firefox_bidi

    runner = firefox_bidi.register()
    runner.script_timeout = max(runner.script_timeout, SCRIPT_TIMEOUT)


def _node_waits_for_script_timeout(node_runner) -> None:
    """Make Node's script timeout govern the wait for a script's result.

    pytest-pyodide 0.59.2's NodeRunner waits for the result with pexpect's default of 60 s
    whatever the script timeout (``driver_timeout`` marks included), so any test script longer
    than a minute failed in Node. Setting the pexpect default before each script fixes that.
    """
    run_js_inner = node_runner.run_js_inner

    def run_js_inner_with_timeout(self, code, check_code):
        self.p.timeout = self.script_timeout
        return run_js_inner(self, code, check_code)

    node_runner.run_js_inner = run_js_inner_with_timeout


@pytest.fixture(scope="session")
def wasmdl_wheel() -> Path:
    """The freshly built wheel inside site/ (built once per session unless already fresh)."""
    if os.environ.get("WASMDL_SITE_FRESH") == "1":
        wheels = sorted((build_site.SITE / "simple" / "wasmdl").glob("wasmdl-*.whl"))
        if len(wheels) == 1:
            return wheels[0]
    return build_site.build()


@pytest.fixture(scope="session")
def wasmdl_site(wasmdl_wheel: Path) -> Path:
    """The built site folder (site/)."""
    return build_site.SITE


@pytest.fixture(scope="session")
def wasmdl_httpd(wasmdl_site: Path):
    """The local server over site/ (``.url``, ``.requests``: ``(path, status)`` answered)."""
    with serve.serve_in_thread(wasmdl_site) as server:
        yield server


@pytest.fixture(scope="session")
def wasmdl_server(wasmdl_httpd) -> str:
    """Base URL of the local server over site/ on a free port, e.g. ``http://127.0.0.1:41234``."""
    return wasmdl_httpd.url


INSTALL_CODE = """
import micropip
micropip.set_index_urls([{index!r}])
await micropip.install("wasmdl")
import wasmdl
wasmdl.datasets.set_base_url({datasets!r})  # the test page is not the site: name its /datasets/
wasmdl.__version__
"""


@pytest.fixture(scope="module")
def selenium_wasmdl_module(selenium_module_scope, wasmdl_server: str, wasmdl_wheel: Path):
    """A Pyodide runtime per test module with wasmdl installed by name from the local index."""
    expected = wasmdl_wheel.name.split("-")[1]
    index = wasmdl_server + "/simple/{package_name}/"
    datasets = wasmdl_server + "/datasets/"
    version = selenium_module_scope.run_async(INSTALL_CODE.format(index=index, datasets=datasets))
    if version != expected:
        pytest.fail(
            f"selenium_wasmdl_module: micropip.install('wasmdl') from {index} gave version "
            f"{version!r}, expected {expected!r} (the wheel {wasmdl_wheel.name})"
        )
    selenium_module_scope.set_script_timeout(TEST_TIMEOUT)
    yield selenium_module_scope


@pytest.fixture
def selenium_wasmdl(request, selenium_wasmdl_module):
    """The module's Pyodide runtime, with per-test log capture and script timeout."""
    from pytest_pyodide.fixture import selenium_context_manager
    from pytest_pyodide.utils import parse_driver_timeout, set_webdriver_script_timeout

    timeout = parse_driver_timeout(request.node)
    with (
        selenium_context_manager(selenium_wasmdl_module) as rt,
        set_webdriver_script_timeout(rt, script_timeout=timeout),
    ):
        yield rt
