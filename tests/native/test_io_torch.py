"""PyTorch weights through safetensors, both ways, with torch and the ``safetensors`` package as
the oracles: a torch model's state_dict saved by ``safetensors.torch`` loads into the equivalent
wasmdl model and predicts what torch predicts (1e-5 relative), and a wasmdl model's weights
written by ``wasmdl.io.safetensors`` load into torch (``strict=True``) with wasmdl's predictions.
"""

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.io import ModelFileError
from wasmdl.io import safetensors as st
from wasmdl.io.torch_state import load_state_dict, to_state_dict

torch = pytest.importorskip("torch")
sttorch = pytest.importorskip("safetensors.torch")
RNG = np.random.default_rng(0)


def close(got, want, rtol=1e-5):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
    assert err <= rtol, f"relative error {err:.3g} > {rtol}"


def _nchw(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


class TorchEncoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(11, 8)
        self.ln = torch.nn.LayerNorm(8)
        self.attn = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = torch.nn.Linear(8, 3)

    def forward(self, ids):
        x = self.ln(self.emb(ids))
        return self.head(self.attn(x, x, x)[0])


class Encoder(wasmdl.Model):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 8)
        self.ln = nn.LayerNormalization(epsilon=1e-5)
        self.attn = nn.MultiHeadAttention(2, 4)
        self.head = nn.Dense(3)

    def call(self, ids):
        x = self.ln(self.emb(ids))
        return self.head(self.attn(x, x))


def _cnn():
    t = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.Conv2d(8, 8, 3, groups=8, stride=2),
        torch.nn.ConvTranspose2d(8, 4, 2, stride=2),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 5),
    )
    w = wasmdl.Sequential(
        [
            nn.Conv2D(8, 3, padding="same", input_shape=(9, 9, 3)),
            nn.BatchNormalization(epsilon=1e-5),
            nn.Activation("relu"),
            nn.DepthwiseConv2D(3, strides=2),
            nn.Conv2DTranspose(4, 2, strides=2),
            nn.GlobalAvgPool2D(),
            nn.Dense(5),
        ]
    )
    with torch.no_grad():  # non-trivial running statistics
        t[1].running_mean.uniform_(-1, 1)
        t[1].running_var.uniform_(0.5, 2)
    return t, w, RNG.normal(size=(4, 3, 9, 9)).astype(np.float32), _nchw


def _rnn(cls, wcls, bidirectional):
    t = cls(5, 6, num_layers=2, batch_first=True, bidirectional=bidirectional)
    wrap = nn.Bidirectional if bidirectional else (lambda layer: layer)
    w = wasmdl.Sequential(
        [
            wrap(wcls(6, return_sequences=True, input_shape=(7, 5))),
            wrap(wcls(6, return_sequences=True)),
        ]
    )
    if not bidirectional:
        w.layers[0].input_shape_arg = (7, 5)
    w.build_from_json([[None, 7, 5]])
    return _Seq(t), w, RNG.normal(size=(3, 7, 5)).astype(np.float32), lambda x: x


class _Seq(torch.nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


CASES = {
    "mlp": lambda: (
        torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4)),
        wasmdl.Sequential([nn.Dense(16, "relu", input_shape=(6,)), nn.Dense(4)]),
        RNG.normal(size=(5, 6)).astype(np.float32),
        lambda x: x,
    ),
    "cnn": _cnn,
    "conv1d": lambda: (
        torch.nn.Sequential(torch.nn.Conv1d(4, 6, 3), torch.nn.Tanh()),
        wasmdl.Sequential([nn.Conv1D(6, 3, activation="tanh", input_shape=(10, 4))]),
        RNG.normal(size=(2, 4, 10)).astype(np.float32),
        lambda x: np.ascontiguousarray(x.transpose(0, 2, 1)),
    ),
    "lstm": lambda: _rnn(torch.nn.LSTM, nn.LSTM, False),
    "bilstm": lambda: _rnn(torch.nn.LSTM, nn.LSTM, True),
    "gru": lambda: _rnn(torch.nn.GRU, nn.GRU, False),
    "bigru": lambda: _rnn(torch.nn.GRU, nn.GRU, True),
    "encoder": lambda: (
        TorchEncoder(),
        Encoder(),
        RNG.integers(0, 11, size=(3, 6)),
        lambda x: x,
    ),
}


