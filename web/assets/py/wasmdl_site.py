"""The Python half of the site's Web Worker: console, rich output, backends, memory, events.

Loaded by ``web/assets/pyworker.js`` into Pyodide (inside a Web Worker) after wasmdl has been
installed by name with micropip. Everything the pages ask of Python goes through the functions
here, so the JavaScript stays a thin message relay.

It needs Pyodide's ``pyodide.console`` (inside the worker, or any Pyodide):

    >>> r = Repl()
    >>> r.complete("x = impo")
    (['import '], 4)
    >>> render(3)["text"]
    '3'
"""

from __future__ import annotations

import ast
import base64
import io
import os
import sys
from typing import Any

from pyodide.console import Console, repr_shorten

try:  # inside Pyodide: the worker's global scope
    import js
    from pyodide.ffi import to_js
except ImportError:  # CPython stand-ins, so the module imports (and is testable) anywhere
    js = None
    to_js = None

# A worker has no DOM: matplotlib draws with Agg and plt.show() posts PNGs (wasmdl_site_mpl.py).
os.environ.setdefault("MPLBACKEND", "module://wasmdl_site_mpl")
REPR_LIMIT = 20_000


def emit(kind: str, **data: Any) -> None:
    """Post an event ``{event: kind, data}`` to the page (a no-op outside the worker).

    Example:
        >>> emit("status", text="hello")
    """
    if js is None or not hasattr(js, "postMessage"):
        return
    js.postMessage(to_js({"event": kind, "data": data}, dict_converter=js.Object.fromEntries))


def flush_figures() -> list[str]:
    """Return every open matplotlib figure as a base64 PNG and close it (matplotlib optional).

    Example:
        >>> isinstance(flush_figures(), list)
        True
    """
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    images = []
    for num in plt.get_fignums():
        fig = plt.figure(num)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
        images.append(base64.b64encode(buf.getvalue()).decode("ascii"))
    plt.close("all")
    return images


def show_figures() -> None:
    """Send every open figure to the page now (``plt.show()`` in the site's matplotlib backend)."""
    for png in flush_figures():
        emit("image", png=png)


def render(value: Any) -> dict:
    """Describe a result for the page: ``{"text": repr or None, "images": [base64 PNG, ...]}``.

    Figures and objects with ``_repr_png_`` become images; numpy arrays print at the
    terminal's width; everything else is ``repr``, shortened past ``REPL_LIMIT`` characters.

    Example:
        >>> render(None)
        {'text': None, 'images': []}
    """
    images = flush_figures()
    if value is None:
        return {"text": None, "images": images}
    if type(value).__name__ == "Figure" and hasattr(value, "savefig"):
        buf = io.BytesIO()
        value.savefig(buf, format="png", dpi=96, bbox_inches="tight")
        return {"text": None, "images": [*images, base64.b64encode(buf.getvalue()).decode()]}
    png = _repr_png(value)
    if png is not None:
        return {"text": None, "images": [*images, png]}
    return {
        "text": repr_shorten(value, REPR_LIMIT, separator="\n<long output truncated>\n"),
        "images": images,
    }


def _repr_png(value: Any) -> str | None:
    method = getattr(type(value), "_repr_png_", None)
    if method is None:
        return None
    data = method(value)
    return base64.b64encode(data).decode("ascii") if data else None


def display(*values: Any) -> None:
    """Show values in the console now, as rich output (images for figures), like IPython's.

    Example:
        >>> display(1)
        1
    """
    for value in values:
        out = render(value)
        for png in out["images"]:
            emit("image", png=png)
        if out["text"] is not None:
            print(out["text"])


async def load_packages_for(source: str) -> None:
    """Load the Pyodide packages that ``source`` imports (matplotlib, scipy, ...), quietly.

    Like ``PyodideConsole.runcode`` does, but only "Loading ..." messages reach the page.
    """
    if js is None:
        return
    import pyodide_js

    options = js.Object.fromEntries(to_js({"messageCallback": js.wasmdlLoadMessage}))
    await pyodide_js.loadPackagesFromImports(source, options)


