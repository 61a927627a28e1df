"""ONNX both ways, with the real tools as oracles: ``torch.onnx.export`` files load and predict
what PyTorch and ONNX Runtime predict (1e-5 relative); what ``wasmdl.io.onnx.save`` writes runs
in ONNX Runtime (and loads back) with wasmdl's predictions."""

import io
import warnings

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.io import ModelFileError
from wasmdl.io import onnx as wo

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
RNG = np.random.default_rng(0)


def close(got, want, rtol=1e-5):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
    assert err <= rtol, f"relative error {err:.3g} > {rtol}"


def torch_export(module, x, opset=17):
    module.eval()
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            (torch.from_numpy(x),),
            buf,
            dynamo=False,
            opset_version=opset,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": {0: "N"}},
        )
    return buf.getvalue()


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        t = torch.nn
        self.f = t.Sequential(
            t.Conv2d(3, 8, 3, padding=1),
            t.BatchNorm2d(8),
            t.ReLU6(),
            t.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
            t.Conv2d(8, 8, 3, groups=2, stride=2, padding=1, dilation=1),
            t.Hardswish(),
            t.AvgPool2d(2, padding=1, count_include_pad=True),
            t.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
            t.Hardsigmoid(),
            t.ZeroPad2d((1, 0, 2, 1)),
            t.Conv2d(4, 4, 1),
            t.Sigmoid(),
        )
        self.h = t.Linear(252, 3)

    def forward(self, x):
        y = self.f(x)
        y = y + torch.tanh(y) * 0.5 - 0.25 / (1.0 + y)
        return torch.softmax(self.h(y.view(y.size(0), -1)), -1)


class Pooled(torch.nn.Module):
    def __init__(self):
        super().__init__()
        t = torch.nn
        self.f = t.Sequential(t.Conv1d(4, 6, 3, padding=2, dilation=2), t.ReLU(), t.AvgPool1d(2))
        self.g = t.Sequential(t.Conv2d(6, 5, (1, 3)), t.BatchNorm2d(5), t.AdaptiveAvgPool2d(1))
        self.h = t.Flatten()

    def forward(self, x):
        y = self.f(x).unsqueeze(2)  # (N, 6, 1, L)
        z = self.h(self.g(y))
        return torch.cat([z, z.transpose(0, 1).transpose(0, 1) * 2], dim=1)


class RNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(5, 7, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = torch.nn.GRU(14, 6, batch_first=True)
        self.out = torch.nn.Linear(6, 2)

    def forward(self, x):
        y, _ = self.lstm(x)
        y, _ = self.gru(y)
        return self.out(y[:, -1])


def _bn_stats(module):
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    return module


TORCH_CASES = {
    "mlp": lambda: (
        torch.nn.Sequential(
            torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4), torch.nn.Softmax(-1)
        ),
        RNG.normal(size=(5, 6)),
    ),
    "cnn": lambda: (_bn_stats(CNN()), RNG.normal(size=(2, 3, 16, 14))),
    "conv1d_pool": lambda: (_bn_stats(Pooled()), RNG.normal(size=(3, 4, 12))),
    "lstm_gru": lambda: (RNN(), RNG.normal(size=(3, 9, 5))),
}


def dynamo_export(module, x):
    """PyTorch's default exporter (torch.export + onnxscript; opset 18+, fixed batch)."""
    pytest.importorskip("onnxscript")
    module.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (torch.from_numpy(x),), dynamo=True, verbose=False)
    model = program.model_proto
    model.graph.input[0].name = "x"  # its own input name differs by model
    for node in model.graph.node:
        node.input[:] = ["x" if i == program.model.graph.inputs[0].name else i for i in node.input]
    return model.SerializeToString()


@pytest.mark.parametrize("opset", [13, 17, 20, "dynamo"])
@pytest.mark.parametrize("case", sorted(TORCH_CASES))
def test_torch_onnx_export_loads_and_predicts(case, opset):
    module, x = TORCH_CASES[case]()
    x = x.astype(np.float32)
    blob = dynamo_export(module, x) if opset == "dynamo" else torch_export(module, x, opset)
    with torch.no_grad():
        want = module(torch.from_numpy(x)).numpy()
    close(ort.InferenceSession(blob).run(None, {"x": x})[0], want)
    assert wo.sniff(blob)
    nchw = wo.load(blob, layout="NCHW")
    close(nchw.predict(x), want)
    nhwc = wo.load(blob)
    if nhwc.input_layouts == ["NHWC"]:
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    close(nhwc.predict(x), want)


def test_imported_model_layouts_are_reported():
    module, x = TORCH_CASES["cnn"]()
    m = wo.load(torch_export(module, x.astype(np.float32)))
    assert m.input_layouts == ["NHWC"]
    m(np.zeros((1, 16, 14, 3), np.float32))
    assert m.output_layouts == ["as declared"]
    # the flatten before the Linear needs no transpose: its kernel rows were permuted at load
    assert [n.attrs["__fold_cl"] for n, _ in m.steps if "__fold_cl" in n.attrs] == [(9, 7, 4)]
    rnn = wo.load(torch_export(RNN(), RNG.normal(size=(1, 4, 5)).astype(np.float32)))
    assert rnn.input_layouts == ["as declared"]


