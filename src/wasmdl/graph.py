"""Functional models: ``wasmdl.Model(inputs, outputs)`` over a graph of layer calls (Keras).

``Input`` and layer calls on its symbolic tensors record nodes (``wasmdl.nn.symbolic``);
``Functional`` walks them from the outputs back to the inputs, orders the nodes and layers the
way Keras does (so ``.keras`` files name the same layers), and runs the nodes in that order.
Multiple inputs and outputs, shared layers (one layer, several nodes) and nested models (a
model is a layer) all follow. ``get_config`` writes Keras 3's functional config.

Example:
    >>> import numpy as np, wasmdl
    >>> from wasmdl import nn
    >>> a, b = wasmdl.Input((4,), name="a"), wasmdl.Input((4,), name="b")
    >>> shared = nn.Dense(8, activation="relu")
    >>> merged = nn.Concatenate()([shared(a), shared(b)])
    >>> model = wasmdl.Model([a, b], [nn.Dense(1)(merged), nn.Dense(2)(shared(a))])
    >>> ya, yb = model.predict([np.ones((3, 4), np.float32), np.zeros((3, 4), np.float32)])
    >>> ya.shape, yb.shape, len(model.layers)
    ((3, 1), (3, 2), 6)
    >>> again = wasmdl.Model.from_config(model.get_config())
    >>> [layer.name for layer in again.layers] == [layer.name for layer in model.layers]
    True
"""

from __future__ import annotations

from .graph_config import functional_from_config, summary_text
from .models import Model
from .nn.serialize import deserialize_layer, serialize_layer
from .nn.symbolic import KerasTensor, Node, flatten, inbound_nodes, map_structure


def _history_node(t: KerasTensor) -> Node:
    layer, index, _ = t.keras_history
    return inbound_nodes(layer)[index]


def build_map(inputs, outputs):
    """Keras' ``map_graph``: the graph's nodes (inputs first) and its layers in Keras' order
    (by decreasing depth, then first DFS visit from the outputs)."""
    order, finished, active, first_seen = [], set(), set(), {}
    input_ids = {id(t) for t in inputs}

    def visit(t):
        node = _history_node(t)
        if id(node) in finished:
            return
        if id(t) in input_ids and not node.is_input:  # an input taken from another graph
            finished.add(id(node))
            return
        if id(node) in active:
            raise ValueError(f"Model: the graph has a cycle through layer {node.layer.name!r}")
        first_seen.setdefault(id(node.layer), len(first_seen))
        active.add(id(node))
        if id(t) not in input_ids:
            for parent in node.inputs:
                visit(parent)
        finished.add(id(node))
        active.discard(id(node))
        order.append(node)

    for t in outputs:
        visit(t)
    return order, _layers_by_depth(order, inputs, first_seen)


def _layers_by_depth(order, inputs, first_seen):
    in_graph = {id(n) for n in order}
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)], node_depth[id(node)] = depth, depth
        layers[id(node.layer)] = node.layer
        for t in node.inputs:
            parent = _history_node(t)
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for t in inputs:
        layer = t.keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], first_seen[id(layer)], layers[id(layer)] = 0, -1, layer
    keys = sorted(layers, key=lambda k: (-layer_depth[k], first_seen[k]))
    return [layers[k] for k in keys]


class Functional(Model):
    """A model over a graph of layers; made by ``wasmdl.Model(inputs, outputs)``."""

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable)
        for what, struct in (("inputs", inputs), ("outputs", outputs)):
            bad = [t for t in flatten(struct) if not isinstance(t, KerasTensor)]
            if bad or not flatten(struct):
                raise TypeError(
                    f"Model: argument '{what}' expected KerasTensors (from wasmdl.Input and "
                    f"layer calls), received {type(bad[0]).__name__ if bad else 'nothing'}"
                )
        self._inputs_struct, self._outputs_struct = inputs, outputs
        self.inputs, self.outputs = flatten(inputs), flatten(outputs)
        self._nodes, layers = build_map(self.inputs, self.outputs)
        self._node_ids = {id(n) for n in self._nodes}
        names = [layer.name for layer in layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"Model: expected unique layer names, received duplicates {dup}")
        self.layers = layers
        self._children["layers"] = self.layers
        self._build_shapes = [list(t.shape) for t in self.inputs]
        self.built = True

    # ------------------------------------------------------------------ running
    def _feed(self, inputs):
        if isinstance(inputs, dict):
            inputs = [inputs[t.keras_history[0].name] for t in self.inputs]
        flat = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(
                f"{self.name}: expected {len(self.inputs)} inputs, received {len(flat)}"
            )
        return flat

    def call(self, inputs, training=None, mask=None):
        values = {id(t): x for t, x in zip(self.inputs, self._feed(inputs), strict=True)}
        value = lambda v: values[id(v)] if isinstance(v, KerasTensor) else v  # noqa: E731
        for node in self._nodes:
            if node.is_input:
                continue
            args, kwargs = map_structure(value, node.args), map_structure(value, node.kwargs)
            out = node.layer(*args, **kwargs)
            outs = out if isinstance(out, list | tuple) else [out]
            for t, o in zip(node.outputs, outs, strict=True):
                values[id(t)] = o
        return map_structure(value, self._outputs_struct)

    def __call__(self, *inputs, **kwargs):
        if len(inputs) > 1:  # model(a, b) as well as model([a, b])
            inputs = (list(inputs),)
        return super().__call__(*inputs, **kwargs)

    def build_input_shape_json(self):
        return [list(t.shape) for t in self.inputs]

    def build_from_json(self, shapes):
        """Already built: the graph created every weight."""

    @property
    def input_names(self):
        return [t.keras_history[0].name for t in self.inputs]

    @property
    def output_names(self):
        return [t.keras_history[0].name for t in self.outputs]

    # ------------------------------------------------------------------ config
    def _own_index(self, node) -> int:
        """The node's index among its layer's nodes that belong to this model (Keras)."""
        nodes = inbound_nodes(node.layer)
        return sum(1 for n in nodes[: nodes.index(node)] if id(n) in self._node_ids)

    def _tensor_ref(self, t):
        node = _history_node(t)
        return [t.keras_history[0].name, self._own_index(node), t.keras_history[2]]

    def _serialize_arg(self, v):
        if not isinstance(v, KerasTensor):
            return v
        ref = self._tensor_ref(v)
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": list(v.shape), "dtype": v.dtype, "keras_history": ref},
        }

    def get_config(self, serialize=serialize_layer):
        """Keras 3's functional config; ``serialize`` turns one layer into its record."""
        layers = []
        for layer in self.layers:
            nodes = [n for n in inbound_nodes(layer) if id(n) in self._node_ids and n.inputs]
            record = dict(serialize(layer))
            record["name"] = layer.name
            record["inbound_nodes"] = [
                {
                    "args": map_structure(self._serialize_arg, list(n.args)),
                    "kwargs": map_structure(self._serialize_arg, n.kwargs),
                }
                for n in nodes
            ]
            layers.append(record)
        refs = lambda s: map_structure(self._tensor_ref, s)  # noqa: E731
        return {
            "name": self.name,
            "trainable": self.trainable,
            "layers": layers,
            "input_layers": refs(_as_list(self._inputs_struct)),
            "output_layers": refs(_as_list(self._outputs_struct)),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None, deserialize=deserialize_layer):
        return functional_from_config(cls, config, custom_objects, deserialize)

    def summary(self, print_fn=print) -> str:
        text = summary_text(self)
        if print_fn is not None:
            print_fn(text)
        return text


def _as_list(struct):
    return list(struct) if isinstance(struct, tuple) else struct


Model._functional = Functional
