"""ImageNet's 1000 class names (``imagenet_classes.json``, torchvision's short names, in class
index order) and ``decode_predictions`` as in Keras.

Example:
    >>> import numpy as np
    >>> p = np.zeros((1, 1000), np.float32); p[0, 285] = 0.5
    >>> decode_predictions(p, top=1)
    [[('285', 'Egyptian cat', 0.5)]]
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import numpy as np


@cache
def class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names, by class index."""
    text = resources.files(__package__).joinpath("imagenet_classes.json").read_text("utf-8")
    return tuple(json.loads(text))


def decode_predictions(preds, top=5):
    """``[[(class id, name, probability), ...] per image]``, the ``top`` most probable first.
    Keras's first field is a WordNet id; those are not shipped, so it is the class index as a
    string (``"285"``)."""
    p = np.asarray(preds.numpy() if hasattr(preds, "numpy") else preds, np.float64)
    if p.ndim != 2 or p.shape[1] != 1000:
        raise ValueError(
            f"decode_predictions: expected predictions of shape (batch, 1000), received {p.shape}"
        )
    names = class_names()
    out = []
    for row in p:
        idx = np.argsort(-row, kind="stable")[:top]
        out.append([(str(int(i)), names[i], float(row[i])) for i in idx])
    return out
