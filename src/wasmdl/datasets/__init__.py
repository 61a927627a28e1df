"""Small built-in datasets, shipped inside the wheel (no download, works offline in the browser).

Example:
    >>> from wasmdl.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.shape, x_test.shape
    ((8000, 28, 28), (2000, 28, 28))
"""

from . import mnist

__all__ = ["mnist"]
