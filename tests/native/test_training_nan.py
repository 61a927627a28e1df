"""No silent NaN: TerminateOnNaN (and the last finite weights kept when asked), stop_training
after every batch, per-batch logs for every callback, EarlyStopping never keeping non-finite
weights, one warning naming the epoch and batch; and sample/class weights against a float64
oracle of Keras' formula."""

import warnings

import numpy as np
import pytest

import wasmdl
from wasmdl import nn

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 4)).astype(np.float32)
Y = (X.sum(1) > 0).astype(np.int64)


def model(seed_weights=None, softmax=True):
    m = wasmdl.Sequential(
        [
            nn.Dense(5, activation="tanh", input_shape=(4,)),
            nn.Dense(2, activation="softmax" if softmax else None),
        ]  # fmt: skip
    )
    if seed_weights is not None:
        m.set_weights(seed_weights)
    return m


def compiled(weights, lr=0.1):
    m = model(weights)
    m.compile(wasmdl.optim.SGD(None, lr=lr), "sparse_categorical_crossentropy")
    return m


def test_terminate_on_nan_keeps_the_last_finite_weights():
    init = model().get_weights()
    x = X.copy()
    x[9] = np.nan  # batch 2 (0-based) of batch_size 4
    stop = wasmdl.callbacks.TerminateOnNaN(restore_last_finite_weights=True)
    m = compiled(init)
    with pytest.warns(RuntimeWarning, match="epoch 1, batch 3 of 3"):
        history = m.fit(x, Y, batch_size=4, epochs=5, shuffle=False, verbose=0, callbacks=[stop])
    assert stop.stopped_batch == 2 and len(history.history["loss"]) == 1
    reference = compiled(init)  # the same steps on the two finite batches only
    reference.fit(X[:8], Y[:8], batch_size=4, epochs=1, shuffle=False, verbose=0)
    for got, want in zip(m.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)


def test_terminate_on_nan_without_restore_stops_with_keras_weights():
    x = X.copy()
    x[0] = np.inf
    m = compiled(model().get_weights())
    stop = wasmdl.callbacks.TerminateOnNaN()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        m.fit(x, Y, batch_size=4, epochs=3, shuffle=False, verbose=0, callbacks=[stop])
    assert stop.stopped_batch == 0
    assert not all(np.isfinite(w).all() for w in m.get_weights())  # Keras keeps the NaN step


def test_one_warning_names_the_first_non_finite_batch():
    x = X.copy()
    x[13] = np.nan  # batch 4 of 4
    m = compiled(model().get_weights())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = m.fit(x, Y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and "epoch 1, batch 4 of 4" in messages[0]
    assert len(history.history["loss"]) == 3  # Keras trains on without TerminateOnNaN


class Recorder(wasmdl.callbacks.Callback):
    def __init__(self, stop_at=None):
        self.losses, self.stop_at = [], stop_at

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])
        if batch == self.stop_at:
            self.model.stop_training = True


def test_stop_training_is_honoured_after_every_batch():
    m = compiled(model().get_weights())
    rec = Recorder(stop_at=1)
    history = m.fit(X, Y, batch_size=4, epochs=3, verbose=0, callbacks=[rec])
    assert len(rec.losses) == 2 and len(history.history["loss"]) == 1


def test_every_callback_gets_per_batch_logs_with_the_running_mean():
    weights = model().get_weights()
    m = compiled(weights, lr=0.0)  # fixed weights: the oracle's per-sample losses stay valid
    rec = Recorder()
    m.fit(X, Y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[rec])
    probs = model(weights).predict(X).astype(np.float64)
    per_sample = -np.log(np.clip(probs[np.arange(16), Y], 1e-7, 1 - 1e-7))
    want = [per_sample[: 4 * (i + 1)].mean() for i in range(4)]
    np.testing.assert_allclose(rec.losses, want, rtol=1e-5)


