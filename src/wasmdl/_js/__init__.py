"""Browser glue behind one guard: ``IN_PYODIDE``; CPython stand-ins elsewhere.

Everything that touches JavaScript goes through this package, so ``import wasmdl`` works on
CPython (tests, type checks) and the browser-only code paths are easy to find.

- ``package_text(path)``: a file shipped in the wheel (``wasmdl/kernels/...``) as text.
- ``await import_module(path)``: load an ES module shipped in the wheel, once per page.
- ``import_module_sync(path)``: the same module without awaiting (WebGL starts synchronously).
- ``run_sync(awaitable, what)``: wait for a JS promise from synchronous Python through JSPI,
  or raise ``SyncReadError`` saying which async form to use instead.
- ``page_origin()``, ``fetch_bytes_sync(url)``, ``await fetch_bytes(url)``: downloads (datasets).

>>> from wasmdl import _js
>>> _js.IN_PYODIDE
False
>>> "device verbs" in _js.package_text("kernels/shim.js")
True
"""

import sys
from importlib import resources

IN_PYODIDE = sys.platform == "emscripten"


from ..backend.base import SyncReadError  # noqa: E402  (one exception class for every backend)


def package_text(path):
    """The text of ``wasmdl/<path>`` from the installed package data.

    >>> package_text("kernels/wgsl/matmul.wgsl").startswith("// kernel: matmul")
    True
    """
    node = resources.files("wasmdl")
    for part in path.split("/"):
        node = node.joinpath(part)
    try:
        return node.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(
            f"wasmdl._js.package_text: expected package data file 'wasmdl/{path}' in the "
            "installed wheel, found none (is the wheel built with its kernels/ folder?)"
        ) from None


_MODULES = {}


async def import_module(path):
    """Load the ES module ``wasmdl/<path>`` once per page (a Blob URL of the packaged text).

    The module object is also kept on ``globalThis.__wasmdl_modules`` so a re-imported wasmdl
    (or a second Python package sharing the page) finds the same instance and its state.
    """
    if path in _MODULES:
        return _MODULES[path]
    _require_pyodide("import_module")
    from pyodide.code import run_js

    loader = run_js(
        """(async (path, text) => {
          const cache = (globalThis.__wasmdl_modules ||= {});
          if (!cache[path] && globalThis.__wasmdl_sync && globalThis.__wasmdl_sync[path])
            cache[path] = Promise.resolve(globalThis.__wasmdl_sync[path]);
          if (!cache[path]) {
            const url = URL.createObjectURL(new Blob([text], {type: "text/javascript"}));
            cache[path] = import(url).finally(() => URL.revokeObjectURL(url));
          }
          return await cache[path];
        })"""
    )
    module = await loader(path, package_text(path))
    _MODULES[path] = module
    return module


_SYNC_LOADER = """((path, text) => {
  const sync = (globalThis.__wasmdl_sync ||= {});
  if (!sync[path]) {
    // The module's text as a function body: `export` dropped, the exported names returned.
    const names = [];
    const body = text.replace(
      /^export\\s+(async\\s+function|function|const|let|class)\\s+([A-Za-z_$][\\w$]*)/gm,
      (m, kind, name) => { names.push(name); return `${kind} ${name}`; });
    sync[path] = new Function(`${body}\\nreturn {${names.join(", ")}};`)();
    const cache = (globalThis.__wasmdl_modules ||= {});
    if (!cache[path]) cache[path] = Promise.resolve(sync[path]);
  }
  return sync[path];
})"""


def import_module_sync(path):
    """Load the ES module ``wasmdl/<path>`` without awaiting: its text runs as a function whose
    exports become an object's fields (the module may not ``import``). Shared with
    ``import_module`` when this one runs first (an async import that ran first keeps its own
    instance: the shim's WebGPU and WebGL states are independent, so either works)."""
    if path in _MODULES:
        return _MODULES[path]
    _require_pyodide("import_module_sync")
    from pyodide.code import run_js

    module = run_js(_SYNC_LOADER)(path, package_text(path))
    _MODULES[path] = module
    return module


