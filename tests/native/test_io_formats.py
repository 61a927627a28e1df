"""One entry point for every format: ``wasmdl.load_model`` sniffs the bytes (or a TF.js folder),
``model.save`` picks the format from ``format=`` or the extension; the same predictions after a
round trip through each (the model before saving is the oracle), and clear errors for keyword
arguments a format does not take and for a weights-only safetensors file without a model."""

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.io import FORMATS


def _model():
    wasmdl.manual_seed(3)
    return wasmdl.Sequential(
        [nn.Dense(5, activation="relu", input_shape=(4,)), nn.Dense(3, activation="softmax")]
    )


@pytest.mark.parametrize("ext", [".keras", ".wasmdl", ".onnx"])
def test_extension_picks_the_format_and_load_model_sniffs_it(tmp_path, ext):
    model, x = _model(), np.random.default_rng(0).random((6, 4), np.float32)
    path = tmp_path / f"m{ext}"
    model.save(str(path))
    again = wasmdl.load_model(str(path))
    np.testing.assert_allclose(np.asarray(again.predict(x)), model.predict(x), atol=1e-6)
    name = next(n for n, (sniff, _, _) in FORMATS.items() if sniff(path.read_bytes()))
    assert name == {".keras": "keras", ".wasmdl": "wasmdl", ".onnx": "onnx"}[ext]


def test_tfjs_folder_and_safetensors_into_a_model(tmp_path):
    model, x = _model(), np.random.default_rng(1).random((6, 4), np.float32)
    model.save(str(tmp_path / "tf"), format="tfjs")
    again = wasmdl.load_model(str(tmp_path / "tf"))  # the folder TF.js writes
    np.testing.assert_allclose(again.predict(x), model.predict(x), atol=1e-6)
    model.save(str(tmp_path / "w.safetensors"))
    with pytest.raises(ValueError, match="load_model: argument 'model'"):
        wasmdl.load_model(str(tmp_path / "w.safetensors"))
    target = _model()
    target.set_weights([w * 0 for w in target.get_weights()])
    wasmdl.load_model(str(tmp_path / "w.safetensors"), model=target)
    np.testing.assert_allclose(target.predict(x), model.predict(x), atol=1e-6)


def test_keyword_a_format_does_not_take_is_refused(tmp_path):
    model = _model()
    model.save(str(tmp_path / "m.keras"))
    with pytest.raises(TypeError, match=r"load_model: unexpected keyword arguments \['weights'\]"):
        wasmdl.load_model(str(tmp_path / "m.keras"), weights="x")
    with pytest.raises(TypeError, match="save_model: unexpected keyword arguments"):
        wasmdl.io.save_model(model, str(tmp_path / "n.keras"), quantize="uint8")
