"""Layer: the Keras lifecycle with a PyTorch module's feel.

* Keras: ``__init__`` validates arguments, ``build(input_shape)`` creates weights with
  ``add_weight`` on the first call, ``call`` computes, ``get_config`` serialises.
* PyTorch: layers assigned as attributes (or in lists) are tracked; ``parameters()``,
  ``named_parameters()``, ``train()``/``eval()``, ``zero_grad()``; calling the layer runs it.

``training`` reaches every nested layer: an explicit ``training=`` argument to a call wins,
otherwise an enclosing call's mode, otherwise the layer's own ``self.training`` (True after
construction, as in PyTorch; ``model.eval()`` switches it off; ``predict``/``evaluate`` call
with ``training=False`` and ``fit`` with ``training=True``).

Example:
    >>> import numpy as np, wasmdl
    >>> layer = wasmdl.nn.Dense(4)
    >>> layer(np.ones((2, 3), np.float32)).shape
    (2, 4)
    >>> [n for n, _ in layer.named_parameters()]
    ['kernel', 'bias']
"""

from __future__ import annotations

import inspect
import math
import re

import numpy as np

from .. import initializers, regularizers
from ..tensor import Tensor
from .spec import (
    LOADING,
    SHAPE_RULES,
    ShapeSpec,
    call_symbolic,
    check_inputs,
    check_layer_args,
    lookup,
    shape_by_running,
)
from .spec import (
    is_symbolic as is_shape_spec,
)

_CALL = {"training": None}  # the training mode of the enclosing layer call, if any
# While load_model builds a model from a file: how many weight values may still be created (the
# file's own count), so a hostile architecture cannot make us allocate or initialise huge weights.
LOAD_BUDGET = {"left": None}
_COUNTS: dict[str, int] = {}
_REGISTRY: dict[str, type] = {}
# The functional API (wasmdl.nn.symbolic) records a graph node when a layer is called on
# symbolic tensors: it sets this hook when imported.
SYMBOLIC = {"call": None}


class Symbolic:
    """Marker base of ``wasmdl.nn.symbolic.KerasTensor`` (a layer call records, not computes)."""


def is_symbolic(inputs, kwargs=None) -> bool:
    """Whether any argument (or list element) is symbolic; cheap on the hot path (one array)."""
    for a in inputs:
        if isinstance(a, Symbolic):
            return True
        if isinstance(a, list | tuple) and any(isinstance(x, Symbolic) for x in a):
            return True
    return bool(kwargs) and any(isinstance(v, Symbolic) for v in kwargs.values())


def register(cls):
    """Make ``cls`` loadable by name from saved configs (built-in layers register themselves)."""
    _REGISTRY[cls.__name__] = cls
    return cls


def _auto_name(cls) -> str:
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls.__name__).lower()
    n = _COUNTS.get(base, 0)
    _COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def as_tensor(x):
    """Tensors (and ``ShapeSpec``) pass through; numpy arrays and lists become float32 (ints
    stay int32) tensors."""
    return x if isinstance(x, (Tensor, ShapeSpec)) else Tensor(np.asarray(x))  # noqa: UP038


# Bumped whenever a model's structure changes (a weight is added, a layer frozen or unfrozen,
# a layer added or removed): part of the key of captured steps (``wasmdl.capture``), so a
# changed model is recorded again instead of replaying a stale program.
STRUCTURE = [0]


