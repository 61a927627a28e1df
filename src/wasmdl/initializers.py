"""Weight initializers (Keras names), drawn on the host with numpy then copied to the backend.

Each initializer is a callable ``init(shape, dtype="float32") -> np.ndarray``. Fan-in/fan-out
follow Keras: for a kernel of shape ``(..., fan_in, fan_out)`` the receptive field (leading dims)
multiplies both. Random initializers draw from wasmdl's default generator (``wasmdl.manual_seed``).

Example:
    >>> from wasmdl import initializers
    >>> initializers.seed(0)
    >>> w = initializers.get("glorot_uniform")((784, 128))
    >>> w.shape, bool(abs(w).max() <= (6 / (784 + 128)) ** 0.5)
    ((784, 128), True)
"""

from __future__ import annotations

import math

import numpy as np


def seed(value: int) -> None:
    """Seed wasmdl's default generator (the same as ``wasmdl.manual_seed``)."""
    from .creation import manual_seed

    manual_seed(value)


def rng() -> np.random.Generator:
    """The numpy generator behind ``wasmdl.manual_seed`` (initializers, Dropout, shuffling)."""
    from .creation import default_generator

    return default_generator.rng


def compute_fans(shape) -> tuple[int, int]:
    """Keras' fan rule: (fan_in, fan_out) of a weight of ``shape``."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``sample(shape) -> float64 array``."""

    def __call__(self, shape, dtype="float32") -> np.ndarray:
        return np.asarray(self.sample(tuple(shape)), dtype=dtype)

    def get_config(self) -> dict:
        return {}


class Constant(Initializer):
    name = "constant"

    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def sample(self, shape):
        return np.full(shape, self.value)

    def get_config(self):
        return {"value": self.value}


class Zeros(Constant):
    name = "zeros"

    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    name = "ones"

    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class RandomUniform(Initializer):
    name = "random_uniform"

    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        self.minval, self.maxval = float(minval), float(maxval)

    def sample(self, shape):
        return rng().uniform(self.minval, self.maxval, shape)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class RandomNormal(Initializer):
    name = "random_normal"

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean, self.stddev = float(mean), float(stddev)

    def sample(self, shape):
        return rng().normal(self.mean, self.stddev, shape)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class VarianceScaling(Initializer):
    """Keras' VarianceScaling: variance ``scale / fan`` (normal is truncated at 2 stddev)."""

    name = "variance_scaling"

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal"):
        if (
            scale <= 0
            or mode not in self.MODES
            or distribution not in ("truncated_normal", "uniform")
        ):
            raise ValueError(
                f"VarianceScaling: expected scale > 0, mode in {self.MODES}, distribution in "
                f"('truncated_normal', 'uniform'); received scale={scale}, mode={mode!r}, "
                f"distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def sample(self, shape):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return rng().uniform(-limit, limit, shape)
        std = math.sqrt(var) / 0.87962566103423978  # std of a unit normal truncated at +-2
        out = rng().standard_normal(shape)
        bad = np.abs(out) > 2
        while bad.any():  # resample outside [-2, 2], as a truncated normal does
            out[bad] = rng().standard_normal(int(bad.sum()))
            bad = np.abs(out) > 2
        return out * std

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution}


class Orthogonal(Initializer):
    """An orthogonal matrix (QR of a normal matrix), reshaped to ``shape``; times ``gain``."""

    name = "orthogonal"

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def sample(self, shape):
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        q = q if rows >= cols else q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain}


def _scaling(scale, mode, distribution):
    def make():
        init = VarianceScaling(scale, mode, distribution)
        init.get_config = lambda: {}
        return init

    return make


# Keras names -> factories. Initializers are stored in configs by name (plus their config).
REGISTRY = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_uniform": RandomUniform,
    "random_normal": RandomNormal,
    "orthogonal": Orthogonal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": _scaling(1.0, "fan_avg", "uniform"),
    "glorot_normal": _scaling(1.0, "fan_avg", "truncated_normal"),
    "he_uniform": _scaling(2.0, "fan_in", "uniform"),
    "he_normal": _scaling(2.0, "fan_in", "truncated_normal"),
    "lecun_uniform": _scaling(1.0, "fan_in", "uniform"),
    "lecun_normal": _scaling(1.0, "fan_in", "truncated_normal"),
}


def get(identifier) -> Initializer:
    """An initializer from a name, a ``{"class_name", "config"}`` dict, or an instance/callable."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config", {})
    else:
        name, config = identifier, {}
    if not isinstance(name, str) or name not in REGISTRY or not isinstance(config, dict):
        raise ValueError(
            f"initializers.get: expected one of {sorted(REGISTRY)} (or a {{'class_name', "
            f"'config': dict}} dict), received {identifier!r:.200}"
        )
    init = REGISTRY[name](**config)
    init.name = name
    return init


def serialize(init) -> str | dict:
    """A JSON-able description of ``init`` that ``get`` turns back into it."""
    name = getattr(init, "name", None)
    if name is None:
        raise ValueError(f"initializers.serialize: {init!r} was not made by initializers.get")
    config = init.get_config()
    return {"class_name": name, "config": config} if config else name
