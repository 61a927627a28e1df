"""``TfjsGraphModel``: a Keras functional topology (as TF.js writes it: ``layers`` with
``inbound_nodes``, ``input_layers``, ``output_layers``) run as a wasmdl ``Model``.

Each layer call (a layer may be called several times: one node per call) runs once its inputs
exist, in the file's order; the model's layers are ordinary wasmdl layers, so they train.

Example:
    >>> import numpy as np
    >>> cfg = {"name": "m", "input_layers": [["in", 0, 0]], "output_layers": [["d", 0, 0]],
    ...        "layers": [
    ...   {"name": "in", "class_name": "InputLayer", "inbound_nodes": [],
    ...    "config": {"name": "in", "batch_input_shape": [None, 3]}},
    ...   {"name": "d", "class_name": "Dense", "inbound_nodes": [[["in", 0, 0, {}]]],
    ...    "config": {"name": "d", "units": 2}}]}
    >>> TfjsGraphModel(cfg).predict(np.ones((4, 3), np.float32)).shape
    (4, 2)
"""

from __future__ import annotations

from ..models import Model
from .format import ModelFileError
from .tfjs_layers import from_keras

MAX_LAYERS = 10_000


def _fail(where, msg):
    raise ModelFileError(f"tfjs: {where}: {msg}")


def _ref(r, where) -> tuple[str, int, int]:
    ok = isinstance(r, list) and len(r) >= 3 and isinstance(r[0], str)
    if not ok or not all(isinstance(i, int) and not isinstance(i, bool) for i in r[1:3]):
        _fail(where, f"expected [layer name, node index, tensor index], received {str(r)[:80]}")
    return r[0], r[1], r[2]


class TfjsGraphModel(Model):
    """A functional (multi-input/-output, branching) Keras topology."""

    def __init__(self, config: dict):
        super().__init__(name=config.get("name") if isinstance(config.get("name"), str) else None)
        self.config = config  # kept for tfjs.save
        specs = config.get("layers")
        if not isinstance(specs, list) or not 0 < len(specs) <= MAX_LAYERS:
            _fail("modelTopology.config.layers", f"expected 1 to {MAX_LAYERS} layers")
        self.inputs, shapes, layers, self.calls = [], [], [], []
        for k, spec in enumerate(specs):
            where = f"modelTopology.config.layers[{k}]"
            if not isinstance(spec, dict) or not isinstance(spec.get("config"), dict):
                _fail(where, "expected {class_name, config, inbound_nodes}")
            name = spec.get("name", spec["config"].get("name"))
            if spec.get("class_name") == "InputLayer":
                shape = spec["config"].get("batch_input_shape") or spec["config"].get("batch_shape")
                if not isinstance(shape, list) or len(shape) < 2:
                    _fail(where, "an InputLayer needs batch_input_shape")
                self.inputs.append(name)
                shapes.append([None, *shape[1:]])
                continue
            layer = from_keras(spec)
            layers.append(layer)
            nodes = spec.get("inbound_nodes")
            if not isinstance(nodes, list) or not nodes:
                _fail(where, "expected inbound_nodes: a list of calls")
            for i, node in enumerate(nodes):
                if not isinstance(node, list) or not node:
                    _fail(f"{where}.inbound_nodes[{i}]", "expected a list of inputs")
                refs = [_ref(r, f"{where}.inbound_nodes[{i}]") for r in node]
                self.calls.append((layer, name, i, refs))
        self.layers = layers
        self.outputs = [_ref(r, "output_layers") for r in config.get("output_layers") or []]
        ins = [_ref(r, "input_layers")[0] for r in config.get("input_layers") or []]
        if not self.outputs or sorted(ins) != sorted(self.inputs):
            _fail("modelTopology.config", "input_layers/output_layers do not match the layers")
        by_name = dict(zip(self.inputs, shapes, strict=True))
        self.inputs = ins
        self._check_order()
        # build every weight: one pass on zeros (unknown sizes 1; Model checks the sizes)
        self.build_from_json([[None, *(d or 1 for d in by_name[n][1:])] for n in ins])

    def _check_order(self):
        have = {(n, 0) for n in self.inputs}
        for _, name, i, refs in self.calls:
            missing = [r for r in refs if r[:2] not in have]
            if missing:
                _fail(f"layer {name!r}", f"inputs {missing[:4]} are not computed before it")
            have.add((name, i))
        if any(r[:2] not in have for r in self.outputs):
            _fail("output_layers", f"outputs {self.outputs[:4]} are never computed")

    def call(self, *xs):
        if len(xs) != len(self.inputs):
            raise ValueError(f"{self.name}: expected {len(self.inputs)} inputs, received {len(xs)}")
        env = {(n, 0, 0): x for n, x in zip(self.inputs, xs, strict=True)}
        for layer, name, i, refs in self.calls:
            args = [env[r] for r in refs]
            out = layer(args if len(args) > 1 else args[0])
            for t, y in enumerate(out if isinstance(out, list) else [out]):
                env[(name, i, t)] = y
        outs = [env[r] for r in self.outputs]
        return outs[0] if len(outs) == 1 else outs
