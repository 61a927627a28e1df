"""Dataset files, fetched on first use and verified by sha256 (like Keras's ``get_file``).

The wheel holds no data. ``get_file(name, sha256)`` returns a file's bytes from the first of
(``kind="models"``, for pretrained weights, reads ``models`` for ``datasets`` throughout:
``$WASMDL_MODELS``, ``~/.cache/wasmdl/models``, ``web/models/``, ``<origin>/models/``):

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

KINDS = ("datasets", "models")  # the site folder and cache of each kind of file
_BASE_URL = dict.fromkeys(KINDS)


def _kind(fn, kind):
    if kind not in KINDS:
        raise ValueError(f"{fn}: expected kind in {KINDS}, received {kind!r}")
    return kind


def set_base_url(url, kind="datasets"):
    """Download ``kind`` files from ``url`` (``.../datasets/``; None: the default)."""
    _BASE_URL[_kind("set_base_url", kind)] = None if url is None else url.rstrip("/") + "/"


def base_url(kind="datasets"):
    """Where files are downloaded from (see the module docstring), or None.

    >>> base_url() is None  # natively, unless set
    True
    """
    url = _BASE_URL[_kind("base_url", kind)] or os.environ.get(f"WASMDL_{kind.upper()}_URL")
    if url:
        return url.rstrip("/") + "/"
    origin = _js.page_origin()
    return None if origin in (None, "null") else f"{origin}/{kind}/"


def folders(kind="datasets"):
    """The folders searched for a file, in order; the first one also caches downloads."""
    env = f"WASMDL_{_kind('folders', kind).upper()}"
    if os.environ.get(env):
        cache = Path(os.environ[env])
    elif _js.IN_PYODIDE:
        cache = Path(f"/tmp/wasmdl/{kind}")
    else:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        cache = cache / "wasmdl" / kind
    checkout = Path(__file__).resolve().parents[3] / "web" / kind  # src/wasmdl/datasets
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


def _local(fn, name, sha256, path, kind):
    """The verified bytes of a local copy, or None."""
    if path is not None:
        p = Path(path)
        p = p / name if p.is_dir() else p
        return check_sha256(fn, name, p.read_bytes(), sha256, p)
    for folder in folders(kind):
        p = folder / name
        if p.is_file():  # downloads land whole (written aside, then renamed): a bad copy is news
            return check_sha256(fn, name, p.read_bytes(), sha256, p)
    return None


def _save(name, data, kind):
    folder = folders(kind)[0]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.part"
        tmp.write_bytes(data)
        tmp.replace(folder / name)
    except OSError:
        pass  # a read-only cache only costs a download next time


def _missing(fn, name, sha256, url, why, kind="datasets"):
    where = ", ".join(str(f) for f in folders(kind))
    got = f"could not download {url} ({why})" if url else "no download URL is set"
    return FileNotFoundError(
        f"{fn}: expected {name} (sha256 {sha256}) in {where} or from a download; {got}. "
        f"Put {name} in one of those folders (a wasmdl checkout has it in web/{kind}/), set "
        f"WASMDL_{kind.upper()} to a folder that holds it, pass path=..., or point "
        f"wasmdl.datasets.set_base_url(..., kind={kind!r}) at a site that serves it under "
        f"/{kind}/"
    )


def _download(url):
    if _js.IN_PYODIDE:
        return _js.fetch_bytes_sync(url)
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def get_file(name, sha256, path=None, fn="get_file", kind="datasets"):
    """The bytes of dataset file ``name``, verified against ``sha256`` (see the module
    docstring for where they come from). ``fn`` names the caller in error messages;
    ``kind="models"`` looks for pretrained weights instead."""
    data = _local(fn, name, sha256, path, kind)
    if data is not None:
        return data
    url = base_url(kind) and base_url(kind) + name
    if url is None:
        raise _missing(fn, name, sha256, None, None, kind)
    try:
        data = _download(url)
    except OSError as e:  # urllib's URLError/HTTPError are OSErrors too
        hint = "; in Node use `await get_file_async(...)`" if "XMLHttpRequest" in str(e) else ""
        raise _missing(fn, name, sha256, url, f"{e}{hint}", kind) from None
    _save(name, check_sha256(fn, name, data, sha256, url), kind)
    return data


async def get_file_async(name, sha256, path=None, fn="get_file_async", kind="datasets"):
    """``get_file`` that downloads with the JS ``fetch`` in Pyodide (pages and Node) without
    blocking; natively the same as ``get_file``. The file is cached, so a later synchronous
    ``get_file`` (or ``mnist.load_data()``) finds it."""
    if not _js.IN_PYODIDE:
        return get_file(name, sha256, path, fn, kind)
    data = _local(fn, name, sha256, path, kind)
    if data is not None:
        return data
    url = base_url(kind) and base_url(kind) + name
    if url is None:
        raise _missing(fn, name, sha256, None, None, kind)
    try:
        data = await _js.fetch_bytes(url)
    except OSError as e:
        raise _missing(fn, name, sha256, url, e, kind) from None
    _save(name, check_sha256(fn, name, data, sha256, url), kind)
    return data
