"""Site build step for the benchmark (``build_site.run_steps`` calls ``build(site_dir)``).

The page itself (``web/bench/``) is copied with the rest of ``web/``; this step adds its model
files (built once into ``.cache/bench/models/`` by ``scripts/build_bench_models.py`` and
hard-linked), the npm bundles the page loads (``site/vendor/``) and the library sizes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def build(site_dir) -> None:
    path = Path(__file__).with_name("build_bench_models.py")
    spec = importlib.util.spec_from_file_location("build_bench_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(str(site_dir), quiet=True)
