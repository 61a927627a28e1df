"""PyTorch ``state_dict`` <-> wasmdl weights, layer by layer.

PyTorch modules and wasmdl layers are paired **in order**: the state_dict's keys are grouped by
module (``"0.weight"``, ``"0.bias"`` -> module ``"0"``; an ``nn.LSTM`` with ``num_layers=2``
gives one group per layer, both directions together), and the model's layers that own weights
are walked in ``named_weights`` order. Each pair is converted by a row of ``CONVERTERS`` keyed by
the wasmdl layer class (Linear -> Dense, Conv1d -> Conv1D, Conv2d -> Conv2D or DepthwiseConv2D,
ConvTranspose2d -> Conv2DTranspose, BatchNorm1d/2d -> BatchNormalization, LayerNorm ->
LayerNormalization, Embedding, LSTM, GRU (gates reordered), a bidirectional RNN ->
Bidirectional, MultiheadAttention -> MultiHeadAttention). Hyper-parameters a state_dict does not
hold must match by construction: BatchNorm/LayerNorm ``epsilon=1e-5`` (PyTorch's default),
``batch_first=True`` RNNs and attention, ``padding`` the same.

Example:
    >>> import numpy as np, wasmdl
    >>> net = wasmdl.Sequential([wasmdl.nn.Dense(3, input_shape=(4,))])
    >>> sd = {"0.weight": np.ones((3, 4), np.float32), "0.bias": np.zeros(3, np.float32)}
    >>> load_state_dict(net, sd)
    >>> net.predict(np.ones((1, 4), np.float32)).tolist()
    [[4.0, 4.0, 4.0]]
    >>> sorted(to_state_dict(net))
    ['0.bias', '0.weight']
"""

from __future__ import annotations

import re

import numpy as np

from .format import ModelFileError
from .torch_convert import CONVERTERS

_SUFFIX = re.compile(
    r"(?:^|\.)(out_proj\.(?:weight|bias)|in_proj_(?:weight|bias)|[qkv]_proj_weight|"
    r"(?:weight|bias)_(?:ih|hh)_l(\d+)(?:_reverse)?|weight|bias|running_mean|running_var|"
    r"num_batches_tracked)$"
)


def group_keys(keys) -> list[tuple[str, list[str]]]:
    """``[(module prefix, [keys])]`` in first-seen order; RNN layer ``l`` of module ``m`` is
    ``"m@l"``. A key no supported module has raises ``ModelFileError``."""
    groups: dict[str, list[str]] = {}
    for key in map(str, keys):
        m = _SUFFIX.search(key)
        if m is None:
            raise ModelFileError(
                f"load_state_dict: key {key[:100]!r} is not a weight of a supported module"
            )
        prefix = key[: m.start()]
        if m.group(2) is not None:
            prefix = f"{prefix}@{m.group(2)}"
        elif m.group(1).startswith("out_proj."):  # MultiheadAttention's, or a Linear's own
            prefix = key[: m.start() + 1 + len("out_proj")] if m.start() else "out_proj"
        groups.setdefault(prefix, []).append(key)
    for prefix in [p for p in groups if p == "out_proj" or p.endswith(".out_proj")]:
        owner = prefix[: -len("out_proj")].rstrip(".")
        if owner in groups and any("proj" in k for k in groups[owner]):
            groups[owner] += groups.pop(prefix)
    return list(groups.items())


def _leaves(layer, path=""):
    """``(path, layer)`` of every layer that maps to one torch module, in weight order."""
    if _converter(layer, None) is not None and layer.weights:
        return [(path, layer)]
    if layer._weights:
        _converter(layer, "load_state_dict")  # raises: it owns weights we cannot map
    out = []
    for key, value in layer._children.items():
        items = enumerate(value) if isinstance(value, list | tuple) else [(None, value)]
        for i, child in items:
            sub = key if i is None else f"{key}.{i}"
            out += _leaves(child, f"{path}.{sub}" if path else sub)
    return out


# ---------------------------------------------------------------------- per-layer converters
# Each row: (to_wasmdl(layer, {suffix: array}) -> {weight name: array},
#            to_torch(layer, {weight name: array}) -> {suffix: array}).


def _converter(layer, fn):
    """The layer's ``CONVERTERS`` row; None (or, given ``fn``, an error naming it) if none."""
    for cls in type(layer).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    if fn is None:
        return None
    raise ModelFileError(
        f"{fn}: layer {layer.name!r} ({type(layer).__name__}) has no PyTorch mapping; "
        f"supported: {sorted(c.__name__ for c in CONVERTERS)}"
    )


def _as_numpy(v):
    return np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)


