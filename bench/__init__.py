"""Benchmarks. The same-page benchmark of the WWW'19 study (``python -m bench``):

- ``grid``: the 12 MLP configurations, seeded weights, data, float64 oracle;
- ``formats``, ``protobuf``, ``webdnn_export``: every peer framework's own model format;
- ``adapter``: wasmdl's side (build, save, predict, train; ``BrowserRunner`` in Pyodide);
- ``native``: the same protocol on native CPython (wasmdl numpy backend, PyTorch);
- ``driver``, ``report``, ``__main__``: headless Chromium over CDP, the output files.

The page itself is ``web/bench/`` (served at ``/bench/``).

Example:
    >>> from bench import grid
    >>> len(grid.CONFIGS)
    12
"""