def _randomize(net):
    net.set_weights([RNG.uniform(0.05, 0.6, w.shape).astype(np.float32) for w in net.weights])
    return net


EXPORT_CASES = {
    "mlp": lambda: (
        wasmdl.Sequential([nn.Dense(8, "relu", input_shape=(5,)), nn.Dense(3, "softmax")]),
        RNG.normal(size=(4, 5)).astype(np.float32),
    ),
    "cnn": lambda: (
        wasmdl.Sequential(
            [
                nn.Conv2D(4, 3, padding="same", activation="relu6", input_shape=(9, 9, 2)),
                nn.BatchNormalization(),
                nn.MaxPool2D(2, padding="same"),
                nn.DepthwiseConv2D(3, padding="same", activation="hard_sigmoid"),
                nn.Conv2DTranspose(3, 3, strides=2, padding="same"),
                nn.AvgPool2D(2, strides=1, padding="same"),
                nn.Conv2DTranspose(2, 2, strides=3),
                nn.Flatten(),
                nn.Dense(3, "swish"),
            ]
        ),
        RNG.normal(size=(2, 9, 9, 2)).astype(np.float32),
    ),
    "conv1d": lambda: (
        wasmdl.Sequential(
            [
                nn.Conv1D(4, 3, padding="causal", input_shape=(10, 3)),
                nn.MaxPool1D(2),
                nn.GlobalAvgPool1D(),
                nn.Dense(2),
            ]
        ),
        RNG.normal(size=(2, 10, 3)).astype(np.float32),
    ),
    "rnn": lambda: (
        wasmdl.Sequential(
            [
                nn.Embedding(20, 6, input_shape=(7,)),
                nn.Bidirectional(nn.LSTM(5, return_sequences=True)),
                nn.LayerNormalization(),
                nn.GRU(4, return_sequences=True),
                nn.LSTM(3, go_backwards=True),
                nn.Dense(2),
            ]
        ),
        RNG.integers(0, 20, (3, 7)).astype(np.int32),
    ),
}


@pytest.mark.parametrize("case", sorted(EXPORT_CASES))
def test_wasmdl_onnx_runs_in_onnxruntime(case, tmp_path):
    net, x = EXPORT_CASES[case]()
    _randomize(net)
    want = net.predict(x)
    wo.save(net, tmp_path / "m.onnx")
    onnx.checker.check_model(str(tmp_path / "m.onnx"), full_check=True)
    feed = x.astype(np.int64) if x.dtype.kind == "i" else x
    got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": feed})[0]
    close(got, want)
    close(wo.load((tmp_path / "m.onnx").read_bytes()).predict(x), want)


def _graph(op, **attrs):
    from onnx import TensorProto, helper

    node = helper.make_node(op, ["x"], ["y"], name="the_node", **attrs)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_unsupported_operator_names_it_and_its_node():
    blob = _graph("Resize").SerializeToString()
    with pytest.raises(ModelFileError, match=r"node 'the_node' \(Resize\).*'Resize' is not"):
        wo.load(blob)


def test_opset_outside_13_to_21_is_refused():
    model = _graph("Relu")
    model.opset_import[0].version = 11
    with pytest.raises(ModelFileError, match="opset 11 is not supported"):
        wo.load(model.SerializeToString())


def test_imported_weights_train():
    module, x = TORCH_CASES["mlp"]()
    m = wo.load(torch_export(module, x.astype(np.float32)))
    assert len(m.parameters()) == 4
    m.compile(optimizer="sgd", loss="mse")
    before = m.get_weights()[0].copy()
    m.fit(x.astype(np.float32), np.zeros((5, 4), np.float32), epochs=1, verbose=0)
    assert not np.array_equal(before, m.get_weights()[0])


def _conv_model(in_shape, out_channels, pads=(0, 0, 0, 0)):
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.ones((out_channels, in_shape[1], 1, 1), np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="big", pads=list(pads))
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.mark.parametrize(
    "blob, match",
    [
        (lambda: _conv_model([1, 2, 4096, 4096], 1), "exceed"),  # a huge declared input
        (lambda: _conv_model([1, 1, 1024, 1024], 512), r"node 'big'.*exceeds"),  # 512M outputs
        (lambda: _conv_model([1, 1, 8, 8], 1, (10**6,) * 4), r"node 'big'.*exceeds"),  # pads
    ],
)
def test_tiny_hostile_files_cannot_make_load_allocate_much(blob, match):
    data = blob()
    assert len(data) < 3000
    with pytest.raises(ModelFileError, match=match):
        wo.load(data)
