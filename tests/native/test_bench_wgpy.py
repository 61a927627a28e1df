"""bench/wgpy.py's PyPI files (Chainer's sdist, filelock's wheel) are sha256-pinned: a cached
file with another hash fails, naming the file and both hashes, and pip is not run."""

from __future__ import annotations

import hashlib

import pytest

from bench import wgpy


@pytest.mark.parametrize("pinned", [wgpy.CHAINER_SDIST, wgpy.FILELOCK_WHEEL], ids=lambda p: p[0])
def test_cached_download_with_another_hash_fails_naming_file_and_hashes(pinned, tmp_path):
    name, digest = pinned[2], pinned[3]
    (tmp_path / name).write_bytes(b"not the PyPI file")
    log = []
    with pytest.raises(RuntimeError, match="sha256 mismatch") as e:
        wgpy._download(pinned, str(tmp_path), str(tmp_path), log)
    received = hashlib.sha256(b"not the PyPI file").hexdigest()
    assert str(tmp_path / name) in str(e.value)
    assert digest in str(e.value) and received in str(e.value)
    assert log == []  # the cached file is checked, not downloaded again
