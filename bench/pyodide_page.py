"""The boot that the single-page benchmarks (``bench.capture``, ``bench.gemm``,
``bench.infer_profile``, ``bench.pretrained``) share: load Pyodide from ``/pyodide/``, its
packages, then the wheels served at the page's root, in order (wasmdl, then the bench's own).

A page's JS holds the placeholder ``BOOT`` at the start of its ``async`` function, and the
runner replaces it last (after the page's own placeholders, which then cannot touch the boot).
The boot defines ``add(attrs)`` (append a ``<script>`` and await its load) and ``py`` (the
Pyodide instance) for the statements that follow it.

    >>> js = boot_js(["wasmdl-0-py3-none-any.whl"], packages=["numpy"])
    >>> 'loadPackage(["numpy"])' in js, '["wasmdl-0-py3-none-any.whl"]' in js
    (True, True)
"""

from __future__ import annotations

import json
from pathlib import Path

BOOT_JS = r"""const add = (attrs) => new Promise((ok, fail) => {
    const s = Object.assign(document.createElement("script"), attrs, { onload: ok, onerror: fail });
    document.head.append(s);
  });
  CAPTURE_TAG
  await add({ src: "/pyodide/pyodide.js" });
  const py = await loadPyodide({ indexURL: location.origin + "/pyodide/" });
  await py.loadPackage(PACKAGES);
  for (const name of WHEELS) {  // wasmdl, then the bench's own wheel
    await py.runPythonAsync(
      `import micropip, js; await micropip.install(js.location.origin + "/${name}")`);
  }"""
# Runs before Pyodide starts: the "host" way of finding Pyodide's Memory (capture_memory.js).
CAPTURE_TAG = (
    'document.head.append(Object.assign(document.createElement("script"), '
    "{ textContent: CAPTURE }));"
)


def boot_js(wheels, packages=("numpy", "micropip"), capture=False, base="") -> str:
    """The boot statements for ``wheels`` (paths or names: each is served at
    ``/<base><name>``) and Pyodide's ``packages``; with ``capture``,
    kernels/wasm/capture_memory.js runs first."""
    tag = ""
    if capture:
        from .driver import repo_root

        source = Path(repo_root(), "kernels", "wasm", "capture_memory.js").read_text()
        tag = CAPTURE_TAG.replace("CAPTURE", json.dumps(source))
    js = BOOT_JS.replace("PACKAGES", json.dumps(list(packages)))
    js = js.replace("WHEELS", json.dumps([base + Path(w).name for w in wheels]))
    return js.replace("CAPTURE_TAG", tag)
