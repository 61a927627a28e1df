"""ONNX import and export: ``load(data) -> OnnxModel``, ``save(model, path=None)``, ``sniff``.

An imported graph becomes an ``OnnxModel``, a wasmdl ``Model`` that runs the graph's nodes in
order on wasmdl ops (``wasmdl.io.onnx_ops``); Conv, Gemm/MatMul, BatchNormalization and
LSTM/GRU nodes become layers whose weights train like any others. Opsets 13-21 of the default
domain are read; an operator outside ``onnx_ops.OPS`` gives ``ModelFileError`` naming it and
its node.

**Layout.** wasmdl computes convolutions channels-last. With ``layout="NHWC"`` (the default)
a graph input whose consumers are all convolutions/pooling/batch norms takes channels-last data
(``(N, H, W, C)``, or ``(N, L, C)`` for 1-D), and an output still held channels-last comes back
channels-last; ``model.input_layouts`` / ``model.output_layouts`` say which ("NHWC" or "as
declared"). With ``layout="NCHW"`` every input and output keeps the file's declared layout
(the input is transposed once per call). Weights are converted once, at load; a flatten of
channels-last activations into a Gemm/MatMul (a CNN's head) is folded into that layer's kernel
rows then, so a CNN runs without any transpose.

Loading is bounded: protobuf limits (``wasmdl.io.protobuf``), tensor sizes checked against the
bytes present, external data refused, and the graph run once on zeros of its declared input
shapes (unknown sizes as 1) so that a malformed graph fails at load with ``ModelFileError``
naming the node.

Example:
    >>> import numpy as np, wasmdl
    >>> net = wasmdl.Sequential([wasmdl.nn.Dense(3, "relu", input_shape=(4,)), wasmdl.nn.Dense(2)])
    >>> again = load(save(net))
    >>> x = np.ones((2, 4), np.float32)
    >>> bool(np.allclose(again.predict(x), net.predict(x), atol=1e-6))
    True
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import no_grad
from ..models import Model
from . import onnx_ops_nn, onnx_ops_shape  # noqa: F401  (register their operators)
from .format import ModelFileError
from .onnx_layers import GUARD, MAX_SAMPLE_ELEMENTS
from .onnx_ops import OPS
from .onnx_proto import attributes, declared_shape, parse_model, to_numpy
from .onnx_values import Node, V, cl_perm, plain, tensor

OPSETS = range(13, 22)
MAX_NODES = 100_000
GUARD_INPUT = MAX_SAMPLE_ELEMENTS
SPATIAL = {
    "Conv",
    "ConvTranspose",
    "MaxPool",
    "AveragePool",
    "BatchNormalization",
    "GlobalAveragePool",
    "GlobalMaxPool",
}
_FAULTS = (
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    ZeroDivisionError,
    OverflowError,
    NotImplementedError,
    AttributeError,
)
_ELEM = {1: np.float32, 6: np.int32, 7: np.int64, 9: np.bool_, 11: np.float64}


def sniff(data) -> bool:
    """True when ``data`` starts like an ONNX ModelProto: ``ir_version`` (3-12), then the tag
    of another ModelProto field (a safetensors length prefix can start with the same bytes)."""
    head = bytes(memoryview(data)[:3])
    return len(head) == 3 and head[0] == 0x08 and 3 <= head[1] <= 12 and head[2] in _TAGS


_TAGS = {0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42, 0x72, 0x8A}  # ModelProto fields 2-8, 14, 17


def _opset(model: dict) -> int:
    versions = {o.get("domain", ""): o.get("version", 0) for o in model.get("opset_import", [])}
    v = versions.get("", versions.get("ai.onnx"))
    if v not in OPSETS:
        raise ModelFileError(
            f"onnx: opset_import: default-domain opset {v} is not supported "
            f"(expected {OPSETS.start}-{OPSETS.stop - 1})"
        )
    return v


class OnnxModel(Model):
    """A runnable ONNX graph (see the module docstring)."""

    def __init__(self, graph: dict, opset: int, layout: str = "NHWC", name=None):
        super().__init__(name=name or graph.get("name") or "onnx_model")
        if layout not in ("NHWC", "NCHW"):
            raise ValueError(
                f"onnx.load: argument 'layout' expected 'NHWC' or 'NCHW', received {layout!r}"
            )
        self.layout, self.consts, self.steps, self._loading = layout, {}, [], False
        self._seen, self._layer_of = {}, {}
        for i, t in enumerate(graph.get("initializer", [])):
            self.consts[t.get("name", "")] = to_numpy(
                t, f"graph.initializer[{i}] {t.get('name', '')!r}"
            )
        nodes = graph.get("node", [])
        if len(nodes) > MAX_NODES:
            raise ModelFileError(f"onnx: graph.node: {len(nodes)} nodes exceed {MAX_NODES}")
        self.inputs = [
            (i.get("name", ""), declared_shape(i), _elem_type(i))
            for i in graph.get("input", [])
            if i.get("name", "") not in self.consts
        ]
        self.output_names = [o.get("name", "") for o in graph.get("output", [])]
        layers, known = self._build_steps(nodes, opset)
        self.layers = layers
        missing = [o for o in self.output_names if o not in known]
        if missing or not self.output_names:
            raise ModelFileError(
                f"onnx: graph.output: outputs {missing or '(none)'} are never computed"
            )
        self.input_layouts = [self._input_layout(n, s) for n, s, _ in self.inputs]
        self.output_layouts = None
        self.built = True

    def _build_steps(self, nodes, opset) -> tuple[list, set]:
        """One ``(node, run)`` step per node, in order; returns the layers and every name."""
        layers, known = [], {n for n, _, _ in self.inputs} | set(self.consts)
        for k, nd in enumerate(nodes):
            node = self._node(nd, k, opset, known)
            try:
                run, layer = OPS[node.op](node)
            except ModelFileError:
                raise
            except _FAULTS as e:  # attributes of the wrong type or shape, weights that do not fit
                node.fail(f"{type(e).__name__}: {str(e)[:300]}")
            self.steps.append((node, run))
            if layer is not None:
                layers.append(layer)
                self._layer_of[node.name] = layer
            known |= set(node.outputs)
        return layers, known

    def _node(self, nd, k, opset, known) -> Node:
        name = nd.get("name") or f"node{k}"
        where = f"graph.node[{k}] {name!r}"
        op, domain = nd.get("op_type", ""), nd.get("domain", "")
        ins, outs = list(nd.get("input", [])), list(nd.get("output", []))
        node = Node(name, op, ins, outs, {}, self.consts, opset)
        if domain not in ("", "ai.onnx") or op not in OPS:
            node.fail(
                f"operator {domain + '.' if domain else ''}{op!r} is not supported "
                f"(supported: {', '.join(sorted(OPS))})"
            )
        undefined = [i for i in ins if i and i not in known]
        if undefined or not outs:
            node.fail(
                f"inputs {undefined} are not defined before it (graph not topologically sorted)"
                if undefined
                else "it has no outputs"
            )
        node = node._replace(attrs=attributes(nd, where))
        if op == "Constant":
            self.consts[outs[0]] = _constant_value(node)
        return node

    def _input_layout(self, name, shape):
        users = [n.op for n, _ in self.steps if name in n.inputs]
        if self.layout == "NHWC" and len(shape) >= 3 and users and set(users) <= SPATIAL:
            return "NHWC"
        return "as declared"

    def call(self, *xs):
        if len(xs) != len(self.inputs):
            raise ValueError(
                f"{self.name}: expected {len(self.inputs)} inputs "
                f"({[n for n, _, _ in self.inputs]}), received {len(xs)}"
            )
        env = {k: V(v) for k, v in self.consts.items()}
        for (name, _, _), lay, x in zip(self.inputs, self.input_layouts, xs, strict=True):
            env[name] = V(x, lay == "NHWC")
        for node, run in self.steps:
            vals = [env[i] if i else None for i in node.inputs]
            try:
                outs = run(vals)
            except ModelFileError:
                raise
            except _FAULTS as e:
                msg = f"onnx: node {node.name!r} ({node.op}): {type(e).__name__}: {str(e)[:300]}"
                raise (ModelFileError if self._loading else ValueError)(msg) from e
            if self._loading:  # what the flatten fold needs to know
                self._seen[node.name] = [None if v is None else (v.cl, v.data.shape) for v in vals]
            for o, v in zip(node.outputs, outs, strict=False):
                if o:  # numpy ops on 0-d arrays give numpy scalars: keep host values arrays
                    env[o] = V(np.asarray(v.data)) if isinstance(v.data, np.generic) else v
        results = [env[o] for o in self.output_names]
        self.output_layouts = [
            "NHWC" if v.cl and self.layout == "NHWC" else "as declared" for v in results
        ]
        ys = [tensor(v.data if (v.cl and self.layout == "NHWC") else plain(v)) for v in results]
        return ys[0] if len(ys) == 1 else ys

    def dry_run(self):
        """Run once on zeros of the declared input shapes (batch and unknown sizes 1)."""
        xs = []
        for (_, shape, elem), lay in zip(self.inputs, self.input_layouts, strict=True):
            dims = [d if isinstance(d, int) and 0 < d <= 4096 else 1 for d in shape]
            if lay == "NHWC":
                dims = [dims[i] for i in cl_perm(len(dims))]
            xs.append(np.zeros(dims, _ELEM.get(elem, np.float32)))
        if any(math.prod(x.shape[1:]) > GUARD_INPUT for x in xs):
            raise ModelFileError(
                f"onnx: graph.input: declared shapes {[x.shape for x in xs]} exceed "
                f"{GUARD_INPUT} values per sample for the load check"
            )
        self._loading = GUARD["on"] = True
        try:
            with no_grad():
                self(*[tensor(x) for x in xs], training=False)
        except RecursionError as e:
            raise ModelFileError(f"onnx: the graph is too deep to run ({e})") from e
        finally:
            self._loading = GUARD["on"] = False


def _fold_flattens(model: OnnxModel) -> None:
    """Where a channels-last value is flattened straight into a Gemm/MatMul layer, permute
    that layer's kernel rows from ONNX's (C, H, W) order to the held (H, W, C) order once, so
    the flatten needs no transpose at run time."""
    users: dict[str, list] = {}
    for node, _ in model.steps:
        for i in node.inputs:
            users.setdefault(i, []).append(node)
    for node, _ in model.steps:
        phys = _foldable(model, node, users)
        if phys is None:
            continue
        layer = model._layer_of[users[node.outputs[0]][0].name]
        kernel = layer.kernel.numpy()
        k = kernel.reshape(phys[-1], *phys[:-1], -1)  # rows in ONNX's (C, H, W) order
        k = np.transpose(k, (*range(1, len(phys)), 0, len(phys))).reshape(kernel.shape)
        layer.load_weights_dict({**layer.weights_dict(), "kernel": k}, fn="onnx.load")
        node.attrs["__fold_cl"] = phys


def _foldable(model, node, users):
    """The held ``(H, W, C)`` of a Flatten/Reshape to 2-D whose only user is a Gemm/MatMul
    layer (as seen in the dry run), else None."""
    seen, out = model._seen.get(node.name), node.outputs[0]
    if node.op not in ("Flatten", "Reshape") or not seen or not seen[0] or not seen[0][0]:
        return None
    if node.op == "Flatten" and node.attrs.get("axis", 1) != 1:
        return None
    user, *more = users.get(out, [None])
    if more or user is None or user.name not in model._layer_of or user.inputs[0] != out:
        return None
    phys, got = tuple(seen[0][1][1:]), model._seen.get(user.name)
    if out in model.output_names or not got or not got[0] or got[0][1][1:] != (math.prod(phys),):
        return None
    return phys if model._layer_of[user.name].kernel.shape[0] == math.prod(phys) else None


def _elem_type(info: dict) -> int:
    return info.get("type", {}).get("tensor_type", {}).get("elem_type", 1)


def _constant_value(node: Node) -> np.ndarray:
    a = node.attrs
    for key, conv in (
        ("value", np.asarray),
        ("value_float", np.float32),
        ("value_floats", lambda v: np.asarray(v, np.float32)),
        ("value_int", np.int64),
        ("value_ints", lambda v: np.asarray(v, np.int64)),
    ):
        if key in a:
            return np.asarray(conv(a[key]))
    node.fail("expected a value, value_float(s) or value_int(s) attribute")


def load(data, layout: str = "NHWC", **kw) -> OnnxModel:
    """Parse ONNX bytes into a runnable ``OnnxModel`` (see the module docstring)."""
    proto = parse_model(data)
    if "graph" not in proto:
        raise ModelFileError("onnx: ModelProto: no graph (not an ONNX model file?)")
    model = OnnxModel(proto["graph"], _opset(proto), layout)
    model.dry_run()
    _fold_flattens(model)
    return model


def save(model, path=None, **kw):
    """Export a wasmdl model to ONNX bytes (see ``wasmdl.io.onnx_export.export``)."""
    from .onnx_export import export

    blob = export(model, **kw)
    if path is None:
        return blob
    with open(path, "wb") as f:
        f.write(blob)
    return None
