"""The step case table for captured programs: every model, optimizer and training style a
captured step must reproduce, run with capture off and on from the same weights.

A row is ``StepCase(name, build, data, compile_kw, captured, frozen)``: ``build()`` returns a
model (weights drawn from a fixed seed, so two builds are identical), ``data`` names the batch
maker, ``compile_kw`` the ``compile`` arguments (an optimizer may be a function of the model,
for an optimizer over a subset of the parameters), ``captured`` whether capture must succeed,
``frozen`` the indices of layers frozen before training. ``run_case`` trains ``steps`` batches
with ``jit_compile=False`` and ``"auto"`` and returns both runs' losses and weights, and what
``capture_info`` said. The same rows run natively, in Node and in Chromium.

>>> r = run_case(CASES["mlp_sgd"], steps=6)
>>> r["info"]["train"]["captured"], r["info"]["train"]["replays"]
(True, 3)
>>> max(abs(a - b) for a, b in zip(r["eager"]["losses"], r["captured"]["losses"])) < 1e-6
True
"""

from __future__ import annotations

import numpy as np

import wasmdl
from wasmdl import nn, optim


class StepCase:
    """A row: ``noise`` names weights whose gradient is zero in exact arithmetic (an attention
    key bias: softmax ignores a shift shared by a query's scores), so Adam's normalised update
    of them is rounding noise scaled up to the learning rate: any two float32 kernel orders
    differ there by up to lr a step, and those weights are compared to that bound."""

    def __init__(self, name, build, data, compile_kw, captured=True, frozen=(), noise=()):
        self.name, self.build, self.data, self.compile_kw = name, build, data, compile_kw
        self.captured, self.frozen, self.noise = captured, tuple(frozen), tuple(noise)

    def __repr__(self):
        return f"StepCase({self.name!r})"


def _images(rng, n=16):
    return rng.random((n, 8, 8, 1)).astype(np.float32), rng.integers(0, 4, n)


def _vectors(rng, n=16):
    return rng.normal(size=(n, 12)).astype(np.float32), rng.integers(0, 4, n)


def _flat_images(rng, n=16):
    return rng.random((n, 6, 6)).astype(np.float32), rng.integers(0, 4, n)


def _sequences(rng, n=16):
    return rng.normal(size=(n, 7, 5)).astype(np.float32), rng.integers(0, 4, n)


def _tokens(rng, n=16):
    return rng.integers(0, 20, (n, 6)).astype(np.int32), rng.integers(0, 4, n)


DATA = {
    "images": _images,
    "vectors": _vectors,
    "flat": _flat_images,
    "sequences": _sequences,
    "tokens": _tokens,
}
INPUT = {"images": (8, 8, 1), "vectors": (12,), "flat": (6, 6), "sequences": (7, 5), "tokens": (6,)}


def _seq(*layers):
    return lambda: wasmdl.Sequential(list(layers_fresh(layers)))


def layers_fresh(specs):
    """Layers from ``(class, args, kwargs)`` specs (a new instance per build)."""
    return [cls(*args, **kw) for cls, args, kw in specs]


def L(cls, *args, **kw):  # noqa: N802  (a layer spec, read like a layer)
    return (cls, args, kw)


class _Subclassed(wasmdl.Model):
    """A PyTorch-style subclassed model: two Dense layers and a residual add."""

    def __init__(self):
        super().__init__()
        self.a = nn.Dense(16, activation="tanh")
        self.b = nn.Dense(16)
        self.out = nn.Dense(4)

    def call(self, x):
        h = self.a(x)
        return self.out(h + self.b(h))


