"""Paddle.js models of the grid network, made by Paddle.js's own converter.

PaddlePaddle and ``paddlejsconverter`` live in a venv of their own (``.cache/paddle/venv``,
installed from ``bench/paddle-requirements.txt`` with pinned hashes and ``--no-deps``: the
converter's declared dependency ``paddlejslite -> paddlelite`` has no release that installs
here, and only its optional optimiser uses it). ``bench/paddle_convert.py`` runs there, once
per configuration: the seeded ``weights.npz`` becomes a PaddlePaddle network (checked against
numpy), a Paddle inference model, and ``paddlejs/model.json`` + ``paddlejs/chunk_1.dat``,
which ``@paddlejs/paddlejs-core`` + ``@paddlejs/paddlejs-backend-webgl`` load in the page.

    >>> os.path.basename(REQUIREMENTS)
    'paddle-requirements.txt'
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.path.join(ROOT, ".cache", "paddle", "venv")
REQUIREMENTS = os.path.join(HERE, "paddle-requirements.txt")
CONVERT = os.path.join(HERE, "paddle_convert.py")
_status: dict = {}


def _tail(text: str, n: int = 3) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip() and "WARNING: Location" not in ln]
    return " | ".join(lines[-n:])


def venv_python(venv: str = VENV) -> str:
    """The venv's Python, creating and installing it first where its requirements changed.
    Raises ``RuntimeError`` with pip's own error when the install fails."""
    python = os.path.join(venv, "bin", "python")
    with open(REQUIREMENTS, "rb") as f:
        stamp = hashlib.sha256(f.read()).hexdigest()
    stamp_file = os.path.join(venv, ".wasmdl-stamp")
    if os.path.exists(python) and os.path.exists(stamp_file):
        with open(stamp_file) as f:
            if f.read() == stamp:
                return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", venv], check=True)
    cmd = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
           "--require-hashes", "--no-deps", "-r", REQUIREMENTS]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"pip install --require-hashes -r bench/paddle-requirements.txt "
                           f"failed: {_tail(r.stderr or r.stdout)}")  # fmt: skip
    with open(stamp_file, "w") as f:
        f.write(stamp)
    return python


def available() -> str | None:
    """None once the venv is ready (made on the first call), else the reason it is not."""
    if "reason" not in _status:
        try:
            _status["python"], _status["reason"] = venv_python(), None
        except Exception as e:  # noqa: BLE001 - the reason goes into the row
            _status["reason"] = f"{type(e).__name__}: {e}"
    return _status["reason"]


def convert(weights_npz: str, out_dir: str, timeout: float = 600) -> dict:
    """Run ``paddle_convert.py`` on ``weights_npz`` into ``out_dir``; returns its report
    (files, PaddlePaddle-vs-numpy difference). Raises ``RuntimeError`` with the converter's
    own error."""
    reason = available()
    if reason is not None:
        raise RuntimeError(reason)
    r = subprocess.run([_status["python"], CONVERT, weights_npz, out_dir],
                       capture_output=True, text=True, timeout=timeout)  # fmt: skip
    for line in r.stdout.splitlines():
        if line.startswith("PADDLE_CONVERT ") and r.returncode == 0:
            return json.loads(line[len("PADDLE_CONVERT ") :])
    raise RuntimeError(f"paddle_convert.py (PaddlePaddle + paddlejsconverter) failed, exit "
                       f"{r.returncode}: {_tail(r.stdout + r.stderr, 4)}")  # fmt: skip