class Layer:
    """Base class of every layer and model (see the module docstring)."""

    def __init__(self, name=None, trainable=True, input_shape=None, dtype="float32", **kwargs):
        object.__setattr__(self, "_children", {})
        object.__setattr__(self, "_weights", {})
        object.__setattr__(self, "_trainable_names", set())
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword arguments {sorted(kwargs)}")
        check_layer_args(type(self).__name__, name, trainable, input_shape, dtype)
        self.name = name or _auto_name(type(self))
        self.trainable, self.training, self.built = trainable, True, False
        self.input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self.dtype = dtype
        self._regularizers: list = []
        self.output_shape = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._call_takes_training = None
        # only concrete public layers are loadable by name: not _bases, not abstract ones (Model)
        public = not cls.__name__.startswith("_") and not cls.__dict__.get("_abstract", False)
        if cls.__module__.startswith("wasmdl.") and public:
            register(cls)

    # ------------------------------------------------------------------ tracking
    def __setattr__(self, key, value):
        children = self.__dict__.get("_children")
        if children is None and (isinstance(value, Layer) or _is_layer_list(value)):
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() before assigning layer {key!r}"
            )
        if children is not None:
            if isinstance(value, Layer) or _is_layer_list(value):
                children[key] = value
            else:
                children.pop(key, None)
        object.__setattr__(self, key, value)

    def sublayers(self):
        """Direct child layers, in assignment order (lists are flattened)."""
        for value in self._children.values():
            yield from (value if isinstance(value, list | tuple) else [value])

    def named_weights(self, prefix=""):
        """``(path, tensor)`` for every weight of this layer and its children, like a
        PyTorch ``state_dict``: ``"fc1.kernel"``, ``"layers.0.bias"``."""
        for name, w in self._weights.items():
            yield prefix + name, w
        for key, value in self._children.items():
            if isinstance(value, list | tuple):
                for i, child in enumerate(value):
                    yield from child.named_weights(f"{prefix}{key}.{i}.")
            else:
                yield from value.named_weights(f"{prefix}{key}.")

    def _walk(self):
        yield self
        for child in self.sublayers():
            yield from child._walk()

    def named_parameters(self):
        """``(path, tensor)`` for every trainable weight (PyTorch's name)."""
        return [(n, w) for n, w in self.named_weights() if w.requires_grad]

    def parameters(self):
        """Trainable weights, for ``optimizer = wasmdl.optim.Adam(model.parameters())``."""
        return [w for _, w in self.named_parameters()]

    @property
    def weights(self):
        return [w for _, w in self.named_weights()]

    @property
    def trainable_weights(self):
        return self.parameters()

    @property
    def non_trainable_weights(self):
        return [w for _, w in self.named_weights() if not w.requires_grad]

    def count_params(self) -> int:
        return sum(w.size for w in self.weights)

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool):
        """Freeze (False) or unfreeze this layer's and its children's declared-trainable weights."""
        STRUCTURE[0] += 1
        object.__setattr__(self, "_trainable", bool(value))
        for name, w in self._weights.items():
            w.requires_grad = bool(value) and name in self._trainable_names
        for child in self.sublayers():
            child.trainable = value

    # ------------------------------------------------------------------ weights
    def add_weight(self, name, shape, initializer="zeros", trainable=True, regularizer=None):
        """Create, track and return a weight tensor (requires grad when trainable)."""
        left = LOAD_BUDGET["left"]
        if left is not None:
            size = math.prod(shape)
            if size > left:
                raise ValueError(
                    f"{type(self).__name__}: weight {name!r} of shape {tuple(shape)} "
                    "exceeds the weight values the file holds"
                )
            LOAD_BUDGET["left"] = left - size
        if LOADING["on"]:  # the file's tensors replace every weight: skip the initializer's work
            initializer = "zeros"
        value = initializers.get(initializer)(tuple(shape), self.dtype)
        STRUCTURE[0] += 1
        w = Tensor(value, requires_grad=bool(trainable and self.trainable))
        self._weights[name] = w
        if trainable:
            self._trainable_names.add(name)
        if regularizer is not None:
            self._regularizers.append((regularizers.get(regularizer), w))
        return w

    @property
    def losses(self):
        """Regularisation penalties of this layer and its children (tensors, summed by fit)."""
        return [reg(w) for layer in self._walk() for reg, w in layer._regularizers]

    def get_weights(self):
        """Every weight as a numpy array, in ``named_weights`` order (Keras)."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, arrays):
        """Replace every weight from numpy arrays in ``named_weights`` order (Keras)."""
        named = list(self.named_weights())
        if len(arrays) != len(named):
            raise ValueError(f"set_weights: expected {len(named)} arrays, received {len(arrays)}")
        self.load_weights_dict(dict(zip([n for n, _ in named], arrays, strict=True)), "set_weights")

    def weights_dict(self) -> dict[str, np.ndarray]:
        return {n: w.numpy() for n, w in self.named_weights()}

    def load_weights_dict(self, arrays: dict, fn="load_weights"):
        """Assign arrays by weight path; names and shapes must match exactly."""
        named = dict(self.named_weights())
        if set(named) != set(arrays):
            missing, extra = sorted(set(named) - set(arrays)), sorted(set(arrays) - set(named))
            raise ValueError(f"{fn}: weight names differ: missing {missing}, unexpected {extra}")
        for n, w in named.items():
            a = np.asarray(arrays[n])
            if tuple(a.shape) != w.shape:
                raise ValueError(f"{fn}: weight {n!r} expected shape {w.shape}, received {a.shape}")
            _set_data(w, a.astype(w.dtype))

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True):
        for layer in self._walk():
            layer.training = mode
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for w in self.weights:
            w.grad = None

    # ------------------------------------------------------------------ calling
    def build(self, input_shape):
        """Create weights for inputs of ``input_shape`` (override; call ``super().build``)."""
        self.built = True

    def call(self, *inputs, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}: define call(self, inputs)")

    def _ensure_built(self, inputs):
        if not self.built:
            shapes = [tuple(x.shape) for x in inputs]
            self.build(shapes[0] if len(shapes) == 1 else shapes)
            self.built = True
            self._built_shapes = [(None, *s[1:]) for s in shapes]

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch axis None) without computing anything:
        the layer's shape rule (``wasmdl.nn.shape_rules``), else one run on zeros (batch 1)."""
        rule = lookup(SHAPE_RULES, type(self))
        if rule is not None:
            return rule(self, input_shape)
        return shape_by_running(self, input_shape)

    def __call__(self, *inputs, training=None, **kwargs):
        if SYMBOLIC["call"] is not None and is_symbolic(inputs, kwargs):
            return SYMBOLIC["call"](self, inputs, kwargs)  # functional API: record a node
        inputs = [
            [as_tensor(x) for x in a] if isinstance(a, list | tuple) else as_tensor(a)
            for a in inputs
        ]
        flat = [x for a in inputs for x in (a if isinstance(a, list) else [a])]
        if is_shape_spec(flat):
            return call_symbolic(self, inputs, flat, kwargs)
        check_inputs(self, flat)
        self._ensure_built(flat)
        return self._call_now(inputs, kwargs, training)

    def _call_now(self, inputs, kwargs, training):
        outer = _CALL["training"]
        mode = training if training is not None else outer if outer is not None else self.training
        if type(self)._call_takes_training is None:
            type(self)._call_takes_training = "training" in inspect.signature(self.call).parameters
        if type(self)._call_takes_training:
            kwargs["training"] = mode
        _CALL["training"] = mode
        try:
            out = self.call(*inputs, **kwargs)
        except (ValueError, TypeError, IndexError) as e:  # name the layer, as Keras does
            if type(e) not in (ValueError, TypeError, IndexError) or 'layer "' in str(e):
                raise
            raise type(e)(
                f'Exception encountered when calling layer "{self.name}" '
                f"({type(self).__name__}): {e}"
            ) from e
        finally:
            _CALL["training"] = outer
        self.output_shape = getattr(out, "shape", None)
        return out

    forward = __call__  # PyTorch spelling

    # ------------------------------------------------------------------ config
    config_keys: tuple = ()  # constructor arguments stored as same-named attributes

    def get_config(self) -> dict:
        """JSON-able constructor arguments: ``type(layer).from_config(config)`` rebuilds it."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.input_shape_arg is not None:
            config["input_shape"] = list(self.input_shape_arg)
        for key in self.config_keys:
            config[key] = to_json(getattr(self, key), f"{type(self).__name__}.{key}")
        return config

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


def to_json(value, where: str):
    """A config value as JSON: tuples become lists; initializers, regularizers and activation
    functions become their registry names; anything else (a lambda) cannot be saved."""
    from .. import activations

    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [to_json(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v, where) for k, v in value.items()}
    if isinstance(value, initializers.Initializer):
        return initializers.serialize(value)
    if isinstance(value, regularizers.Regularizer):
        return regularizers.serialize(value)
    if callable(value):
        return activations.serialize(value)
    raise TypeError(f"get_config: {where} holds {type(value).__name__}, which cannot be saved")


def _is_layer_list(value) -> bool:
    return (
        isinstance(value, list | tuple) and bool(value) and all(isinstance(v, Layer) for v in value)
    )


def _set_data(w: Tensor, array: np.ndarray) -> None:
    from ..autograd import no_grad

    with no_grad():
        w.assign(Tensor(array, dtype=w.dtype, backend=w.backend))