class _Attention(wasmdl.Model):
    """Embedding + MultiHeadAttention + pooling: the attention row."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.mha = nn.MultiHeadAttention(num_heads=2, key_dim=4)
        self.out = nn.Dense(4)

    def call(self, x):
        h = self.emb(x)
        h = self.mha(h, h)
        return self.out(wasmdl.ops.mean(h, axis=1))


def _functional():
    """A functional model (wasmdl.Input, shared layer, merge)."""
    x = wasmdl.Input((12,))
    shared = nn.Dense(12, activation="tanh")
    h = nn.Add()([shared(x), shared(shared(x))])
    return wasmdl.Model(x, nn.Dense(4)(nn.Concatenate()([h, x])))


MLP = (L(nn.Dense, 16, activation="relu"), L(nn.Dense, 4))
XENT = "sparse_categorical_crossentropy"


def _mlp_case(name, opt, **kw):
    kw = {"optimizer": opt, "loss": nn_loss(True), **kw}
    return StepCase(name, _seq(*MLP), "vectors", kw)


def nn_loss(from_logits):
    return wasmdl.losses.SparseCategoricalCrossentropy(from_logits=from_logits)


_ROWS = [
    _mlp_case("mlp_sgd", optim.SGD(lr=0.1)),
    _mlp_case("mlp_sgd_momentum", optim.SGD(lr=0.05, momentum=0.9, nesterov=True)),
    _mlp_case("mlp_sgd_weight_decay", optim.SGD(lr=0.05, momentum=0.5, weight_decay=0.01)),
    _mlp_case("mlp_adam", "adam", metrics=["accuracy"]),
    _mlp_case("mlp_adamw", optim.AdamW(lr=0.01)),
    _mlp_case("mlp_adam_amsgrad", optim.Adam(lr=0.01, amsgrad=True)),
    _mlp_case("mlp_rmsprop", optim.RMSprop(lr=0.01, momentum=0.5, centered=True)),
    _mlp_case("mlp_adagrad", optim.Adagrad(lr=0.05, lr_decay=0.01)),
    _mlp_case("mlp_adadelta", optim.Adadelta(lr=1.0)),
    _mlp_case("mlp_adamax", optim.Adamax(lr=0.01)),
    _mlp_case("mlp_nadam", optim.NAdam(lr=0.01)),
    StepCase(
        "mlp_softmax_flatten_dropout_metrics",
        _seq(
            L(nn.Flatten),
            L(nn.Dense, 16, activation="relu"),
            L(nn.Dropout, 0.3, seed=3),
            L(nn.Dense, 4, activation="softmax"),
        ),  # fmt: skip
        "flat",
        {
            "optimizer": "adam",
            "loss": XENT,
            "metrics": ["accuracy", "sparse_top_k_categorical_accuracy"],
        },
    ),
    StepCase(
        "mlp_batchnorm",
        _seq(L(nn.Dense, 16), L(nn.BatchNormalization), L(nn.Activation, "relu"), L(nn.Dense, 4)),
        "vectors",
        {"optimizer": "adam", "loss": nn_loss(True)},
    ),
    StepCase(
        "mlp_frozen_layer",
        _seq(
            L(nn.Dense, 16, activation="relu"), L(nn.Dense, 16, activation="relu"), L(nn.Dense, 4)
        ),
        "vectors",
        {"optimizer": "adam", "loss": nn_loss(True)},
        frozen=(0,),
    ),
    StepCase(
        "mlp_optimizer_subset",
        _seq(*MLP),
        "vectors",
        {"optimizer": lambda m: optim.SGD(m.layers[1].parameters(), lr=0.1), "loss": nn_loss(True)},
    ),
    StepCase(
        "mlp_clipnorm_reads_host",  # global_clipnorm reads the norm on the host: stays eager
        _seq(*MLP),
        "vectors",
        {"optimizer": optim.Adam(lr=0.01, global_clipnorm=1.0), "loss": nn_loss(True)},
        captured=False,
    ),
    StepCase(
        "cnn_conv_pool_bn",
        _seq(
            L(nn.Conv2D, 4, 3, padding="same", activation="relu"),
            L(nn.BatchNormalization),
            L(nn.MaxPooling2D, 2),
            L(nn.Conv2D, 4, 3, activation="relu"),
            L(nn.AveragePooling2D, 2),
            L(nn.Flatten),
            L(nn.Dense, 4),
        ),  # fmt: skip
        "images",
        {"optimizer": "adam", "loss": nn_loss(True), "metrics": ["accuracy"]},
    ),
    StepCase(
        "lstm",
        _seq(L(nn.LSTM, 8), L(nn.Dense, 4)),
        "sequences",
        {"optimizer": "adam", "loss": nn_loss(True)},
    ),  # fmt: skip
    StepCase(
        "gru",
        _seq(L(nn.GRU, 8), L(nn.Dense, 4)),
        "sequences",
        {"optimizer": "rmsprop", "loss": nn_loss(True)},
    ),  # fmt: skip
    StepCase(
        "embedding_attention",
        _Attention,
        "tokens",
        {"optimizer": "adam", "loss": nn_loss(True)},
        noise=("mha.key_bias",),
    ),  # fmt: skip
    StepCase("functional", _functional, "vectors", {"optimizer": "adam", "loss": nn_loss(True)}),
    StepCase("subclassed", _Subclassed, "vectors", {"optimizer": "sgd", "loss": nn_loss(True)}),
]
CASES = {c.name: c for c in _ROWS}


def _build(case, jit):
    wasmdl.manual_seed(0)
    model = case.build()
    model.build_from_json([[None, *INPUT[case.data]]])
    rng = np.random.default_rng(7)
    model.set_weights(
        [(rng.normal(size=w.shape) * 0.3).astype(w.dtype) for w in model.get_weights()]
    )
    for i in case.frozen:
        model.layers[i].trainable = False
    kw = dict(case.compile_kw)
    opt = kw.pop("optimizer")
    if callable(opt) and not isinstance(opt, str | optim.Optimizer):
        opt = opt(model)
    elif isinstance(opt, optim.Optimizer):  # a fresh copy of the row's optimizer per run
        opt = type(opt)(
            **{k: v for k, v in opt.defaults.items()}, global_clipnorm=opt.global_clipnorm
        )
    model.compile(optimizer=opt, jit_compile=jit, **kw)
    return model


def _train(case, jit, steps):
    model = _build(case, jit)
    frozen_before = [w.numpy() for i in case.frozen for w in model.layers[i].weights]
    rng = np.random.default_rng(1)
    batches = [DATA[case.data](rng) for _ in range(4)]
    losses = [model.train_on_batch(*batches[i % 4]) for i in range(steps)]
    x = batches[0][0]
    return model, {
        "losses": losses,
        "weights": model.get_weights(),
        "names": [n for n, _ in model.named_weights()],
        "frozen_before": frozen_before,
        "frozen_after": [w.numpy() for i in case.frozen for w in model.layers[i].weights],
        "evaluate": model.evaluate(*batches[1], batch_size=8) if model.compiled_metrics else None,
        "predict": [model.predict(x[:3]) for _ in range(4)][-1],
    }


def run_case(case, steps=20):
    """Train ``case`` for ``steps`` batches eagerly and captured; returns both runs and what the
    captured model's ``capture_info()`` reports."""
    _, eager = _train(case, False, steps)
    model, captured = _train(case, "auto", steps)
    return {"eager": eager, "captured": captured, "info": model.capture_info()}