def _map_group(prefix, keys, arrays, path, layer):
    fn, base = "load_state_dict", prefix.split("@")[0]
    cut = len(base) + 1 if base else 0
    t = {k[cut:]: arrays[k] for k in keys if not k.endswith("num_batches_tracked")}
    try:
        mapped = _converter(layer, fn)[0](layer, t)
    except (KeyError, ValueError, IndexError, TypeError) as e:
        raise ModelFileError(
            f"{fn}: module {prefix!r} does not fit layer {path!r} ({type(layer).__name__}): "
            f"{type(e).__name__}: {str(e)[:200]}"
        ) from e
    have = {n: w for n, w in layer.named_weights()}
    if set(mapped) != set(have):
        raise ModelFileError(
            f"{fn}: module {prefix!r} gives weights {sorted(mapped)}, layer {path!r} has "
            f"{sorted(have)}"
        )
    for name, arr in mapped.items():
        if tuple(arr.shape) != have[name].shape:
            raise ModelFileError(
                f"{fn}: module {prefix!r} -> {path}.{name}: expected shape "
                f"{have[name].shape}, received {tuple(arr.shape)}"
            )
    return {f"{path}.{n}" if path else n: a for n, a in mapped.items()}


def _natural(prefix: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", prefix)]


def _pair(groups, leaves, order):
    """Pair torch modules with layers: by name when every layer's path (a Sequential's
    ``layers.`` dropped) names a module, else in order (``"natural"``: sorted by name with
    numbers compared as numbers, for files whose key order means nothing, like safetensors)."""
    names = {p[len("layers.") :] if p.startswith("layers.") else p: (p, l) for p, l in leaves}
    by_prefix = dict(groups)
    if set(names) <= set(by_prefix) and names:
        return [(g, by_prefix[g], *names[g]) for g in names]
    if order == "natural":
        groups = sorted(groups, key=lambda g: _natural(g[0]))
    return [(g, k, p, l) for (g, k), (p, l) in zip(groups, leaves, strict=False)]


def load_state_dict(model, state_dict: dict, strict: bool = True, order: str = "keys") -> None:
    """Load a PyTorch ``state_dict`` (``{key: array or torch tensor}``) into a **built** model.

    Modules pair with layers by name when the names agree, else in the dict's key order
    (``order="natural"`` sorts them first). ``strict=False`` ignores modules left over."""
    fn = "load_state_dict"
    if not model.built:
        raise ValueError(
            f"{fn}: argument 'model' expected a built model (give the first layer "
            f"input_shape, or call it once), received an unbuilt {type(model).__name__}"
        )
    arrays = {str(k): _as_numpy(v) for k, v in state_dict.items()}
    groups, leaves = group_keys(arrays), _leaves(model)
    if len(groups) < len(leaves) or (strict and len(groups) != len(leaves)):
        raise ModelFileError(
            f"{fn}: the state_dict holds {len(groups)} modules with weights "
            f"({[g for g, _ in groups][:12]}), the model {len(leaves)} layers "
            f"({[p for p, _ in leaves][:12]})"
        )
    new = {}
    for prefix, keys, path, layer in _pair(groups, leaves, order):
        new.update(_map_group(prefix, keys, arrays, path, layer))
    model.load_weights_dict({**model.weights_dict(), **new}, fn=fn)


_RNN_KEY = re.compile(r"^((?:weight|bias)_(?:ih|hh))")


def to_state_dict(model, template=None) -> dict[str, np.ndarray]:
    """The model's weights as a PyTorch ``state_dict`` of numpy arrays.

    Module names come from ``template`` (the keys of the target torch model's ``state_dict()``,
    paired in order) or else from the model's own paths (a Sequential's ``layers.3`` -> ``3``)."""
    leaves = _leaves(model)
    prefixes = [p[len("layers.") :] if p.startswith("layers.") else p for p, _ in leaves]
    if template is not None:
        groups = group_keys(list(template))
        if len(groups) != len(leaves):
            raise ValueError(
                f"to_state_dict: argument 'template' expected {len(leaves)} modules with "
                f"weights, received {len(groups)}"
            )
        prefixes = [g for g, _ in groups]
    out = {}
    for prefix, (_, layer) in zip(prefixes, leaves, strict=True):
        base, _, index = prefix.partition("@")
        w = {n: v.numpy() for n, v in layer.named_weights()}
        for sfx, arr in _converter(layer, "to_state_dict")[1](layer, w).items():
            sfx = _RNN_KEY.sub(rf"\1_l{index or 0}", sfx)
            out[f"{base}.{sfx}" if base else sfx] = np.ascontiguousarray(arr)
    return out
