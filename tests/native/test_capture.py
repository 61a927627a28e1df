"""Captured step programs (``wasmdl.function``, ``compile(jit_compile=...)``) natively: the step
case table of ``wasmdl.testing.steps`` with capture off and on, and the mechanism's edges."""

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.testing import steps


@pytest.mark.parametrize("name", list(steps.CASES))
def test_step_case_capture_matches_eager(name):
    steps.check_case(steps.CASES[name], steps=20)


def _mlp(seed=0):
    wasmdl.manual_seed(seed)
    m = wasmdl.Sequential([nn.Dense(16, activation="relu"), nn.Dense(4)])
    m.build_from_json([[None, 12]])
    rng = np.random.default_rng(seed)
    m.set_weights([(rng.normal(size=w.shape) * 0.3).astype(np.float32) for w in m.get_weights()])
    return m


def _batches(n=8):
    rng = np.random.default_rng(3)
    return [
        (rng.normal(size=(16, 12)).astype(np.float32), rng.integers(0, 4, 16)) for _ in range(n)
    ]


def _custom_loop(jit, style):
    """A custom training loop (GradientTape/apply_gradients, or torch-style backward/step)
    captured with wasmdl.function; returns the losses and final weights."""
    model, loss_fn = _mlp(), wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = wasmdl.optim.Adam(model.parameters(), lr=0.01)

    def tape_step(x, y):
        with wasmdl.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights, strict=True))
        return loss.detach()

    def torch_step(x, y):
        opt.zero_grad()
        loss = loss_fn(y, model(x))
        loss.backward()
        opt.step()
        return {"loss": loss.detach()}

    fn = tape_step if style == "tape" else torch_step
    step = wasmdl.function(fn, jit_compile=jit)
    out = [step(x, y) for x, y in _batches() * 3]
    losses = [float(o if style == "tape" else o["loss"]) for o in out]
    return losses, model.get_weights(), step.capture_info()


