"""Site build step: PyScript at ``/pyscript/`` (the page itself is ``web/pyscript/``).

Publishes ``@pyscript/core`` 0.6.66 (the release made for Pyodide 0.27; pinned in
package-lock.json) as ``/vendor/@pyscript/core/dist/``: its whole ``dist`` folder, since
``core.js`` loads its chunks on demand (source maps left out), plus the LICENSE. The page runs
``web/pyscript/train.py`` in a PyScript worker on the site's own Pyodide with
``packages = ["wasmdl"]`` from the site's index (tests/chrome/test_pyscript.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "@pyscript" / "core"


def build(site_dir: Path) -> None:
    if not (PACKAGE / "dist" / "core.js").exists():
        raise FileNotFoundError(f"site_steps_pyscript: {PACKAGE}/dist is missing; run npm ci")
    dst = site_dir / "vendor" / "@pyscript" / "core"
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(PACKAGE / "dist", dst / "dist", ignore=shutil.ignore_patterns("*.map"))
    shutil.copy2(PACKAGE / "LICENSE", dst / "LICENSE")


if __name__ == "__main__":
    build(ROOT / "site")
    print(f"site_steps_pyscript: {ROOT / 'site' / 'vendor' / '@pyscript' / 'core'}")
