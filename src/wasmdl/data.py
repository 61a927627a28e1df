"""Batching and shuffling utilities over numpy arrays (PyTorch's DataLoader, Keras' slicing).

Batches are numpy arrays; models and losses take them directly (they become tensors on the
active backend at the first op), so the loader works the same natively and in Pyodide.

Example:
    >>> import numpy as np
    >>> from wasmdl.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> [y.tolist() for _, y in DataLoader(ds, batch_size=2)]
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import math

import numpy as np


class TensorDataset:
    """Arrays of the same length, indexed together (``ds[i]`` is a tuple of rows)."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array, received none")
        self.arrays = tuple(np.asarray(a) for a in arrays)
        lengths = {len(a) for a in self.arrays}
        if len(lengths) != 1:
            raise ValueError(
                "TensorDataset: expected arrays of the same length, received lengths "
                f"{[len(a) for a in self.arrays]}"
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Iterate over ``dataset`` in batches, reshuffling every epoch when ``shuffle`` is set.

    ``dataset``: a ``TensorDataset``, a tuple of arrays, or one array. ``seed`` fixes the order
    of every epoch (a new generator per loader; epoch ``e`` draws the ``e``-th permutation).

    Example:
        >>> import numpy as np
        >>> loader = DataLoader(np.arange(6), batch_size=4, shuffle=True, seed=0)
        >>> len(loader), sorted(np.concatenate([b for (b,) in loader]).tolist())
        (2, [0, 1, 2, 3, 4, 5])
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, drop_last=False, seed=None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"DataLoader: expected batch_size >= 1, received {batch_size!r}")
        if not isinstance(dataset, TensorDataset):
            dataset = TensorDataset(*(dataset if isinstance(dataset, tuple) else (dataset,)))
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self.rng.permutation(n) if self.shuffle else None
        for i in range(len(self)):
            sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield self.dataset[order[sl] if order is not None else sl]


def batches(*arrays, batch_size=32, shuffle=False, seed=None):
    """One pass over ``arrays`` in batches: ``for xb, yb in batches(x, y, batch_size=64)``.

    Example:
        >>> [b.tolist() for (b,) in batches(np.arange(5), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """
    return iter(DataLoader(TensorDataset(*arrays), batch_size, shuffle, seed=seed))


def train_test_split(*arrays, test_size=0.2, shuffle=True, seed=None):
    """Split arrays into train and test parts: returns ``[a_train, a_test, b_train, ...]``.

    Example:
        >>> a_tr, a_te = train_test_split(np.arange(10), test_size=0.3, shuffle=False)
        >>> a_tr.tolist(), a_te.tolist()
        ([0, 1, 2, 3, 4, 5, 6], [7, 8, 9])
    """
    ds = TensorDataset(*arrays)
    n = len(ds)
    n_test = int(round(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 <= n_test <= n:
        raise ValueError(f"train_test_split: test_size gives {n_test} of {n} rows; out of range")
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    train, test = ds[order[: n - n_test]], ds[order[n - n_test :]]
    return [part for pair in zip(train, test, strict=True) for part in pair]


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer labels (Keras' ``to_categorical``).

    Example:
        >>> to_categorical([0, 2], 3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    return np.eye(num_classes, dtype=dtype)[y]
