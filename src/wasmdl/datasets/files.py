"""Dataset files, fetched on first use and verified by sha256 (like Keras's ``get_file``).

The wheel holds no data. ``get_file(name, sha256)`` returns a file's bytes from the first of:

1. ``path`` (a file, or a folder holding ``name``), when given;
2. the folders in ``folders()``: ``$WASMDL_DATASETS`` (default ``~/.cache/wasmdl/datasets``;
   in Pyodide an in-memory folder), then, in a wasmdl source checkout, its ``web/datasets/``;
3. a download from ``base_url() + name``, saved into the first folder for next time.
   ``base_url()`` is ``set_base_url(url)``'s value, else ``$WASMDL_DATASETS_URL``, else in a
   browser page or worker ``<the page's origin>/datasets/`` (the wasmdl site serves its files
   there), else none (natively: put the file in a folder above, or set a base URL).

Every copy is checked against the expected sha256 (a mismatch raises ``ValueError`` naming the
copy). In Pyodide a synchronous download needs a browser (``XMLHttpRequest``); in Node, or to
avoid blocking a page, ``await get_file_async(name, sha256)`` first (it caches the file).

>>> import hashlib, tempfile, os
>>> d = tempfile.mkdtemp()
>>> with open(os.path.join(d, "tiny.bin"), "wb") as f:
...     _ = f.write(b"abc")
>>> get_file("tiny.bin", hashlib.sha256(b"abc").hexdigest(), path=d)
b'abc'
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .. import _js

_BASE_URL = [None]


def set_base_url(url):
    """Download dataset files from ``url`` (``.../datasets/``; None: the default)."""
    _BASE_URL[0] = None if url is None else url.rstrip("/") + "/"


def base_url():
    """Where files are downloaded from (see the module docstring), or None.

    >>> base_url() is None  # natively, unless set
    True
    """
    url = _BASE_URL[0] or os.environ.get("WASMDL_DATASETS_URL")
    if url:
        return url.rstrip("/") + "/"
    origin = _js.page_origin()
    return None if origin in (None, "null") else f"{origin}/datasets/"


def folders():
    """The folders searched for a file, in order; the first one also caches downloads."""
    if os.environ.get("WASMDL_DATASETS"):
        cache = Path(os.environ["WASMDL_DATASETS"])
    elif _js.IN_PYODIDE:
        cache = Path("/tmp/wasmdl/datasets")
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        cache = cache / "wasmdl" / "datasets"
    checkout = Path(__file__).resolve().parents[3] / "web" / "datasets"  # src/wasmdl/datasets
    return [cache] + ([checkout] if checkout.is_dir() else [])


def check_sha256(fn, name, data, sha256, where):
    """``data`` if its sha256 is ``sha256`` (None: unchecked), else ``ValueError`` naming both.

    >>> check_sha256("f", "x", b"", None, "here")
    b''
    """
    got = hashlib.sha256(data).hexdigest()
    if sha256 is not None and got != sha256:
        raise ValueError(
            f"{fn}: expected {name} with sha256 {sha256}, received one with sha256 {got} "
            f"({len(data)} bytes) from {where}"
        )
    return data


def _local(fn, name, sha256, path):
    """The verified bytes of a local copy, or None."""
    if path is not None:
        p = Path(path)
        p = p / name if p.is_dir() else p
        return check_sha256(fn, name, p.read_bytes(), sha256, p)
    for folder in folders():
        p = folder / name
        if p.is_file():  # downloads land whole (written aside, then renamed): a bad copy is news
            return check_sha256(fn, name, p.read_bytes(), sha256, p)
    return None


def _save(name, data):
    folder = folders()[0]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(folder / name)
    except OSError:
        pass  # a read-only cache only costs a download next time


def _missing(fn, name, sha256, url, why):
    where = ", ".join(str(f) for f in folders())
    got = f"could not download {url} ({why})" if url else "no download URL is set"
    return FileNotFoundError(
        f"{fn}: expected {name} (sha256 {sha256}) in {where} or from a download; {got}. "
        f"Put {name} in one of those folders (a wasmdl checkout has it in web/datasets/), set "
        "WASMDL_DATASETS to a folder that holds it, pass path=..., or point "
        "wasmdl.datasets.set_base_url(...) at a site that serves it under /datasets/"
    )


def _download(url):
    if _js.IN_PYODIDE:
        return _js.fetch_bytes_sync(url)
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def get_file(name, sha256, path=None, fn="get_file"):
    """The bytes of dataset file ``name``, verified against ``sha256`` (see the module
    docstring for where they come from). ``fn`` names the caller in error messages."""
    data = _local(fn, name, sha256, path)
    if data is not None:
        return data
    url = base_url() and base_url() + name
    if url is None:
        raise _missing(fn, name, sha256, None, None)
    try:
        data = _download(url)
    except OSError as e:  # urllib's URLError/HTTPError are OSErrors too
        hint = "; in Node use `await get_file_async(...)`" if "XMLHttpRequest" in str(e) else ""
        raise _missing(fn, name, sha256, url, f"{e}{hint}") from None
    _save(name, check_sha256(fn, name, data, sha256, url))
    return data


async def get_file_async(name, sha256, path=None, fn="get_file_async"):
    """``get_file`` that downloads with the JS ``fetch`` in Pyodide (pages and Node) without
    blocking; natively the same as ``get_file``. The file is cached, so a later synchronous
    ``get_file`` (or ``mnist.load_data()``) finds it."""
    if not _js.IN_PYODIDE:
        return get_file(name, sha256, path, fn)
    data = _local(fn, name, sha256, path)
    if data is not None:
        return data
    url = base_url() and base_url() + name
    if url is None:
        raise _missing(fn, name, sha256, None, None)
    try:
        data = await _js.fetch_bytes(url)
    except OSError as e:
        raise _missing(fn, name, sha256, url, e) from None
    _save(name, check_sha256(fn, name, data, sha256, url))
    return data
