"""Site build step for the benchmark (``build_site.run_steps`` calls ``build(site_dir)``).

The page itself (``web/bench/``) is copied with the rest of ``web/``; this step adds its model
files (built once into ``.cache/bench/models/`` by ``scripts/build_bench_models.py`` and
hard-linked), the npm bundles the page loads (``site/vendor/``), the library sizes, and the
benchmark's own Python package as the wheel ``wasmdl-bench`` in the site's package index (the
page installs it by name after wasmdl; see ``bench/wheel.py``).
"""

from __future__ import annotations

import importlib.util
import json
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


def publish_peers(site_dir) -> None:
    """Mind's bundle (+ wasmdl's outputs of its network) and WgPy/Chainer's files (bench/mind.py,
    bench/wgpy.py; cached in .cache/bench/). A failure leaves the rows to show their error."""
    from bench import mind, wgpy

    cache = ROOT / ".cache" / "bench"
    try:
        mind.bundle(str(Path(site_dir) / "vendor" / "mind" / "mind.js"), str(cache / "mind"))
        mind.export_reference(str(Path(site_dir) / "bench" / "models"))
    except Exception as e:  # noqa: BLE001
        print(f"site_steps_bench: Mind bundle not built: {e}", file=sys.stderr)
    try:
        errors = wgpy.publish(str(site_dir), str(cache / "wgpy"))["errors"]
        if errors:
            print(f"site_steps_bench: WgPy build: {errors}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001
        print(f"site_steps_bench: WgPy not built: {e}", file=sys.stderr)
    _peer_library_sizes(Path(site_dir))


def _peer_library_sizes(site: Path) -> None:
    """Library sizes of the peers built after the manifest (Mind's bundle; WgPy's JS and the
    Chainer/WgPy wheels each Chainer row installs): added to ``bench/models/manifest.json``."""
    from bench import libraries

    path = site / "bench" / "models" / "manifest.json"
    if not path.exists():
        return
    manifest = json.loads(path.read_text())
    libs = manifest.setdefault("libraries", {})
    mind = site / "vendor" / "mind" / "mind.js"
    if mind.exists():
        libs["mind/cpu"] = libraries.file_sizes([str(mind)])
    wg = site / "vendor" / "wgpy"
    common = sorted(wg.glob("chainer-*.whl")) + sorted(wg.glob("filelock-*.whl"))
    for backend in ("numpy", "webgl", "webgpu"):
        extra = [] if backend == "numpy" else sorted(wg.glob(f"wgpy_{backend}-*.whl"))
        extra += [] if backend == "numpy" else sorted(wg.glob("wgpy-*.js"))
        if common and (backend == "numpy" or extra):
            libs[f"chainer/{backend}"] = libraries.file_sizes([str(p) for p in common + extra])
    path.write_text(json.dumps(manifest, indent=1))


def build(site_dir) -> None:
    publish_bench_wheel(site_dir)
    path = Path(__file__).with_name("build_bench_models.py")
    spec = importlib.util.spec_from_file_location("build_bench_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(str(site_dir), quiet=True)
    publish_peers(site_dir)