@pytest.mark.parametrize("style", ["tape", "torch"])
def test_custom_loop_step_captured(style):
    eager_losses, eager_w, _ = _custom_loop(False, style)
    losses, weights, info = _custom_loop("auto", style)
    assert info["captured"] and info["replays"] == 21, info
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5, atol=1e-6)
    for a, b in zip(weights, eager_w, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_replay_sees_new_learning_rate_set_weights_and_frozen_layers():
    """What changes between steps reaches the replay: lr (a host value), set_weights (params
    are read at every replay), freezing a layer (a new key: recorded again)."""
    runs = {}
    for jit in (False, "auto"):
        m = _mlp()
        m.compile(optimizer=wasmdl.optim.SGD(lr=0.1, momentum=0.9), loss=steps.nn_loss(True),
                  jit_compile=jit)  # fmt: skip
        losses = []
        for i, (x, y) in enumerate(_batches() * 2):
            if i == 6:
                m.optimizer.lr = 0.01
            if i == 9:
                m.set_weights([w * 0.5 for w in m.get_weights()])
            if i == 12:
                m.layers[0].trainable = False
                frozen = m.layers[0].get_weights()
            losses.append(m.train_on_batch(x, y))
        assert all(
            np.array_equal(a, b) for a, b in zip(frozen, m.layers[0].get_weights(), strict=False)
        )
        runs[jit] = (losses, m.get_weights(), m.capture_info())
    np.testing.assert_allclose(runs["auto"][0], runs[False][0], rtol=1e-5, atol=1e-6)
    for a, b in zip(runs["auto"][1], runs[False][1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert runs["auto"][2]["train"]["captured"], runs["auto"][2]


def test_predict_on_a_model_built_without_input_shape():
    """Regression: predict on a Sequential built by its first call (no input_shape)."""
    model = wasmdl.Sequential([nn.Dense(4), nn.Dense(2)])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    outs = [model.predict(x[:1]) for _ in range(5)]
    want = x[:1] @ model.layers[0].kernel.numpy() + model.layers[0].bias.numpy()
    want = want @ model.layers[1].kernel.numpy() + model.layers[1].bias.numpy()
    for o in outs:
        np.testing.assert_allclose(o, want, rtol=1e-5, atol=1e-6)
    assert model.capture_info()["predict"]["captured"]
    assert model.predict(x).shape == (5, 2)


def test_jit_compile_true_raises_with_the_reason_and_false_stays_eager():
    m = _mlp()
    opt = wasmdl.optim.Adam(lr=0.01, global_clipnorm=1.0)  # reads the norm on the host
    m.compile(optimizer=opt, loss=steps.nn_loss(True), jit_compile=True)
    x, y = _batches()[0]
    m.train_on_batch(x, y)
    with pytest.raises(RuntimeError, match=r"train_step: jit_compile=True .* reads a value"):
        m.train_on_batch(x, y)
    m.compile(optimizer="adam", loss=steps.nn_loss(True), jit_compile=False)
    for _ in range(5):
        m.train_on_batch(x, y)
    assert m.capture_info()["train"] == {
        "captured": False, "reason": "jit_compile=False", "replays": 0}  # fmt: skip
    with pytest.raises(ValueError, match="jit_compile"):
        m.compile(optimizer="adam", loss="mse", jit_compile="yes")


def test_data_dependent_control_flow_is_refused():
    w = wasmdl.tensor([1.0, 2.0])
    calls = []

    def step(x):
        calls.append(1)
        return x * w if len(calls) % 2 else x + w  # differs from call to call

    f = wasmdl.function(step)
    outs = [f(np.ones(2, np.float32)).tolist() for _ in range(6)]
    assert outs == [[1.0, 2.0], [2.0, 3.0]] * 3
    info = f.capture_info()
    assert not info["captured"] and "different ops" in info["reason"]


def test_host_values_change_per_replay_and_undeclared_ones_are_refused():
    w = wasmdl.tensor([1.0])
    state = {"n": 0}

    def tick():
        state["n"] += 1
        return [float(state["n"])]

    be = wasmdl.backend.get_backend()
    f = wasmdl.function(lambda x: x * wasmdl.capture.host_value(tick, np.float32, be) + w)
    assert [f(np.ones(1, np.float32)).item() for _ in range(6)] == [2, 3, 4, 5, 6, 7]
    assert f.capture_info()["captured"]
    g = wasmdl.function(lambda x: x * wasmdl.tensor(tick()))  # made on the host, undeclared
    assert [g(np.ones(1, np.float32)).item() for _ in range(5)] == [7, 8, 9, 10, 11]
    assert "changes from call to call" in g.capture_info()["reason"]


def test_fit_keeps_live_tensors_flat():
    m = _mlp()
    m.compile(optimizer="adam", loss=steps.nn_loss(True), metrics=["accuracy"])
    x, y = (np.concatenate(a) for a in zip(*_batches(16), strict=True))
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    before = wasmdl.memory()
    m.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert wasmdl.memory()["tensors"] <= before["tensors"] + 2, (before, wasmdl.memory())
    assert m.capture_info()["train"]["captured"]


def test_captured_step_checks_every_batch_of_embedding_ids():
    """An Embedding's id check reads the step's input on the host: captured, it runs again on
    every replay (before the program), so a bad batch after capture still names the layer."""
    rng = np.random.default_rng(0)
    model = wasmdl.Sequential(
        [nn.Embedding(10, 4, input_shape=(5,)), nn.Flatten(), nn.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, y = rng.integers(0, 10, (8, 5)), rng.integers(0, 2, 8)
    for _ in range(4):
        model.train_on_batch(x, y)
    info = model.capture_info()["train"]
    assert info["captured"], info
    before = [w.copy() for w in model.get_weights()]
    for bad in (-1, 10):
        xb = x.copy()
        xb[3, 2] = bad
        with pytest.raises(ValueError, match=r"Embedding.*expected ids in \[0, 10\)"):
            model.train_on_batch(xb, y)
        with pytest.raises(ValueError, match="Embedding"):
            model.predict(xb)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # nothing ran on the bad batches
    assert model.capture_info()["train"]["captured"]


@pytest.mark.parametrize("jit", [True, False])
def test_builtin_train_step_keeps_no_gradients(jit):
    """Like Keras, fit/train_on_batch release the gradients after the update (eager and captured
    alike): nothing stays allocated between batches and a replay copies no gradient out."""
    m = _mlp()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=jit)
    for x, y in _batches(4):
        m.train_on_batch(x, y)
    assert all(w.grad is None for w in m.weights)
    if jit:
        replay = m.train_function._last.replay
        assert replay.grads == [] and len(replay.program.outputs) == 1  # the loss only
