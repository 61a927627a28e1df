"""Rebuild a functional model from Keras' config, and its ``summary()`` with connections.

``functional_from_config`` follows Keras: create every layer, then replay each layer's
recorded calls (``inbound_nodes``) in passes until every call's inputs exist. It reads Keras 3
node records (``{"args": [...], "kwargs": {...}}`` with ``__keras_tensor__`` references) and
Keras 2's (``[[layer, node, tensor, kwargs], ...]``). Sizes are bounded and every malformed
record raises ``ValueError`` naming the layer.

Example:
    >>> import wasmdl
    >>> x = wasmdl.Input((3,), name="x")
    >>> model = wasmdl.Model(x, wasmdl.nn.Dense(2, name="out")(x))
    >>> print(model.summary(print_fn=None).splitlines()[5])
    out (Dense)     (None, 2)     8        x[0][0]
"""

from __future__ import annotations

from .nn.symbolic import KerasTensor, inbound_nodes

MAX_LAYERS, MAX_NODES = 10_000, 100_000


def _fail(where, msg):
    raise ValueError(f"Model.from_config: {where}: {msg}")


def _ref(value, where):
    ok = (
        isinstance(value, list | tuple)
        and len(value) in (3, 4)
        and isinstance(value[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value[1:3])
    )
    if not ok:
        _fail(where, f"expected a [layer, node, tensor] reference, received {str(value)[:100]}")
    return value[0], value[1], value[2]


class _Pending(Exception):
    """A referenced call has not been replayed yet (try again in the next pass)."""


def _tensor(created, ref, where):
    name, node_index, tensor_index = _ref(ref, where)
    if name not in created:
        _fail(where, f"references unknown layer {name[:100]!r}")
    nodes = inbound_nodes(created[name])
    if node_index >= len(nodes):
        raise _Pending
    outputs = nodes[node_index].outputs
    if tensor_index >= len(outputs):
        _fail(where, f"layer {name!r} call {node_index} has no output {tensor_index}")
    return outputs[tensor_index]


def _node_call(created, node, where):
    """(args, kwargs) of one recorded call, with references resolved to KerasTensors."""
    if isinstance(node, list):  # Keras 2: [[layer, node, tensor, kwargs], ...]
        tensors = [_tensor(created, r, where) for r in node]
        kwargs = node[0][3] if node and len(node[0]) == 4 else {}
        if not isinstance(kwargs, dict):
            _fail(where, "expected the call's kwargs to be a dict")
        return [tensors[0] if len(tensors) == 1 else tensors], dict(kwargs)
    if not isinstance(node, dict) or not isinstance(node.get("args", []), list):
        _fail(where, f"expected {{'args': [...], 'kwargs': {{...}}}}, received {str(node)[:100]}")

    def resolve(v):
        if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
            history = (v.get("config") or {}).get("keras_history")
            return _tensor(created, history, where)
        return v

    args = _map_records(resolve, node.get("args", []))
    kwargs = _map_records(resolve, node.get("kwargs") or {})
    if not isinstance(kwargs, dict):
        _fail(where, "expected the call's kwargs to be a dict")
    return args, {k: v for k, v in kwargs.items() if v is not None}


def _map_records(fn, struct):
    """map_structure that treats ``__keras_tensor__`` records as leaves."""
    if isinstance(struct, dict) and struct.get("class_name") == "__keras_tensor__":
        return fn(struct)
    if isinstance(struct, dict):
        return {k: _map_records(fn, v) for k, v in struct.items()}
    if isinstance(struct, list | tuple):
        return [_map_records(fn, v) for v in struct]
    return fn(struct)


def _create_layers(records, custom_objects, deserialize):
    if not isinstance(records, list) or not 0 < len(records) <= MAX_LAYERS:
        _fail("layers", f"expected a list of 1 to {MAX_LAYERS} layer records")
    created, pending = {}, []
    for i, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            _fail(f"layers[{i}]", "expected a record with a string 'name'")
        name = record["name"]
        if name in created:
            _fail(f"layer {name[:100]!r}", "the name is used twice")
        created[name] = deserialize(record, custom_objects)
        nodes = record.get("inbound_nodes", [])
        if not isinstance(nodes, list) or len(nodes) > MAX_NODES:
            _fail(f"layer {name[:100]!r}", "expected 'inbound_nodes' to be a list")
        pending.append((name, list(nodes)))
    return created, pending


def _replay(created, pending):
    """Call each layer on its recorded inputs, in passes, until every call is made."""
    while any(nodes for _, nodes in pending):
        progressed = False
        for name, nodes in pending:
            while nodes:
                where = f"layer {name[:100]!r}"
                try:
                    args, kwargs = _node_call(created, nodes[0], where)
                except _Pending:
                    break
                created[name](*args, **kwargs)
                nodes.pop(0)
                progressed = True
        if not progressed:
            stuck = [name for name, nodes in pending if nodes][:5]
            _fail("inbound_nodes", f"calls of {stuck} reference calls that never happen")


def functional_from_config(cls, config, custom_objects=None, deserialize=None):
    """Rebuild ``cls`` (a Functional model class) from Keras' functional config."""
    if not isinstance(config, dict):
        _fail("config", f"expected a dict, received {type(config).__name__}")
    created, pending = _create_layers(config.get("layers"), custom_objects, deserialize)
    _replay(created, pending)

    def io_struct(key):
        spec = config.get(key)
        if isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str):
            return _io_tensor(created, spec, key)
        if isinstance(spec, dict):
            return {k: _io_tensor(created, v, key) for k, v in spec.items()}
        if not isinstance(spec, list) or not spec:
            _fail(key, f"expected a reference or a list of them, received {str(spec)[:100]}")
        return [_io_tensor(created, r, key) for r in spec]

    inputs, outputs = io_struct("input_layers"), io_struct("output_layers")
    name = config.get("name")
    return cls(inputs, outputs, name=name if isinstance(name, str) else None)


def _io_tensor(created, ref, where):
    try:
        return _tensor(created, ref, where)
    except _Pending:
        _fail(where, f"references a call that never happens: {str(ref)[:100]}")


# ---------------------------------------------------------------------------- summary
def _shape_text(tensors):
    shapes = [str(t.shape) for t in tensors]
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def summary_text(model) -> str:
    """Keras' functional summary: layer (type), output shape, params, connected to."""
    rows = [("Layer (type)", "Output Shape", "Param #", "Connected to")]
    for layer in model.layers:
        nodes = [n for n in inbound_nodes(layer) if id(n) in model._node_ids]
        sources = [
            f"{t.keras_history[0].name}[{t.keras_history[1]}][{t.keras_history[2]}]"
            for n in nodes
            for t in n.inputs
            if isinstance(t, KerasTensor)
        ]
        rows.append(
            (
                f"{layer.name} ({type(layer).__name__})",
                _shape_text(nodes[0].outputs) if nodes else "?",
                f"{layer.count_params():,}",
                ", ".join(sources) or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
    line = "=" * (sum(widths) + max(len(r[3]) for r in rows))
    body = ["".join(c.ljust(w) for c, w in zip(r[:3], widths, strict=True)) + r[3] for r in rows]
    total = model.count_params()
    trainable = sum(w.size for w in model.parameters())
    return "\n".join(
        [f'Model: "{model.name}"', line, body[0], line, *body[1:], line]
        + [
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            line,
        ]
    )