def check_case(case, steps=20, rtol=1e-5, atol=1e-6):
    """Assert the captured run follows the eager one (losses, weights, evaluate, predict),
    frozen weights stay bit-identical, and the step was captured when the row says so."""
    r = run_case(case, steps)
    e, c, info = r["eager"], r["captured"], r["info"]
    np.testing.assert_allclose(c["losses"], e["losses"], rtol, atol, err_msg=case.name)
    for name, a, b in zip(e["names"], c["weights"], e["weights"], strict=True):
        lr_steps = 1e-3 * steps  # the rows' Adam learning rate (Keras' default) times the steps
        tol = (0, lr_steps) if name in case.noise else (rtol, atol)
        np.testing.assert_allclose(a, b, *tol, err_msg=f"{case.name}: {name}")
    np.testing.assert_allclose(c["predict"], e["predict"], rtol, atol, err_msg=case.name)
    if e["evaluate"] is not None:
        np.testing.assert_allclose(c["evaluate"], e["evaluate"], rtol, atol, err_msg=case.name)
    for a, b in zip(c["frozen_after"], c["frozen_before"], strict=True):
        assert np.array_equal(a, b), f"{case.name}: a frozen weight changed"
    train = info["train"]
    assert train["captured"] is case.captured, f"{case.name}: {train}"
    if case.captured:
        assert train["replays"] == steps - 3, f"{case.name}: {train}"
        assert info["predict"]["captured"], f"{case.name}: {info['predict']}"
    return r


def check_table(names=None, steps=20, rtol=1e-5, atol=1e-6):
    """``check_case`` for every row (or ``names``) on the current backend; returns
    ``{"failures": [...], "info": {row: the train step's capture_info}}`` (for the browser
    tiers, which check the whole table in one call)."""
    failures, infos = [], {}
    for name in names or CASES:
        try:
            infos[name] = check_case(CASES[name], steps, rtol, atol)["info"]["train"]
        except Exception as e:  # collected: one browser call reports every row
            failures.append(f"{name}: {type(e).__name__}: {e}"[:800])
    return {"failures": failures, "info": infos}
