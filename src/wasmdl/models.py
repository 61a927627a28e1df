"""Models: ``Sequential`` and subclassing (``class Net(wasmdl.Model)`` with ``call``).

A Model is a Layer (so it has ``parameters()``, ``train()``/``eval()``, ``get_weights``...) plus
Keras' training API (``compile``/``fit``/``evaluate``/``predict``, from ``wasmdl.training``),
``summary()`` and ``save()``.

Example:
    >>> import numpy as np, wasmdl
    >>> from wasmdl import nn
    >>> class Net(wasmdl.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1, self.fc2 = nn.Dense(16, activation="relu"), nn.Dense(3)
    ...     def call(self, x):
    ...         return self.fc2(self.fc1(x))
    >>> net = Net()
    >>> net(np.zeros((2, 4), np.float32)).shape
    (2, 3)
    >>> [name for name, _ in net.named_parameters()]
    ['fc1.kernel', 'fc1.bias', 'fc2.kernel', 'fc2.bias']
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .autograd import no_grad
from .nn.base import STRUCTURE, Layer, is_symbolic
from .nn.serialize import deserialize_layer, serialize_layer
from .nn.spec import ShapeSpec
from .training import TrainingMixin

# wasmdl.io (which sits above this module: its formats build models) registers its verbs here
# when imported, as the package's __init__ does: Model.save and friends call them.
_IO: dict = {}
MAX_BUILD_VALUES = 1 << 24  # per sample, for the dummy batch that builds a loaded model


def _shape(x) -> tuple:
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _dim_ok(d) -> bool:
    return isinstance(d, int) and not isinstance(d, bool) and 0 < d <= MAX_BUILD_VALUES


class Model(TrainingMixin, Layer):
    """Base class of models: subclass it and define ``call`` (PyTorch's ``forward`` works too).
    ``Model(inputs, outputs)`` makes a functional model instead (``wasmdl.graph.Functional``)."""

    _functional = None  # wasmdl.graph sets it: Keras' dispatch of Model(inputs=, outputs=)

    def __new__(cls, *args, **kwargs):
        if cls is Model and Model._functional is not None and (args or "inputs" in kwargs):
            return super().__new__(Model._functional)
        return super().__new__(cls)

    _abstract = True  # not loadable by name from a file: only its concrete subclasses are

    def __init__(self, *args, **kwargs):
        accepted = {"name", "trainable", "input_shape", "dtype"}
        super().__init__(*args, **{k: v for k, v in kwargs.items() if k in accepted})
        self._build_shapes = None
        self.stop_training = False

    def call(self, *inputs, **kwargs):
        if type(self).forward is not Layer.forward:  # a PyTorch-style subclass
            return type(self).forward(self, *inputs, **kwargs)
        raise NotImplementedError(f"{type(self).__name__}: define call(self, inputs)")

    def __call__(self, *inputs, **kwargs):
        if self._build_shapes is None and not is_symbolic(inputs):
            self._build_shapes = [[None, *_shape(x)[1:]] for x in inputs]
        return super().__call__(*inputs, **kwargs)

    async def warmup_async(self, x, y):
        """WebGPU and WebGL2: precompile, in parallel, every pipeline/program one
        ``train_step(x, y)`` needs (forward, loss, backward, optimizer update); weights,
        optimizer state and metrics are put back afterwards (through ``assign``), so warm-up
        does not train. Returns the compile report (see ``wasmdl.backend.webgpu_warmup``); a
        no-op report on other backends."""
        from .backend.webgpu_warmup import empty_report, warmers

        self._require_compiled("warmup_async")
        if not self.built:
            self.build_from_json([[None, *np.shape(x)[1:]]])
        opt = self._ensure_optimizer()
        weights = self.weights
        warm = warmers().get(weights[0].backend.name) if weights else None
        if warm is None:
            return empty_report()
        state = {p: dict(s) for p, s in opt.state.items()}
        tensors = [
            *weights,
            *(v for s in state.values() for v in s.values() if hasattr(v, "assign")),
        ]
        saved = [(t, t.detach()) for t in tensors]  # the data each holds now (no copy)
        iterations, owned = opt.iterations, opt._owned
        opt._owned = {}  # in-place updates then write private copies, never the saved data
        try:
            report = await warm(lambda: self.train_step(x, y), weights[0].backend)
        finally:
            with no_grad():
                for t, data in saved:
                    t.assign(data)
            opt.state, opt.iterations, opt._owned = state, iterations, owned
            opt.zero_grad()
            for m in getattr(self, "compiled_metrics", []):
                m.reset_state()
        report.pop("result", None)
        return report

    # ------------------------------------------------------------------ building for load/summary
    def build_input_shape_json(self):
        if self._build_shapes is None and self.input_shape_arg is not None:
            return [[None, *self.input_shape_arg]]
        return self._build_shapes

    def build_from_json(self, shapes):
        """Create every weight by shape inference on ``shapes`` (``ShapeSpec``: no batch runs)."""
        if not shapes:
            return
        ok = (
            isinstance(shapes, list)
            and 0 < len(shapes) <= 16
            and all(
                isinstance(s, list) and len(s) <= 9 and all(_dim_ok(d) for d in s[1:])
                for s in shapes
            )
        )
        if not ok or max(math.prod(s[1:]) for s in shapes) > MAX_BUILD_VALUES:
            raise ValueError(
                f"build: expected up to 16 input shapes [None, d1, ...] of at most "
                f"{MAX_BUILD_VALUES} values, received {str(shapes)[:100]}"
            )
        with no_grad():
            self(*[ShapeSpec((None, *s[1:])) for s in shapes], training=False)

    # ------------------------------------------------------------------ config
    @classmethod
    def from_config(cls, config):
        """Subclasses rebuild from the constructor arguments their ``get_config`` returns."""
        if cls is Model and Model._functional is not None and "input_layers" in config:
            return Model._functional.from_config(config)  # Keras: Model.from_config(functional)
        params = inspect.signature(cls.__init__).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return cls(**config)
        return cls(**{k: v for k, v in config.items() if k in params})

    # ------------------------------------------------------------------ summary / save
    def summary(self, print_fn=print) -> str:
        """Print (and return) each layer's type, output shape and parameter count."""
        if not self.built:
            self.build_from_json(self.build_input_shape_json())
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.sublayers():
            shape = layer.output_shape and str((None, *layer.output_shape[1:]))
            rows.append(
                (
                    f"{layer.name} ({type(layer).__name__})",
                    str(shape or "?"),
                    f"{layer.count_params():,}",
                )
            )
        total = self.count_params()
        trainable = sum(w.size for w in self.parameters())
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "=" * sum(widths)
        out = [f'Model: "{self.name}"', line]
        out += ["".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        out.insert(3, line)
        out += [
            line,
            f"Total params: {total:,}",
            f"Trainable params: {trainable:,}",
            f"Non-trainable params: {total - trainable:,}",
            line,
        ]
        text = "\n".join(out)
        if print_fn is not None:
            print_fn(text)
        return text

    def save(self, path=None, format=None):
        """Save architecture and weights (``wasmdl.load_model`` reads it back): wasmdl's native
        format, or ``format="keras"`` / a ``.keras`` path (see ``wasmdl.io.FORMATS``)."""
        return _IO["save_model"](self, path, format=format)

    def save_weights(self, path=None):
        return _IO["save_weights"](self, path)

    def load_weights(self, source):
        _IO["load_weights"](self, source)


class Sequential(Model):
    """A stack of layers, each feeding the next: ``Sequential([Dense(64), Dense(10)])``."""

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.layers = []
        self._children["layers"] = self.layers
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a Layer, received {type(layer).__name__}")
        self.layers.append(layer)
        STRUCTURE[0] += 1
        if len(self.layers) == 1 and layer.input_shape_arg is not None:
            self.input_shape_arg = layer.input_shape_arg
            self.build_from_json([[None, *layer.input_shape_arg]])
        elif self.built:  # build only the new layer, from the last output's shape (Keras)
            prev = self.layers[-2].output_shape if len(self.layers) > 1 else None
            if isinstance(prev, tuple):
                out = layer(ShapeSpec((None, *prev[1:])))
                self.output_shape = getattr(out, "shape", None)
            else:
                self.build_from_json(self.build_input_shape_json())

    def pop(self):
        STRUCTURE[0] += 1
        return self.layers.pop()

    def call(self, x):
        if not self.layers:
            raise ValueError("Sequential: expected at least one layer before calling the model")
        for layer in self.layers:
            x = layer(x)
        return x

    def get_config(self):
        return {"name": self.name, "layers": [serialize_layer(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        layers = config.get("layers")
        if not isinstance(layers, list):
            raise ValueError("Sequential.from_config: expected a 'layers' list")
        return cls([deserialize_layer(s, custom_objects) for s in layers], name=config.get("name"))
