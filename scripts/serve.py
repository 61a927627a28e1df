"""Serve a static folder (the built site/) over HTTP on localhost, with the right MIME types.

Used by ``bash scripts/serve`` (port 8000) and by the test fixtures (a free port, in a thread).
Every text type carries ``charset=utf-8`` (some minified bundles fail to parse without it),
``.mjs`` is JavaScript, ``.wasm`` is ``application/wasm`` (needed for streaming compilation),
responses allow any origin (a pytest-pyodide page on another port installs wheels from here)
and are never cached (a rebuilt wheel keeps its file name).

Cross-origin isolation is on by default: every response carries
``Cross-Origin-Opener-Policy: same-origin``, ``Cross-Origin-Embedder-Policy: require-corp`` and
``Cross-Origin-Resource-Policy: cross-origin``, so pages get ``crossOriginIsolated`` (5 µs
timers, SharedArrayBuffer: threaded wasm builds of peers in the benchmark, WgPy's blocking
readback). Paths under ``UNISOLATED_PREFIXES`` (JupyterLite's ``/lite/``, which COEP breaks) are
served without COOP/COEP; ``--no-isolation`` turns them off everywhere. Static hosts: see
docs/HOSTING.md and web/_headers.

Example:
    python scripts/serve.py --root site --port 8000
    # or, from Python:
    with serve_in_thread(Path("site")) as server:   # server.url: "http://127.0.0.1:41234"
        urllib.request.urlopen(server.url + "/simple/wasmdl/")
        assert server.requests == [("/simple/wasmdl/", 200)]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".wgsl": "text/plain; charset=utf-8",
    ".glsl": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".data": "application/octet-stream",
    ".bin": "application/octet-stream",
}


ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}
# Served without COOP/COEP even when isolation is on (pages that load what COEP blocks).
UNISOLATED_PREFIXES = frozenset({"/lite/"})


def isolation_headers(path: str, isolate: bool = True, unisolated=UNISOLATED_PREFIXES) -> dict:
    """The COOP/COEP headers for a request path: none when ``isolate`` is off or the path lies
    under one of ``unisolated`` (prefixes such as ``"/lite/"``)."""
    path = path.split("?", 1)[0]
    if not isolate or any(path.startswith(p) for p in unisolated):
        return {}
    return dict(ISOLATION_HEADERS)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with explicit MIME types, CORS, CORP, COOP/COEP (unless turned off) and no
    caching; quiet unless asked."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    verbose = False
    isolate = True
    unisolated = UNISOLATED_PREFIXES

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cross-Origin-Resource-Policy", "cross-origin")
        for name, value in isolation_headers(self.path, self.isolate, self.unisolated).items():
            self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib signature)
        if self.verbose:
            super().log_message(format, *args)

    def log_request(self, code="-", size="-") -> None:
        self.server.requests.append((self.path, int(code) if str(code).isdigit() else code))
        super().log_request(code, size)


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """The HTTP server; ``requests`` lists ``(path, status)`` of every request it answered."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests: list[tuple[str, int]] = []


def make_server(
    root: Path, port: int = 0, verbose: bool = False, isolate: bool = True
) -> ThreadingServer:
    """Return a server over ``root`` bound to 127.0.0.1:``port`` (0 picks a free port);
    ``isolate=False`` drops the COOP/COEP headers."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"serve.make_server: root {root} is not a folder (build it first)")
    handler = type("Handler", (SiteHandler,), {"verbose": verbose, "isolate": isolate})
    return ThreadingServer(("127.0.0.1", port), functools.partial(handler, directory=str(root)))


@contextlib.contextmanager
def serve_in_thread(root: Path, port: int = 0, isolate: bool = True) -> Iterator[ThreadingServer]:
    """Serve ``root`` from a daemon thread; yield the server (``server.url`` is its base URL,
    ``http://127.0.0.1:<port>``, and ``server.requests`` the requests answered so far)."""
    server = make_server(root, port, isolate=isolate)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the built site on localhost.")
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent / "site"))
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    parser.add_argument(
        "--no-isolation",
        action="store_true",
        help="do not send COOP/COEP (pages are then not crossOriginIsolated)",
    )
    args = parser.parse_args(argv)
    server = make_server(
        Path(args.root), args.port, verbose=not args.quiet, isolate=not args.no_isolation
    )
    print(f"Serving {args.root} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
