"""The part of ``onnx.proto`` wasmdl reads and writes, and TensorProto <-> numpy.

Field numbers follow onnx/onnx.proto (IR version 10). Subgraph attributes (``g``, ``graphs``)
stay undecoded bytes: no supported operator takes one, and an operator that needs one is
reported as unsupported. Tensors stored outside the file (``data_location = EXTERNAL``) are
refused: a loader never opens paths named by a file.

Example:
    >>> import numpy as np
    >>> t = tensor_proto("w", np.arange(3, dtype=np.float32))
    >>> to_numpy(t, "w").tolist()
    [0.0, 1.0, 2.0]
    >>> attributes({"attribute": [{"name": "axis", "type": 2, "i": -1}]}, "n")
    {'axis': -1}
"""

from __future__ import annotations

import math

import numpy as np

from .format import ModelFileError
from .protobuf import decode, encode

R = False  # singular
M = True  # repeated
SCHEMA = {
    "ModelProto": {
        1: ("ir_version", "int", R),
        2: ("producer_name", "string", R),
        3: ("producer_version", "string", R),
        4: ("domain", "string", R),
        5: ("model_version", "int", R),
        6: ("doc_string", "string", R),
        7: ("graph", "GraphProto", R),
        8: ("opset_import", "OperatorSetIdProto", M),
    },
    "OperatorSetIdProto": {1: ("domain", "string", R), 2: ("version", "int", R)},
    "GraphProto": {
        1: ("node", "NodeProto", M),
        2: ("name", "string", R),
        5: ("initializer", "TensorProto", M),
        10: ("doc_string", "string", R),
        11: ("input", "ValueInfoProto", M),
        12: ("output", "ValueInfoProto", M),
        13: ("value_info", "ValueInfoProto", M),
    },
    "NodeProto": {
        1: ("input", "string", M),
        2: ("output", "string", M),
        3: ("name", "string", R),
        4: ("op_type", "string", R),
        5: ("attribute", "AttributeProto", M),
        6: ("doc_string", "string", R),
        7: ("domain", "string", R),
    },
    "AttributeProto": {
        1: ("name", "string", R),
        2: ("f", "float", R),
        3: ("i", "int", R),
        4: ("s", "bytes", R),
        5: ("t", "TensorProto", R),
        6: ("g", "bytes", R),
        7: ("floats", "float", M),
        8: ("ints", "int", M),
        9: ("strings", "bytes", M),
        10: ("tensors", "TensorProto", M),
        11: ("graphs", "bytes", M),
        13: ("doc_string", "string", R),
        20: ("type", "int", R),
        21: ("ref_attr_name", "string", R),
    },
    "ValueInfoProto": {1: ("name", "string", R), 2: ("type", "TypeProto", R)},
    "TypeProto": {1: ("tensor_type", "TypeProtoTensor", R), 6: ("denotation", "string", R)},
    "TypeProtoTensor": {1: ("elem_type", "int", R), 2: ("shape", "TensorShapeProto", R)},
    "TensorShapeProto": {1: ("dim", "Dimension", M)},
    "Dimension": {1: ("dim_value", "int", R), 2: ("dim_param", "string", R)},
    "TensorProto": {
        1: ("dims", "int", M),
        2: ("data_type", "int", R),
        4: ("float_data", "float", M),
        5: ("int32_data", "int", M),
        7: ("int64_data", "int", M),
        8: ("name", "string", R),
        9: ("raw_data", "bytes", R),
        10: ("double_data", "double", M),
        11: ("uint64_data", "uint", M),
        12: ("doc_string", "string", R),
        14: ("data_location", "int", R),
    },
}
# TensorProto.DataType -> (numpy dtype of raw_data, the repeated field holding it otherwise)
DTYPES = {
    1: ("<f4", "float_data"),
    2: ("u1", "int32_data"),
    3: ("i1", "int32_data"),
    4: ("<u2", "int32_data"),
    5: ("<i2", "int32_data"),
    6: ("<i4", "int32_data"),
    7: ("<i8", "int64_data"),
    9: ("?", "int32_data"),
    10: ("<f2", "int32_data"),
    11: ("<f8", "double_data"),
    12: ("<u4", "uint64_data"),
    13: ("<u8", "uint64_data"),
}
CODES = {np.dtype(v[0]).newbyteorder("="): k for k, v in DTYPES.items()}
MAX_RANK, MAX_TENSOR_BYTES = 16, 1 << 31
ATTR_FLOAT, ATTR_INT, ATTR_STRING, ATTR_TENSOR, ATTR_FLOATS, ATTR_INTS = 1, 2, 3, 4, 6, 7


def parse_model(data) -> dict:
    return decode(data, SCHEMA, "ModelProto", fmt="onnx")


def write_model(model: dict) -> bytes:
    return encode(model, SCHEMA, "ModelProto")


def _fail(where, msg):
    raise ModelFileError(f"onnx: {where}: {msg}")


