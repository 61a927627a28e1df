"""Paddle.js models of the grid network and of the user workloads' MLP and CNN, made by
Paddle.js's own converter.

PaddlePaddle and ``paddlejsconverter`` live in a venv of their own (``.cache/paddle/venv``,
installed from ``bench/paddle-requirements.txt`` with pinned hashes and ``--no-deps``: the
converter's declared dependency ``paddlejslite -> paddlelite`` has no release that installs
here, and only its optional optimiser uses it). ``bench/paddle_convert.py`` runs there, once
per configuration: the seeded ``weights.npz`` becomes a PaddlePaddle network (checked against
numpy), a Paddle inference model, and ``paddlejs/model.json`` + ``paddlejs/chunk_1.dat``,
which ``@paddlejs/paddlejs-core`` + ``@paddlejs/paddlejs-backend-webgl`` load in the page.
``export_network`` does the same for a wasmdl ``Sequential`` (``network_arrays``: Dense,
Conv2D, MaxPool2D, Flatten), checked against wasmdl's own outputs.

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


def network_arrays(model, x_check, y_check) -> dict:
    """A wasmdl ``Sequential`` of Dense / Conv2D (valid, stride 1) / MaxPool2D (2 x 2) /
    Flatten layers on 28 x 28 x 1 images (or a first LSTM over its 28 rows), as the npz arrays
    ``paddle_convert.py`` builds from: weights in Paddle's layouts (conv OIHW; the first Dense
    after a flatten has its rows put in NCHW's flattening order), the layer list, and
    ``x_check`` with the outputs wasmdl gave for
    it (``y_check``) as the check. Raises ``ValueError`` naming a layer it cannot express."""
    arrays, layers, hwc, flat = {}, [], (28, 28, 1), None

    def weighted(kind, w, b, act):
        j = sum("w" in spec for spec in layers)
        arrays[f"w{j}"], arrays[f"b{j}"] = w.astype("float32"), b.astype("float32")
        layers.append({"type": kind, "w": f"w{j}", "b": f"b{j}", "act": act})

    for layer in model.layers:
        kind, act = type(layer).__name__, getattr(layer, "activation", None)
        act = None if act == "linear" else act
        if kind not in ("Conv2D", "MaxPool2D", "MaxPooling2D", "Flatten", "Dense", "LSTM"):
            raise ValueError(f"Paddle.js export: {kind} is not handled (Dense, Conv2D valid "
                             "stride 1, MaxPool2D 2x2, Flatten and LSTM are)")  # fmt: skip
        if kind == "LSTM":  # over the image's 28 rows; its last output (Keras' default)
            if layers or layer.return_sequences or layer.activation not in ("tanh", None):
                raise ValueError("Paddle.js export: an LSTM is handled as the first layer, "
                                 "tanh, last output only")  # fmt: skip
            k, u, b = layer.get_weights()  # (in, 4h), (h, 4h), (4h,): gates i, f, g, o
            arrays["w0"], arrays["u0"], arrays["b0"] = (a.T.astype("float32") for a in (k, u, b))
            layers.append({"type": "lstm", "w": "w0", "u": "u0", "b": "b0", "act": None,
                           "units": int(u.shape[0])})  # fmt: skip
            flat = (int(u.shape[0]),)
            continue
        if act not in (None, "relu", "softmax") or len(layer.get_weights()) not in (0, 2):
            raise ValueError(f"Paddle.js export: {kind} with activation {act!r} is not handled")
        if kind == "Conv2D" and layer.padding == "valid" and tuple(layer.strides) == (1, 1):
            w, b = layer.get_weights()
            weighted("conv2d", w.transpose(3, 2, 0, 1), b, act)
            hwc = (hwc[0] - w.shape[0] + 1, hwc[1] - w.shape[1] + 1, w.shape[3])
        elif kind in ("MaxPool2D", "MaxPooling2D") and tuple(layer.pool_size) == (2, 2):
            layers.append({"type": "maxpool2d"})
            hwc = (hwc[0] // 2, hwc[1] // 2, hwc[2])
        elif kind == "Flatten":
            layers.append({"type": "flatten"})
            flat = hwc
        elif kind == "Dense":
            if flat is None:  # a Dense on the image itself: Paddle's feed is 1 x 28 x 28
                layers.append({"type": "flatten"})
                flat = hwc
            w, b = layer.get_weights()
            if flat is not None and len(flat) == 3:  # NHWC's flattening order -> NCHW's
                h, wd, c = flat
                w = w.reshape(h, wd, c, -1).transpose(2, 0, 1, 3).reshape(h * wd * c, -1)
            weighted("dense", w, b, act)
            flat = (w.shape[1],)
        else:
            raise ValueError(f"Paddle.js export: this {kind} is not handled (Conv2D: valid, "
                             "stride 1; MaxPool2D: 2x2)")  # fmt: skip
    arrays["layers"] = json.dumps(layers)
    arrays["x_check"] = x_check.reshape(len(x_check), 1, 28, 28).astype("float32")
    arrays["y_check"] = y_check.astype("float32")
    return arrays


def export_network(model, x_check, y_check, out_dir: str) -> dict:
    """``network_arrays`` converted into ``out_dir`` (model.json + chunk_N.dat)."""
    import numpy as np

    arrays = network_arrays(model, x_check, y_check)
    os.makedirs(out_dir, exist_ok=True)
    npz = os.path.join(out_dir, "network.npz")
    np.savez(npz, **arrays)
    try:
        return convert(npz, out_dir)
    finally:
        os.remove(npz)
