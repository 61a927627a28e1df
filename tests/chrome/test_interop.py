"""Tier 3: PyTorch weights (safetensors) and ONNX files in Pyodide in Chromium (issue #16).

Files made natively by the real tools (``safetensors.torch.save``, ``torch.onnx.export`` of an
MLP, a CNN and an LSTM, TF.js 4.22's ``model.save`` of an MLP, a CNN with BatchNorm, an LSTM,
a GRU and a functional model) are sent into the page as bytes, loaded by wasmdl there and checked
against PyTorch's own outputs (1e-5 relative); an ONNX file wasmdl writes in Pyodide runs in
ONNX Runtime Web 1.30 (wasm backend) in the same page with wasmdl's predictions.
"""

import base64
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from pytest_pyodide import run_in_pyodide

torch = pytest.importorskip("torch")
sttorch = pytest.importorskip("safetensors.torch")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "native"))
from test_io_onnx import TORCH_CASES, torch_export  # noqa: E402
from test_io_tfjs import KINDS, node  # noqa: E402


def _torch_files():
    torch.manual_seed(0)
    out = {}
    for case in ("mlp", "cnn", "lstm_gru"):
        module, x = TORCH_CASES[case]()
        x = x.astype(np.float32)
        blob = torch_export(module, x)
        with torch.no_grad():
            want = module(torch.from_numpy(x)).numpy()
        out[case] = (blob, x.tolist(), want.tolist())
    mlp, x = TORCH_CASES["mlp"]()
    buf = io.BytesIO(sttorch.save(mlp.state_dict()))
    with torch.no_grad():
        want = mlp(torch.from_numpy(x.astype(np.float32))).numpy()
    out["safetensors"] = (buf.getvalue(), x.astype(np.float32).tolist(), want.tolist())
    return out


@pytest.mark.driver_timeout(300)
def test_torch_files_load_in_pyodide(selenium_wasmdl):
    files = _torch_files()
    errors = _check_in_pyodide(selenium_wasmdl, files)
    assert max(errors.values()) <= 1e-5, errors


@run_in_pyodide
def _check_in_pyodide(selenium_wasmdl, files):
    import numpy as np

    import wasmdl
    from wasmdl import nn
    from wasmdl.io import onnx, safetensors

    def rel(got, want):
        want = np.asarray(want)
        return float(np.abs(np.asarray(got) - want).max() / np.abs(want).max())

    errors = {}
    for case in ("mlp", "cnn", "lstm_gru"):
        blob, x, want = files[case]
        model = onnx.load(blob)
        x = np.asarray(x, np.float32)
        if model.input_layouts == ["NHWC"]:
            x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
        errors[case] = rel(model.predict(x), want)
    blob, x, want = files["safetensors"]
    net = wasmdl.Sequential([nn.Dense(16, "relu", input_shape=(6,)), nn.Dense(4, "softmax")])
    safetensors.load(blob, model=net)
    errors["safetensors"] = rel(net.predict(np.asarray(x, np.float32)), want)
    return errors


@run_in_pyodide
def _export_in_pyodide(selenium_wasmdl):
    import numpy as np

    import wasmdl
    from wasmdl import nn
    from wasmdl.io import onnx

    net = wasmdl.Sequential(
        [
            nn.Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 2)),
            nn.BatchNormalization(),
            nn.MaxPool2D(2),
            nn.Flatten(),
            nn.Dense(3, "softmax"),
        ]
    )
    x = np.random.default_rng(0).random((2, 8, 8, 2), dtype=np.float32)
    return onnx.save(net), x.ravel().tolist(), net.predict(x).ravel().tolist()


ORT_JS = """
const [blob64, x, shape, origin] = ARGS;
const base = origin + '/vendor/onnxruntime-web/dist/';
if (!self.ort) {
  await new Promise((ok, bad) => {
    const s = document.createElement('script');
    s.src = base + 'ort.wasm.min.js'; s.onload = ok; s.onerror = bad;
    document.head.appendChild(s);
  });
}
ort.env.wasm.wasmPaths = base;
ort.env.wasm.numThreads = 1;
const bytes = Uint8Array.from(atob(blob64), (c) => c.charCodeAt(0));
const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x), shape) });
return Array.from(out.output.data);
"""


@pytest.mark.driver_timeout(300)
def test_wasmdl_onnx_runs_in_onnxruntime_web(selenium_wasmdl, wasmdl_server):
    blob, x, want = _export_in_pyodide(selenium_wasmdl)
    args = [base64.b64encode(blob).decode(), x, [2, 8, 8, 2], wasmdl_server]
    code = ORT_JS.replace("ARGS", json.dumps(args))
    got = selenium_wasmdl.run_js(code)
    want = np.asarray(want)
    assert np.abs(np.asarray(got) - want).max() / np.abs(want).max() <= 1e-5


@pytest.mark.driver_timeout(300)
def test_tfjs_files_load_in_pyodide(selenium_wasmdl, tmp_path):
    import json

    files = {}
    for kind in KINDS:
        d = tmp_path / kind
        d.mkdir()
        node("make", d, kind)
        doc = json.loads((d / "model.json").read_text())
        shards = {p: (d / p).read_bytes() for p in doc["weightsManifest"][0]["paths"]}
        x, y = (json.loads((d / f).read_text()) for f in ("x.json", "y.json"))
        files[kind] = ((d / "model.json").read_bytes(), shards, x, y)
    errors = _check_tfjs_in_pyodide(selenium_wasmdl, files)
    assert max(errors.values()) <= 1e-5, errors


@run_in_pyodide
def _check_tfjs_in_pyodide(selenium_wasmdl, files):
    import numpy as np

    from wasmdl.io import tfjs

    errors = {}
    for kind, (model_json, shards, x, y) in files.items():
        xs = np.asarray(x["data"], np.float32).reshape(x["shape"])
        xs = xs.astype(np.int32) if kind == "gru" else xs
        want = np.asarray(y["data"]).reshape(y["shape"])
        got = tfjs.load(model_json, weights=shards).predict(xs)
        errors[kind] = float(np.abs(got - want).max() / np.abs(want).max())
    return errors
