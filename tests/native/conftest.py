"""Tier 1: native CPython (``pytest tests/native``), with PyTorch as the oracle where needed.

The shared fixtures of tests/conftest.py work here too: ``wasmdl_wheel`` (the freshly built
wheel), ``wasmdl_site`` (the built site/) and ``wasmdl_server`` / ``wasmdl_httpd`` (site/ served
on a free port). Also here:
- ``setup_pyodide``: the module scripts/setup_pyodide.py (dist paths, ``verify``, lock helpers).

Example:
    def test_index_lists_the_wheel(wasmdl_server, wasmdl_wheel):
        import urllib.request
        page = urllib.request.urlopen(wasmdl_server + "/simple/wasmdl/").read().decode()
        assert wasmdl_wheel.name in page
"""

import pytest


@pytest.fixture(scope="session")
def setup_pyodide():
    import setup_pyodide  # scripts/ is on sys.path (tests/conftest.py)

    return setup_pyodide


@pytest.fixture(scope="session")
def keras_files(tmp_path_factory):
    """Model files written by Keras 3 itself (tests/keras_files/make_keras_models.py)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "keras_files"))
    from keras_fixture import make_keras_files

    return make_keras_files(tmp_path_factory.mktemp("keras_files"))
