"""Build the benchmark's model files, data and manifest into ``site/bench/models/``.

One seeded set of weights per grid configuration (``weights.npz``) is converted into every
framework's own saved format (see ``bench.formats``), and wasmdl computes the
reference outputs every framework is checked against (``reference.json``). The page's npm
bundles are copied to ``site/vendor/`` and their sizes recorded. Re-running is cheap: a build
key over the inputs skips configurations already built.

    python scripts/build_bench_models.py [--site site] [--configs d1_w64,d2_w128]

The site build calls ``build(site_dir)``; ``python -m bench`` calls it too.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, ROOT)  # the top-level bench/ package

from bench import adapter, formats, grid, libraries, paddle_export, webdnn_export  # noqa: E402

BUILD_VERSION = "2"  # bump when a writer changes its output


def _build_key() -> str:
    h = hashlib.sha256(BUILD_VERSION.encode())
    for path in (formats.__file__, grid.__file__, webdnn_export.__file__, adapter.__file__,
                 formats.protobuf.__file__, paddle_export.__file__, paddle_export.CONVERT,
                 paddle_export.REQUIREMENTS):  # fmt: skip
        with open(path, "rb") as f:
            h.update(f.read())
    h.update(adapter.version().encode())
    h.update(str(webdnn_export.available()).encode())
    h.update(str(paddle_export.available()).encode())
    for path in sorted(glob.glob(os.path.join(ROOT, "src", "wasmdl", "io", "*.py"))):
        with open(path, "rb") as f:  # wasmdl's own model file format
            h.update(f.read())
    return h.hexdigest()[:16]


def _write(folder: str, files: dict[str, bytes]) -> dict[str, int]:
    sizes = {}
    for name, data in files.items():
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        sizes[name] = len(data)
    return sizes


WRITERS = {
    "tfjs": formats.tfjs_layers,
    "convnetjs": formats.convnetjs,
    "brainjs": formats.brainjs,
    "synaptic": formats.synaptic,
    "ort": formats.onnx,
    "kerasjs": formats.kerasjs,
}


def build_config(cfg, folder: str, data) -> dict:
    """Write every format of ``cfg`` into ``folder``; return its manifest entry."""
    weights = grid.make_weights(cfg)
    np.savez(
        os.path.join(folder, "weights.npz"),
        **{f"{k}{i}": a for i, wb in enumerate(weights) for k, a in zip("wb", wb, strict=True)},
    )
    entry = {
        "id": cfg.id,
        "depth": cfg.depth,
        "width": cfg.width,
        "params": cfg.n_params,
        "files": {},
        "errors": {},
    }
    for fw, writer in WRITERS.items():
        entry["files"][fw] = _write(folder, writer(weights))
    # Peers that read files written for others: Mind the TF.js files (its biases dropped),
    # Chainer the seeded weights.npz itself.
    entry["files"]["mind"] = dict(entry["files"]["tfjs"])
    npz = os.path.join(folder, "weights.npz")
    entry["files"]["chainer"] = {"weights.npz": os.path.getsize(npz)}
    reason = webdnn_export.available()
    if reason is None:
        try:
            entry["files"]["webdnn"] = _write(folder, webdnn_export.descriptors(weights))
        except Exception as e:  # noqa: BLE001 - the reason goes into the row
            reason = f"WebDNN's transpiler failed: {type(e).__name__}: {e}"
    if reason:
        entry["errors"]["webdnn"] = reason
    reason = paddle_export.available()  # Paddle.js: its converter, in a venv of its own
    if reason is None:
        try:
            pj = os.path.join(folder, "paddlejs")
            files = paddle_export.convert(npz, pj)["files"]
            sizes = {f"paddlejs/{n}": os.path.getsize(os.path.join(pj, n)) for n in files}
            entry["files"]["paddlejs"] = sizes
        except Exception as e:  # noqa: BLE001 - the converter's error goes into the row
            reason = str(e)
    if reason:
        entry["errors"]["paddlejs"] = f"no Paddle.js model: {reason}"
    try:
        entry["files"]["wasmdl"] = _write(folder, {"model.wasmdl": adapter.model_file(weights)})
    except Exception as e:  # noqa: BLE001
        entry["errors"]["wasmdl"] = f"wasmdl could not save the model: {type(e).__name__}: {e}"
    ref = adapter.reference(weights, data)
    _write(folder, {"reference.json": json.dumps(ref).encode()})
    return entry


def copy_vendor(site: str) -> dict:
    """Copy the page's npm bundles to ``site/vendor/``; return library sizes per framework."""
    nm = os.path.join(ROOT, "node_modules")
    for rel in libraries.all_npm_files():
        src, dst = os.path.join(nm, rel), os.path.join(site, "vendor", rel)
        if not os.path.exists(dst) or os.path.getsize(dst) != os.path.getsize(src):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.exists(dst):
                os.unlink(dst)  # it may be a hard link shared with another site folder
            shutil.copyfile(src, dst)
    sizes = {}
    for fw, backends in libraries.LIBRARIES.items():
        for backend, files in backends.items():
            paths = [os.path.join(nm, f) for f in files]
            sizes[f"{fw}/{backend}"] = libraries.file_sizes(paths) if files else None
    return sizes