def can_run_sync():
    """Whether ``run_sync`` can wait on a promise here (JSPI and an async entry point)."""
    if not IN_PYODIDE:
        return False
    try:
        from pyodide.ffi import can_run_sync as _can
    except ImportError:
        return False
    return bool(_can())


def run_sync(awaitable, what, async_form):
    """Wait for ``awaitable`` synchronously through JSPI, or raise ``SyncReadError``.

    ``what`` names the operation for the message; ``async_form`` is the code that works
    everywhere (for example ``"await t.numpy_async()"``).
    """
    if can_run_sync():
        from pyodide.ffi import run_sync as _run_sync

        return _run_sync(awaitable)
    if hasattr(awaitable, "close"):
        awaitable.close()  # a coroutine that will never run: silence "never awaited"
    raise SyncReadError(
        f"{what}: a synchronous wait on the GPU needs Python entered asynchronously "
        "(the wasmdl REPL, pyodide.runPythonAsync, callPromising) so JSPI can suspend it; "
        f"here it cannot. Use `{async_form}` instead."
    )


def page_origin():
    """The origin of the page (or worker) Python runs in, e.g. ``http://127.0.0.1:8000``; None
    on CPython and in Node (no page).

    >>> page_origin() is None
    True
    """
    if not IN_PYODIDE:
        return None
    import js

    location = getattr(js, "location", None)
    return None if location is None else str(location.origin)


# Sync XHR: a page's main thread may not ask for an ArrayBuffer, so it reads the bytes as
# "x-user-defined" text (one char per byte); workers get the ArrayBuffer. Node has no XHR.
_FETCH_SYNC_JS = """(url) => {
  if (typeof XMLHttpRequest === "undefined") return null;
  const xhr = new XMLHttpRequest();
  xhr.open("GET", url, false);
  const win = typeof window !== "undefined";
  if (win) xhr.overrideMimeType("text/plain; charset=x-user-defined");
  else xhr.responseType = "arraybuffer";
  try { xhr.send(); } catch (e) { return "network error: " + e.message; }
  if (xhr.status !== 200) return `HTTP ${xhr.status} ${xhr.statusText}`;
  if (!win) return new Uint8Array(xhr.response);
  const s = xhr.responseText, out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}"""


def fetch_bytes_sync(url):
    """``url``'s body as bytes, fetched synchronously (a browser page or worker). Raises
    ``OSError`` saying why (HTTP status, network error, or no synchronous fetch here: Node)."""
    _require_pyodide("fetch_bytes_sync")
    from pyodide.code import run_js

    got = run_js(_FETCH_SYNC_JS)(url)
    if got is None:
        raise OSError("no synchronous fetch here (no XMLHttpRequest: Node?)")
    if isinstance(got, str):
        raise OSError(got)
    return bytes(got.to_py())


async def fetch_bytes(url):
    """``url``'s body as bytes, fetched with the JS ``fetch`` (browsers and Node). Raises
    ``OSError`` on an HTTP error or a network failure."""
    _require_pyodide("fetch_bytes")
    from pyodide.http import pyfetch

    try:
        resp = await pyfetch(url)
    except Exception as e:  # a JS TypeError ("Failed to fetch"): offline, refused, CORS
        raise OSError(f"network error: {e}") from None
    if not resp.ok:
        raise OSError(f"HTTP {resp.status} {resp.status_text}")
    return await resp.bytes()


def _require_pyodide(fn):
    if not IN_PYODIDE:
        raise RuntimeError(
            f"wasmdl._js.{fn}: expected to run inside Pyodide in a browser, "
            f"received sys.platform={sys.platform!r}"
        )


def error_text(shim, e):
    """The text of a JS error ``e`` that the shim raised: its ``message``, or, when it crossed
    the FFI without one (Pyodide can hand over a bare ``SystemError`` for a thrown ``Error``),
    the shim's record of its last failure ("[tag] message")."""
    msg = str(getattr(e, "message", e))
    last = None
    if shim is not None:
        try:  # always asked, so that a record never outlives the error it belongs to
            last = shim.lastFailureText()
        except Exception:  # an old shim without the verb: keep what we have
            last = None
    return str(last) if last and "[" not in msg else msg
