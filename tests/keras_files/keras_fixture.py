"""Keras-written model files for the tests: made once per session by Keras itself.

``make_keras_files(out_dir)`` runs ``make_keras_models.py`` with Keras 3 (torch backend) in a
subprocess and returns ``{name: {"keras": bytes, "h5": bytes, "xs": [arrays], "ys": [arrays]}}``
(``ys`` are Keras' own predictions for ``xs``).
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ACCEPTANCE = ["mlp", "cnn", "rnn", "two_in_two_out"]
ALL = [*ACCEPTANCE, "more_layers"]


def make_keras_files(out_dir: Path) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    subprocess.run(
        [sys.executable, str(HERE / "make_keras_models.py"), str(out_dir)],
        check=True,
        env=env,
        capture_output=True,
        timeout=600,
    )
    files = {}
    for name in ALL:
        ref = np.load(out_dir / f"{name}.npz")
        files[name] = {
            "keras": (out_dir / f"{name}.keras").read_bytes(),
            "h5": (out_dir / f"{name}.h5").read_bytes(),
            "xs": [ref[f"x{i}"] for i in range(sum(k.startswith("x") for k in ref))],
            "ys": [ref[f"y{i}"] for i in range(sum(k.startswith("y") for k in ref))],
        }
    return files


def max_rel_err(got, want) -> float:
    """max |got - want| / max |want|, per output, worst over outputs (float64 arithmetic)."""
    got = got if isinstance(got, list) else [got]
    return max(
        float(np.max(np.abs(np.float64(g) - want)) / max(np.max(np.abs(want)), 1e-30))
        for g, want in zip(got, want_list(want), strict=True)
    )


def want_list(want):
    return want if isinstance(want, list) else [want]