class _Console(Console):
    """Pyodide's ``PyodideConsole``, with quieter package loading."""

    async def runcode(self, source: str, code: Any) -> Any:
        await load_packages_for(source)
        return await super().runcode(source, code)


class Repl:
    """Pyodide's console plus cells, rich results and formatted tracebacks, for the REPL page.

    ``push(line)`` follows Python's interactive prompt (``incomplete`` asks for more lines);
    ``run_cell(source)`` runs a whole multi-line source at once (pasted code, example snippets),
    showing its last expression's value. Both allow top-level ``await``.

    Example:
        >>> Repl().complete("pri")
        (['print('], 0)
    """

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__", "display": display}
        self.console = _Console(self.namespace, filename="<console>")

    async def push(self, line: str) -> dict:
        fut = self.console.push(line)
        if fut.syntax_check == "incomplete":
            return {"state": "incomplete"}
        if fut.syntax_check == "syntax-error":
            fut.exception()  # mark it retrieved (asyncio would log it otherwise)
            return {"state": "error", "error": fut.formatted_error}
        try:
            value = await fut
        except BaseException as exc:  # noqa: BLE001 - the user's error is the result
            error = fut.formatted_error or self.console.formattraceback(exc)
            return {"state": "error", "error": error, **render(None)}
        if value is not None:
            self.namespace["_"] = value
        return {"state": "done", **render(value)}

    async def run_cell(self, source: str) -> dict:
        from _pyodide._base import CodeRunner

        try:
            runner = CodeRunner(
                source,
                filename=self.console.filename,
                return_mode="last_expr",
                flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
            )
            runner.compile()
        except (SyntaxError, ValueError, OverflowError) as exc:
            return {"state": "error", "error": self.console.formatsyntaxerror(exc)}
        try:
            await load_packages_for(source)
            with self.console.redirect_streams():
                value = await runner.run_async(self.namespace)
        except BaseException as exc:  # noqa: BLE001 - the user's error is the result
            return {"state": "error", "error": self.console.formattraceback(exc), **render(None)}
        return {"state": "done", **render(value)}

    def complete(self, source: str) -> tuple[list[str], int]:
        return self.console.complete(source)

    def reset_buffer(self) -> None:
        self.console.buffer.clear()


def set_print_width(columns: int) -> None:
    """Make numpy print arrays as wide as the terminal (numpy is imported when present)."""
    if "numpy" in sys.modules:
        sys.modules["numpy"].set_printoptions(linewidth=max(40, int(columns) - 1))


def backends() -> dict:
    """What wasmdl offers: ``{"available": [...], "current": name}``.

    Example:
        >>> sorted(backends())
        ['available', 'current']
    """
    import wasmdl

    available = list(getattr(wasmdl, "available_backends", lambda: ["numpy"])())
    get = getattr(wasmdl, "get_backend", None)
    current = get() if get else "numpy"
    return {"available": available, "current": getattr(current, "name", str(current))}


async def set_backend(name: str) -> dict:
    """Switch wasmdl's default backend (awaiting it when wasmdl's switch is async)."""
    import wasmdl

    result = wasmdl.set_backend(name)
    if hasattr(result, "__await__"):
        await result
    return backends()


def memory() -> dict:
    """wasmdl's own accounting (``wasmdl.memory()``) when the installed wasmdl has it, else {}.

    Example:
        >>> isinstance(memory(), dict)
        True
    """
    import wasmdl

    fn = getattr(wasmdl, "memory", None)
    if fn is None:
        return {}
    try:
        stats = fn()
    except Exception as exc:  # noqa: BLE001 - never let the status bar break the page
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {k: v for k, v in dict(stats).items() if isinstance(v, int | float | str)}


def versions() -> dict:
    """Versions of wasmdl, Python and numpy in this worker."""
    import numpy

    import wasmdl

    return {
        "wasmdl": wasmdl.__version__,
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
    }