def to_numpy(t: dict, where: str) -> np.ndarray:
    """A TensorProto dict as a numpy array (a copy), every size checked first."""
    dims, code = np.asarray(t.get("dims", []), np.int64), t.get("data_type", 0)
    if code not in DTYPES:
        _fail(where, f"tensor data_type {code} is not supported (expected one of {sorted(DTYPES)})")
    if t.get("data_location", 0) != 0:
        _fail(where, "tensor data stored outside the file (external data) is not read")
    if len(dims) > MAX_RANK or (dims < 0).any():
        _fail(where, f"tensor dims {dims.tolist()[:20]} must be at most {MAX_RANK} sizes >= 0")
    shape = tuple(int(d) for d in dims)
    dtype, field = np.dtype(DTYPES[code][0]), DTYPES[code][1]
    n = math.prod(shape)
    if n * dtype.itemsize > MAX_TENSOR_BYTES:
        _fail(where, f"tensor of shape {shape} exceeds {MAX_TENSOR_BYTES} bytes")
    if "raw_data" in t:
        raw = t["raw_data"]
        if len(raw) != n * dtype.itemsize:
            _fail(
                where, f"raw_data holds {len(raw)} bytes, shape {shape} needs {n * dtype.itemsize}"
            )
        return np.frombuffer(raw, dtype).reshape(shape).astype(dtype.newbyteorder("="))
    values = t.get(field, np.zeros(0))
    if len(values) != n:
        _fail(where, f"{field} holds {len(values)} values, shape {shape} needs {n}")
    if code == 10:  # float16 bits in int32_data
        return values.astype("<u2").view("<f2").reshape(shape).astype(np.float16)
    return values.astype(dtype.newbyteorder("=")).reshape(shape)


def tensor_proto(name: str, arr) -> dict:
    arr = np.asarray(arr, order="C")  # (ascontiguousarray would make a scalar 1-D)
    code = CODES.get(arr.dtype)
    if code is None:
        raise TypeError(f"onnx export: tensor {name!r} has unsupported dtype {arr.dtype}")
    raw = arr.astype(np.dtype(DTYPES[code][0])).tobytes()
    return {"dims": list(arr.shape), "data_type": code, "name": name, "raw_data": raw}


_ATTR_VALUE = {
    ATTR_FLOAT: lambda a, w: float(a.get("f", 0.0)),
    ATTR_INT: lambda a, w: int(a.get("i", 0)),
    ATTR_STRING: lambda a, w: a.get("s", b"").decode("utf-8", "replace"),
    ATTR_TENSOR: lambda a, w: to_numpy(a.get("t", {}), w),
    ATTR_FLOATS: lambda a, w: [float(v) for v in a.get("floats", [])],
    ATTR_INTS: lambda a, w: [int(v) for v in a.get("ints", [])],
    8: lambda a, w: [s.decode("utf-8", "replace") for s in a.get("strings", [])],
}


def attributes(node: dict, where: str) -> dict:
    """A node's attributes as ``{name: python value}``; graph-valued ones give an error."""
    out = {}
    for a in node.get("attribute", []):
        name, kind = a.get("name", ""), a.get("type", 0)
        if kind not in _ATTR_VALUE:
            _fail(f"{where} attribute {name!r}", f"attribute type {kind} is not supported")
        out[name] = _ATTR_VALUE[kind](a, f"{where} attribute {name!r}")
    return out


def attribute(name: str, value) -> dict:
    """An AttributeProto dict for an int, float, str, list of ints/floats or numpy tensor."""
    if isinstance(value, bool | int | np.integer):
        return {"name": name, "type": ATTR_INT, "i": int(value)}
    if isinstance(value, float):
        return {"name": name, "type": ATTR_FLOAT, "f": value}
    if isinstance(value, str):
        return {"name": name, "type": ATTR_STRING, "s": value.encode()}
    if isinstance(value, np.ndarray):
        return {"name": name, "type": ATTR_TENSOR, "t": tensor_proto("", value)}
    if all(isinstance(v, int) for v in value):
        return {"name": name, "type": ATTR_INTS, "ints": list(value)}
    return {"name": name, "type": ATTR_FLOATS, "floats": [float(v) for v in value]}


def value_info(name: str, shape, elem_type: int = 1) -> dict:
    """A ValueInfoProto dict: ints are fixed sizes, strings symbolic ones ("N")."""
    dims = [{"dim_param": d} if isinstance(d, str) else {"dim_value": int(d)} for d in shape]
    tensor = {"elem_type": elem_type, "shape": {"dim": dims}}
    return {"name": name, "type": {"tensor_type": tensor}}


def declared_shape(info: dict) -> list:
    """A ValueInfoProto's shape: ints for fixed sizes, None for symbolic or missing ones."""
    dims = info.get("type", {}).get("tensor_type", {}).get("shape", {}).get("dim", [])
    return [d.get("dim_value") if "dim_value" in d else None for d in dims]
