"""The REPL page (/repl/), served by a plain static server (``python -m http.server``), driven
like a person: typing into the terminal, pressing Tab, clicking examples and backends.

Python runs in a Web Worker with wasmdl installed by ``micropip.install("wasmdl")`` from the
site's own index; every test reads what the terminal shows and saves a screenshot.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from site_pages import (
    attr,
    chrome_driver,
    plain_static_server,
    screenshot,
    text,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(scope="module")
def repl(request, runtime, web_server_main, playwright_browsers, wasmdl_site):
    with (
        plain_static_server(wasmdl_site) as url,
        chrome_driver(request, runtime, web_server_main, playwright_browsers) as driver,
    ):
        start = time.perf_counter()
        driver.get(url + "/repl/")
        wait_for(
            driver,
            lambda d: attr(d, "status", "data-state") in ("ready", "error"),
            what="the REPL to start",
        )
        assert attr(driver, "status", "data-state") == "ready", output(driver)
        driver.load_seconds = time.perf_counter() - start
        yield driver


def output(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "#terminal .terminal-output").text


def commands_done(driver) -> int:
    return driver.execute_script("return wasmdlRepl.state.commands")


def type_lines(driver, *lines: str, timeout: float = 60) -> str:
    """Type each line and press Enter (as a person would); return the new terminal output."""
    before = output(driver)
    for line in lines:
        done = commands_done(driver)
        box = driver.find_element(By.CSS_SELECTOR, "#terminal textarea")
        box.send_keys(line + Keys.ENTER)
        wait_for(driver, lambda d, n=done: commands_done(d) > n, timeout, f"{line!r} to run")
    return output(driver)[len(before) :]


def run_cell(driver, code: str, timeout: float = 120) -> str:
    """Submit a multi-line source at once (what pasting or an example button does)."""
    before, done = output(driver), commands_done(driver)
    driver.execute_script("wasmdlRepl.state.term.exec(arguments[0])", code)
    wait_for(driver, lambda d: commands_done(d) > done, timeout, "the cell to run")
    return output(driver)[len(before) :]


def test_repl_expressions_arrays_and_blocks(repl, artifacts_dir, chrome_report):
    chrome_report("REPL page ready (plain http.server)", f"{repl.load_seconds:.1f} s")
    assert "wasmdl" in output(repl) and "micropip" in output(repl)
    out = type_lines(repl, "1 + 1")
    assert out.strip().endswith("2"), out
    out = type_lines(repl, "import numpy as np", "np.arange(6).reshape(2, 3)")
    # A numpy repr holds "[[": it must print as text, never run as a terminal command.
    assert "array([[0, 1, 2],\n[3, 4, 5]])" in re.sub(r"\n\s+", "\n", out), out
    # A block: the REPL indents the next line itself; an empty line ends the block.
    out = type_lines(repl, "for i in range(4):", "print(i * i)", "")
    assert out.rstrip().endswith("\n0\n1\n4\n9"), out
    screenshot(repl, artifacts_dir, "repl_expressions")


def test_repl_traceback_and_syntax_error(repl, artifacts_dir):
    out = type_lines(repl, "def inverse(x):", "return 1 / x", "", "inverse(0)")
    assert "Traceback (most recent call last):" in out, out
    assert 'File "<console>", line 2, in inverse' in out, out
    assert out.rstrip().endswith("ZeroDivisionError: division by zero"), out
    out = type_lines(repl, "x = = 1")
    assert "SyntaxError: invalid syntax" in out, out
    assert "2" == type_lines(repl, "1 + 1").strip().splitlines()[-1]  # the console still works
    screenshot(repl, artifacts_dir, "repl_traceback")


def test_repl_top_level_await_and_responsive_page(repl, artifacts_dir):
    out = type_lines(repl, "import asyncio", 'await asyncio.sleep(0.2); "awake"')
    assert out.strip().endswith("'awake'"), out
    # Python busy for 3 s in the worker: the page's own JavaScript still answers at once.
    done = commands_done(repl)
    repl.find_element(By.CSS_SELECTOR, "#terminal textarea").send_keys(
        "import time; time.sleep(3); 'slept'" + Keys.ENTER
    )
    wait_for(repl, lambda d: attr(d, "status", "data-state") == "running", 10, "running")
    start = time.perf_counter()
    assert repl.execute_script("return wasmdlRepl.state.running") is True
    assert time.perf_counter() - start < 1.0
    wait_for(repl, lambda d: commands_done(d) > done, 30, "time.sleep(3) to finish")
    assert output(repl).rstrip().endswith("'slept'")
    screenshot(repl, artifacts_dir, "repl_await")


def test_repl_tab_completion_and_history(repl, artifacts_dir):
    type_lines(repl, "import wasmdl")
    box = repl.find_element(By.CSS_SELECTOR, "#terminal textarea")
    command = lambda d: d.execute_script("return wasmdlRepl.state.term.get_command()")  # noqa: E731
    box.send_keys("wasmdl.__vers" + Keys.TAB)
    wait_for(repl, lambda d: command(d) == "wasmdl.__version__", 10, "the completion")
    screenshot(repl, artifacts_dir, "repl_completion")
    done = commands_done(repl)
    box.send_keys(Keys.ENTER)
    wait_for(repl, lambda d: commands_done(d) > done, 20, "the completed line to run")
    assert re.search(r"'\d+\.\d+\.\d+'$", output(repl).rstrip()), output(repl)[-200:]
    box.send_keys(Keys.ARROW_UP)  # history
    wait_for(repl, lambda d: command(d) == "wasmdl.__version__", 10, "the history entry")
    repl.execute_script("wasmdlRepl.state.term.set_command('')")
    # Callables complete with their "(" (rlcompleter), inside an expression too.
    box.send_keys("print(wasmdl.Sequen" + Keys.TAB)
    wait_for(repl, lambda d: command(d) == "print(wasmdl.Sequential(", 10, "the completion")
    repl.execute_script("wasmdlRepl.state.term.set_command('')")


def test_repl_rich_output_summary_and_figure(repl, artifacts_dir):
    out = run_cell(
        repl,
        "import wasmdl\n"
        "model = wasmdl.Sequential([wasmdl.nn.Dense(4, input_shape=(3,)), wasmdl.nn.Dense(2)])\n"
        "model.summary()",
    )
    assert "Total params: 26" in out, out  # (3*4 + 4) + (4*2 + 2)
    figures = "return document.querySelectorAll('#terminal img.py-figure').length"
    before = repl.execute_script(figures)
    out = run_cell(
        repl,
        "import matplotlib.pyplot as plt\n"
        "plt.figure(figsize=(3, 2))\nplt.plot([1, 3, 2])\nplt.show()",
    )
    assert "Traceback" not in out, out
    wait_for(repl, lambda d: d.execute_script(figures) == before + 1, 30, "the figure")
    width = repl.execute_script(
        "const i = [...document.querySelectorAll('#terminal img.py-figure')].pop();"
        "return i.complete ? i.naturalWidth : 0"
    )
    assert width > 100
    assert re.fullmatch(r"heap \d+\.\d MB.*", text(repl, "memory")), text(repl, "memory")
    screenshot(repl, artifacts_dir, "repl_rich_output")


def test_repl_examples_run(repl, artifacts_dir):
    buttons = repl.find_elements(By.CSS_SELECTOR, "#examples button.example")
    names = [b.get_attribute("data-example") for b in buttons]
    assert {"hello", "autograd", "train", "await", "plot", "error"} <= set(names), names
    for button in buttons:
        name = button.get_attribute("data-example")
        before, done = output(repl), commands_done(repl)
        button.click()
        wait_for(repl, lambda d, n=done: commands_done(d) > n, 120, f"example {name!r}")
        out = output(repl)[len(before) :]
        if name == "error":
            assert "ZeroDivisionError: division by zero" in out, out
        elif name == "train":
            assert "Total params: 25,450" in out and "Epoch 2/2 32/32" in out, out
            assert re.search(r"'accuracy': 0\.[6-9]", out), out
        else:
            assert "Traceback" not in out and "Error" not in out, (name, out)
    screenshot(repl, artifacts_dir, "repl_examples")


def test_repl_backend_switcher(repl, artifacts_dir):
    offered = repl.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "const gl = !!document.createElement('canvas').getContext('webgl2');"
        "(navigator.gpu ? navigator.gpu.requestAdapter() : Promise.resolve(null))"
        ".then((a) => done({webgpu: !!a, webgl: gl}), () => done({webgpu: false, webgl: gl}));"
    )
    offered["numpy"] = True
    out = type_lines(repl, "import wasmdl; wasmdl.available_backends()")
    available = re.findall(r"'(\w+)'", out.strip().splitlines()[-1])
    assert "numpy" in available, out
    buttons = {
        b.get_attribute("data-backend"): b
        for b in repl.find_elements(By.CSS_SELECTOR, "#backends button.backend")
    }
    assert {"numpy", "webgpu", "webgl"} <= set(buttons)
    assert buttons["numpy"].get_attribute("aria-checked") == "true"
    for name, button in buttons.items():
        usable = name in available and offered.get(name, True)
        assert button.is_enabled() == usable, (name, available, offered)
    assert buttons["webgl"].is_enabled()  # WebGL2 works headless (SwiftShader)
    enabled = {name: buttons[name].is_enabled() for name in ("webgpu", "webgl")}
    for name in ("webgpu", "webgl"):  # each switch re-renders the buttons: find them again
        if not enabled[name]:
            continue
        repl.find_element(By.CSS_SELECTOR, f"#backends button[data-backend={name}]").click()
        wait_for(repl, lambda d, n=name: f"# wasmdl backend: {n}" in output(d), 60, "the switch")
        assert type_lines(repl, "wasmdl.get_backend().name").strip().endswith(f"'{name}'")
        out = type_lines(repl, "(wasmdl.ones((2, 2)) * 3).numpy().tolist()")
        assert out.strip().endswith("[[3.0, 3.0], [3.0, 3.0]]"), out
        screenshot(repl, artifacts_dir, f"repl_backend_{name}")
        back = output(repl).count("# wasmdl backend: numpy") + 1
        repl.find_element(By.CSS_SELECTOR, "#backends button[data-backend=numpy]").click()
        wait_for(
            repl, lambda d, b=back: output(d).count("# wasmdl backend: numpy") == b, 30, "back"
        )
    screenshot(repl, artifacts_dir, "repl_backends")


def readme_quickstart() -> str:
    """The first ```python block under the README's "Quick start" heading."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^##+ Quick start.*?```python\n(.*?)```", readme, re.S | re.M)
    if match is None:
        pytest.fail("README.md: expected a '## Quick start' section with a ```python block")
    return match.group(1)