def test_early_stopping_never_restores_non_finite_weights():
    m = model()
    good = m.get_weights()
    stop = wasmdl.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    stop.set_model(m)
    stop.on_train_begin()
    stop.on_epoch_end(0, {"loss": 1.0})
    m.set_weights([np.full_like(w, np.nan) for w in good])
    stop.on_epoch_end(1, {"loss": 0.5})  # better, but the weights are NaN: not kept
    stop.on_epoch_end(2, {"loss": float("nan")})  # a NaN loss is never an improvement
    stop.on_epoch_end(3, {"loss": float("nan")})
    assert m.stop_training
    for got, want in zip(m.get_weights(), good, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "loss, y, softmax",
    [
        ("sparse_categorical_crossentropy", Y, True),
        ("categorical_crossentropy", np.eye(2, dtype=np.float32)[Y], True),
        (wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True), Y, False),
        ("mse", RNG.normal(size=(16, 2)).astype(np.float32), False),
        ("binary_crossentropy", RNG.integers(0, 2, (16, 2)).astype(np.float32), True),
    ],
    ids=["sparse", "categorical", "sparse-logits", "mse", "binary"],
)
def test_sample_and_class_weights_follow_keras(loss, y, softmax):
    weights = model(softmax=softmax).get_weights()
    sw = RNG.uniform(0, 2, 16).astype(np.float32)
    cw = {0: 0.5, 1: 3.0}
    labels = y if y.ndim == 1 else y.argmax(1)
    m = model(weights, softmax)
    m.compile(wasmdl.optim.SGD(None, lr=0.0), loss)
    got = m.fit(X, y, batch_size=16, verbose=0, sample_weight=sw, class_weight=cw)
    p = m.predict(X).astype(np.float64)
    yy = y.astype(np.float64)
    if loss == "mse":
        per = ((p - yy) ** 2).mean(1)
    elif loss == "binary_crossentropy":
        q = np.clip(p, 1e-7, 1 - 1e-7)
        per = -(yy * np.log(q) + (1 - yy) * np.log(1 - q)).mean(1)
    else:
        if not softmax:
            p = np.exp(p - p.max(1, keepdims=True))
        p = p / p.sum(1, keepdims=True)
        per = -np.log(np.clip(p[np.arange(16), labels], 1e-7, 1 - 1e-7))
    w = sw * np.array([cw[int(c)] for c in labels])
    np.testing.assert_allclose(got.history["loss"][0], (per * w).sum() / 16, rtol=1e-5)


def test_weights_refused_for_a_custom_loss():
    m = model()
    m.compile("sgd", lambda y, p: ((p - y) * (p - y)).mean())
    with pytest.raises(ValueError, match="'sample_weight' expected a built-in loss"):
        m.fit(X, np.zeros((16, 2), np.float32), sample_weight=np.ones(16), verbose=0)


def test_labels_are_checked_at_the_boundary_whatever_the_step_does():
    """A step that never calls the loss (a fused or replayed step) still sees labels checked."""
    m = compiled(model().get_weights())
    m.train_step = lambda x, y: wasmdl.tensor(0.0)
    with pytest.raises(ValueError, match=r"\[0, 2\), received 2 at index 3"):
        m.fit(X, np.where(np.arange(16) == 3, 2, Y), verbose=0)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        m.train_on_batch(X, Y + 2)


def test_evaluate_and_train_on_batch_take_sample_weights_as_keras():
    weights = model().get_weights()
    sw = RNG.uniform(0, 2, 16).astype(np.float32)
    m = compiled(weights, lr=0.0)
    p = m.predict(X).astype(np.float64)
    per = -np.log(np.clip(p[np.arange(16), Y], 1e-7, 1 - 1e-7))
    np.testing.assert_allclose(m.evaluate(X, Y, sample_weight=sw), (per * sw).mean(), rtol=1e-5)
    np.testing.assert_allclose(  # batches of 5, 5, 5, 1: Keras averages the batch means
        m.evaluate(X, Y, batch_size=5, sample_weight=sw), (per * sw).mean(), rtol=1e-5
    )
    cw = {0: 2.0, 1: 0.25}
    w = np.array([cw[int(c)] for c in Y])
    got = m.train_on_batch(X, Y, sample_weight=sw, class_weight=cw)
    np.testing.assert_allclose(got, (per * sw * w).mean(), rtol=1e-5)
    assert m.compiled_loss is wasmdl.losses.sparse_categorical_crossentropy  # restored
