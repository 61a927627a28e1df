"""Datasets in a browser page: fetched on first use from the site's /datasets/ (a synchronous
XMLHttpRequest on the page's main thread here; the site's worker takes the same path in
test_site_landing.py's quick start), verified and cached; a missing file's error names the URL.
"""

from pytest_pyodide import run_in_pyodide


@run_in_pyodide
def test_mnist_downloads_synchronously_in_a_page(selenium_wasmdl):
    import numpy as np
    import pytest

    from wasmdl.datasets import files, mnist

    assert not (files.folders()[0] / "mnist.npz").exists()  # a fresh page: nothing cached
    (x, y), (xt, yt) = mnist.load_data()
    assert x.shape == (8000, 28, 28) and x.dtype == np.uint8
    assert np.bincount(yt).tolist() == [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]
    assert (files.folders()[0] / "mnist.npz").is_file()  # the next load reads the cache
    with pytest.raises(FileNotFoundError, match=r"could not download .*/datasets/absent\.npz"):
        files.get_file("absent.npz", "0" * 64)


@run_in_pyodide
async def test_mnist_downloads_asynchronously_in_a_page(selenium_wasmdl):
    from wasmdl.datasets import files, mnist

    path = files.folders()[0] / "mnist.npz"
    path.unlink(missing_ok=True)
    (x, _), _ = await mnist.load_data_async()
    assert x.shape == (8000, 28, 28) and path.is_file()