def test_readme_quickstart_runs_in_the_repl(repl, artifacts_dir):
    code = readme_quickstart()
    assert 'await micropip.install("wasmdl")' in code
    out = run_cell(repl, code.strip(), timeout=180)
    screenshot(repl, artifacts_dir, "repl_readme_quickstart")
    assert "Traceback" not in out, out
    accuracy = re.search(r"test accuracy: (\d+\.\d)%", out)
    assert accuracy and float(accuracy.group(1)) > 70, out


def test_repl_stop_restarts_a_runaway_loop(repl, artifacts_dir):
    type_lines(repl, "lost = 1")
    box = repl.find_element(By.CSS_SELECTOR, "#terminal textarea")
    before = output(repl)
    box.send_keys("while True: pass" + Keys.ENTER)
    # the line is echoed once the terminal has taken it (a second Enter sent before that was
    # lost under load in Firefox, leaving the block open)
    wait_for(repl, lambda d: "while True: pass" in output(d)[len(before) :], 30, "the echo")
    box.send_keys(Keys.ENTER)  # end the block: the loop starts
    wait_for(repl, lambda d: attr(d, "status", "data-state") == "running", 30, "the loop")
    # A plain static server gives no cross-origin isolation, so no SharedArrayBuffer interrupt:
    # Stop ends the worker and starts a fresh Python (the page itself never froze).
    repl.find_element(By.ID, "stop").click()
    wait_for(repl, lambda d: "Stopped: Python was restarted" in output(d), 10, "the stop")
    wait_for(repl, lambda d: attr(d, "status", "data-state") == "ready", what="the restart")
    repl.execute_script("wasmdlRepl.state.term.focus()")
    out = type_lines(repl, "'lost' in globals(), 6 * 7")
    screenshot(repl, artifacts_dir, "repl_stop")
    assert out.strip().endswith("(False, 42)"), out


def test_worker_runtime_doctests(repl):
    """The docstring examples of web/assets/py/wasmdl_site.py, run where that module lives."""
    out = run_cell(repl, "import doctest, wasmdl_site\ndoctest.testmod(wasmdl_site)")
    assert re.search(r"TestResults\(failed=0, attempted=(\d+)\)", out), out
    assert int(re.search(r"attempted=(\d+)", out).group(1)) >= 8, out