def _torch_out(t, x, fix):
    t.eval()
    with torch.no_grad():
        y = t(torch.from_numpy(x)).numpy()
    return fix(y) if y.ndim == x.ndim else y


def _build(w, x, fix):
    if not w.built:
        w(fix(x[:1]))
    return w


@pytest.mark.parametrize("case", sorted(CASES))
def test_torch_state_dict_loads_and_predicts(case, tmp_path):
    t, w, x, fix = CASES[case]()
    path = tmp_path / "model.safetensors"
    sttorch.save_file(t.state_dict(), str(path))  # the real tool writes the file
    want = _torch_out(t, x, fix)
    _build(w, x, fix)
    st.load(path.read_bytes(), model=w)
    close(w.predict(fix(x)), want)


@pytest.mark.parametrize("case", sorted(CASES))
def test_wasmdl_weights_load_in_torch(case, tmp_path):
    t, w, x, fix = CASES[case]()
    _build(w, x, fix)
    # non-default values everywhere (moving statistics too)
    w.set_weights([RNG.normal(0.5, 0.3, v.shape).astype(np.float32) for v in w.weights])
    blob = st.save(w, template=t.state_dict().keys())
    (tmp_path / "w.safetensors").write_bytes(blob)
    t.load_state_dict(sttorch.load_file(str(tmp_path / "w.safetensors")), strict=True)
    close(_torch_out(t, x, fix), w.predict(fix(x)))


def test_default_names_follow_model_paths():
    w = wasmdl.Sequential([nn.Dense(4, input_shape=(3,)), nn.BatchNormalization()])
    assert sorted(to_state_dict(w)) == [
        "0.bias",
        "0.weight",
        "1.bias",
        "1.num_batches_tracked",
        "1.running_mean",
        "1.running_var",
        "1.weight",
    ]


def test_safetensors_matches_the_reference_reader_and_writer():
    arrays = {
        "f64": RNG.normal(size=(2, 3)),
        "f16": RNG.normal(size=(4,)).astype(np.float16),
        "i8": np.arange(-3, 3, dtype=np.int8),
        "u8": np.arange(5, dtype=np.uint8),
        "b": np.array([True, False]),
        "i64": np.arange(6, dtype=np.int64).reshape(3, 2),
        "empty": np.zeros((0, 3), np.float32),
    }
    from safetensors.numpy import load, save

    ours = st.write(arrays, {"k": "v"})
    for name, arr in load(ours).items():
        assert arr.dtype == arrays[name].dtype and np.array_equal(arr, arrays[name])
    theirs, meta = st.read(save(arrays, {"k": "v"}))
    assert meta == {"k": "v"}
    for name, arr in theirs.items():
        assert arr.dtype == arrays[name].dtype and np.array_equal(arr, arrays[name])


def test_bfloat16_decodes_like_torch():
    x = torch.randn(7, dtype=torch.float32).to(torch.bfloat16)
    tensors, _ = st.read(sttorch.save({"x": x}))
    assert np.array_equal(tensors["x"], x.float().numpy())


@pytest.mark.parametrize(
    "blob, part",
    [
        (b"\x01", "header length"),
        (b"\xff" * 8 + b"{}", "header length"),
        (b"\x04\x00\x00\x00\x00\x00\x00\x00[1] ", "header"),
        (st.write({"a": np.zeros(2, np.float32)})[:-1], "data_offsets"),
        (st.write({"a": np.zeros(2, np.float32)}) + b"x", "data"),
    ],
)
def test_bad_files_name_the_part(blob, part):
    with pytest.raises(ModelFileError, match=part):
        st.read(blob)


def test_mismatched_state_dict_names_module_and_layer():
    w = wasmdl.Sequential([nn.Dense(4, input_shape=(3,))])
    with pytest.raises(ModelFileError, match=r"module '0' -> layers\.0\.kernel"):
        load_state_dict(w, {"0.weight": np.zeros((4, 5)), "0.bias": np.zeros(4)})
    with pytest.raises(ModelFileError, match="2 modules"):
        load_state_dict(w, {"0.weight": np.zeros((4, 3)), "1.weight": np.zeros((4, 3))})
