"""A minimal protocol-buffers writer, and the two protobuf model formats the benchmark needs.

Only what ONNX (``onnx.proto``, IR version 8, opset 13) and Keras.js (``keras-js/python/
model.proto``) use: varints, length-delimited fields (strings, bytes, sub-messages), packed
repeated ints and 32-bit floats. Fields are written in field-number order, as protoc does.

Example:
    >>> msg(field(1, 150))
    b'\\x08\\x96\\x01'
    >>> msg(field(2, "hi"))
    b'\\x12\\x02hi'
"""

from __future__ import annotations

import json
import struct

import numpy as np

# ONNX enums (onnx.proto): TensorProto.DataType.FLOAT, AttributeProto.AttributeType.INT
ONNX_FLOAT, ONNX_ATTR_INT = 1, 2


def varint(n: int) -> bytes:
    """Encode a non-negative int (or a negative int64, two's complement) as a varint."""
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value) -> bytes:
    """One field: int -> varint; str/bytes -> length-delimited; float -> fixed32."""
    if isinstance(value, bool | int | np.integer):
        return varint(number << 3) + varint(int(value))
    if isinstance(value, float):
        return varint(number << 3 | 5) + struct.pack("<f", value)
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes | bytearray):
        return varint(number << 3 | 2) + varint(len(value)) + bytes(value)
    raise TypeError(f"field: value must be int, float, str or bytes; received {type(value)}")


def packed(number: int, ints) -> bytes:
    """A packed repeated varint field (proto3 default for repeated scalars)."""
    return field(number, b"".join(varint(int(i)) for i in ints))


def msg(*parts: bytes) -> bytes:
    return b"".join(parts)


# ---- ONNX -------------------------------------------------------------------------------


def _onnx_tensor(name: str, arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, np.float32)
    dims = b"".join(field(1, d) for d in arr.shape)  # dims: repeated int64, unpacked in proto2
    return msg(dims, field(2, ONNX_FLOAT), field(8, name), field(9, arr.tobytes()))


def _onnx_value_info(name: str, dims: list) -> bytes:
    dim_msgs = b"".join(field(1, field(2, d) if isinstance(d, str) else field(1, d)) for d in dims)
    tensor_type = msg(field(1, ONNX_FLOAT), field(2, dim_msgs))
    return msg(field(1, name), field(2, field(1, tensor_type)))


def _onnx_node(op: str, inputs: list[str], outputs: list[str], name: str, **ints) -> bytes:
    attrs = b"".join(
        field(5, msg(field(1, k), field(3, v), field(20, ONNX_ATTR_INT))) for k, v in ints.items()
    )
    ins = b"".join(field(1, i) for i in inputs)
    outs = b"".join(field(2, o) for o in outputs)
    return msg(ins, outs, field(3, name), field(4, op), attrs)


def onnx_model(weights, softmax: bool = True, batch: int | str = 1) -> bytes:
    """An ONNX model (Gemm + Relu per hidden layer, Gemm, Softmax) with input ``input``
    (batch, 784) and output ``output`` (batch, 10). ``batch`` may be symbolic ("N"), but ONNX
    Runtime Web's WebGL provider rejects symbolic dimensions, so the benchmark uses 1."""
    nodes, inits, x = [], [], "input"
    for i, (w, b) in enumerate(weights):
        last = i == len(weights) - 1
        inits += [_onnx_tensor(f"W{i}", w), _onnx_tensor(f"B{i}", b)]
        y = f"gemm{i}"
        nodes.append(_onnx_node("Gemm", [x, f"W{i}", f"B{i}"], [y], f"dense{i}"))
        x = y
        if not last:
            nodes.append(_onnx_node("Relu", [y], [f"relu{i}"], f"relu{i}"))
            x = f"relu{i}"
    if softmax:
        nodes.append(_onnx_node("Softmax", [x], ["output"], "softmax", axis=-1))
    else:
        nodes.append(_onnx_node("Identity", [x], ["output"], "identity"))
    n_in, n_out = weights[0][0].shape[0], weights[-1][0].shape[1]
    graph = msg(
        b"".join(field(1, n) for n in nodes),
        field(2, "wasmdl_bench_mlp"),
        b"".join(field(5, t) for t in inits),
        field(11, _onnx_value_info("input", [batch, n_in])),
        field(12, _onnx_value_info("output", [batch, n_out])),
    )
    opset = msg(field(1, ""), field(2, 13))
    return msg(field(1, 8), field(2, "wasmdl-bench"), field(7, graph), field(8, opset))


# ---- Keras.js -------------------------------------------------------------------------------


def keras_config(weights, names: list[str]) -> dict:
    """The Keras 2.1 ``model_config`` of the grid network (a Sequential of Dense layers)."""
    layers = []
    for i, ((w, _), name) in enumerate(zip(weights, names, strict=True)):
        cfg = {
            "name": name,
            "trainable": True,
            "units": int(w.shape[1]),
            "activation": "softmax" if i == len(weights) - 1 else "relu",
            "use_bias": True,
        }
        if i == 0:
            cfg.update(batch_input_shape=[None, int(w.shape[0])], dtype="float32")
        layers.append({"class_name": "Dense", "config": cfg})
    return {"class_name": "Sequential", "config": layers}


def kerasjs_model(weights, name: str = "mlp") -> bytes:
    """A Keras.js 1.0.3 model file: the ``Model`` protobuf of keras-js/python/model.proto,
    float32 (unquantized) weights named ``dense_<i>/kernel:0`` and ``dense_<i>/bias:0``."""
    names = [f"dense_{i + 1}" for i in range(len(weights))]
    parts = [
        field(1, f"wasmdl-bench-{name}"),
        field(2, name),
        field(3, "2.1.2"),
        field(4, "tensorflow"),
        field(5, json.dumps(keras_config(weights, names))),
    ]
    for (w, b), layer in zip(weights, names, strict=True):
        for wname, arr in (("kernel", w), ("bias", b)):
            arr = np.ascontiguousarray(arr, np.float32)
            parts.append(
                field(
                    6,
                    msg(
                        field(1, layer),
                        field(2, f"{layer}/{wname}:0"),
                        packed(3, arr.shape),
                        field(4, "float32"),
                        field(5, arr.tobytes()),
                    ),
                )
            )
    return msg(*parts)