def write_data(folder: str):
    """``data.bin``: uint8 train images, test images, train labels, test labels (in order)."""
    xtr, ytr, xte, yte = grid.load_data()
    path = os.path.join(folder, "data.bin")
    with open(f"{path}.tmp-{os.getpid()}", "wb") as f:
        for a in (xtr, xte, ytr, yte):
            f.write(np.ascontiguousarray(a, np.uint8).tobytes())
    os.replace(f"{path}.tmp-{os.getpid()}", path)
    layout = {
        "file": "data.bin",
        "n_train": len(xtr),
        "n_test": len(xte),
        "n_in": grid.N_IN,
        "order": ["x_train", "x_test", "y_train", "y_test"],
        "scale": "u8 / 255",
    }
    return (xtr, ytr, xte, yte), layout


def build_models(out: str, configs=None, quiet=False) -> dict:
    """Build the models, data and reference outputs into ``out`` (skipping configs already
    built with the same key); return the manifest (without library sizes)."""
    os.makedirs(out, exist_ok=True)
    key, man_path = _build_key(), os.path.join(out, "manifest.json")
    old = {}
    if os.path.exists(man_path):
        with open(man_path) as f:
            old = json.load(f)
    done = {c["id"]: c for c in old.get("configs", [])} if old.get("build_key") == key else {}
    data, layout = write_data(out)
    wanted = grid.CONFIGS if not configs else [grid.config_by_id(c) for c in configs]
    entries = []
    for cfg in grid.CONFIGS:
        if cfg.id in done:
            entries.append(done[cfg.id])
        elif cfg in wanted:
            t0 = time.perf_counter()
            # Built aside, then swapped in: another build (a concurrent site build) or a
            # running benchmark never sees a half-written configuration.
            folder = os.path.join(out, cfg.id)
            tmp = f"{folder}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            os.makedirs(tmp)
            entries.append(build_config(cfg, tmp, data))
            old_dir = f"{folder}.old-{os.getpid()}"
            if os.path.exists(folder):
                os.rename(folder, old_dir)
            os.rename(tmp, folder)
            shutil.rmtree(old_dir, ignore_errors=True)
            if not quiet:
                print(f"built {cfg.id} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    manifest = {
        "build_key": key,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "wasmdl_version": adapter.version(),
        "data": layout,
        "batch": grid.BATCH,
        "learning_rate": grid.LEARNING_RATE,
        "n_check": grid.N_CHECK,
        "variants": grid.VARIANTS,
        "configs": entries,
        "unavailable": {f"webdnn/{b}": r for b, r in webdnn_export.UNAVAILABLE.items()},
    }
    with open(f"{man_path}.tmp-{os.getpid()}", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(f"{man_path}.tmp-{os.getpid()}", man_path)
    return manifest


def _link_tree(src: str, dst: str) -> None:
    for folder, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if ".tmp-" not in d and ".old-" not in d]
        files = [f for f in files if ".tmp-" not in f]
        rel = os.path.relpath(folder, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for name in files:
            target = os.path.join(dst, rel, name)
            if os.path.exists(target):
                os.unlink(target)
            try:
                os.link(os.path.join(folder, name), target)
            except OSError:
                shutil.copyfile(os.path.join(folder, name), target)


def build(site: str = os.path.join(ROOT, "site"), configs=None, quiet=False) -> dict:
    """Publish the benchmark into ``site``: models (built once into ``.cache/bench/models``
    and hard-linked), the page's npm bundles (``site/vendor``) and the library sizes."""
    cache = os.path.join(ROOT, ".cache", "bench", "models")
    manifest = build_models(cache, configs, quiet)
    out = os.path.join(site, "bench", "models")
    _link_tree(cache, out)
    manifest["libraries"] = copy_vendor(site)
    manifest["libraries"]["wasmdl/numpy"] = adapter.library_size(site)
    manifest["libraries"]["wasmdl/webgpu"] = manifest["libraries"]["wasmdl/numpy"]
    manifest["libraries"]["wasmdl/webgl"] = manifest["libraries"]["wasmdl/numpy"]
    os.unlink(os.path.join(out, "manifest.json"))  # not the cache's hard link
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--site", default=os.path.join(ROOT, "site"))
    p.add_argument("--configs", default="", help="comma-separated ids (default: all 12)")
    a = p.parse_args(argv)
    m = build(a.site, [c for c in a.configs.split(",") if c])
    print(f"{len(m['configs'])} configurations in {os.path.join(a.site, 'bench', 'models')}")


if __name__ == "__main__":
    main()
