"""Site build step for the benchmark (``build_site.run_steps`` calls ``build(site_dir)``).

The page itself (``web/bench/``) is copied with the rest of ``web/``; this step adds its model
files (built once into ``.cache/bench/models/`` by ``scripts/build_bench_models.py`` and
hard-linked), the npm bundles the page loads (``site/vendor/``), the library sizes, and the
benchmark's own Python package as the wheel ``wasmdl-bench`` in the site's package index (the
page installs it by name after wasmdl; see ``bench/wheel.py``).
"""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def publish_bench_wheel(site_dir) -> Path:
    """Build ``wasmdl_bench-*.whl`` from bench/ and add it to ``site_dir/simple/wasmdl-bench/``."""
    for p in (str(ROOT), str(ROOT / "scripts")):
        if p not in sys.path:
            sys.path.insert(0, p)
    import build_site

    from bench import wheel

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(wheel.build(tmp))
        build_site.write_index(Path(site_dir) / "simple", path, "wasmdl-bench")
    return Path(site_dir) / "simple" / "wasmdl-bench" / path.name


def build(site_dir) -> None:
    publish_bench_wheel(site_dir)
    path = Path(__file__).with_name("build_bench_models.py")
    spec = importlib.util.spec_from_file_location("build_bench_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(str(site_dir), quiet=True)
