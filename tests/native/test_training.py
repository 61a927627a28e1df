"""The training API: compile/fit/evaluate/predict, callbacks, async twins, custom loops,
trainable flags, summary, regularisation, get/set_weights."""

import asyncio
import io

import numpy as np
import pytest

import wasmdl
from wasmdl import callbacks, nn


def data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
    return x, y


def classifier(lr=0.05):
    wasmdl.manual_seed(0)
    model = wasmdl.Sequential([nn.Dense(16, activation="relu", input_shape=(4,)), nn.Dense(3)])
    model.compile(
        wasmdl.optim.Adam(lr=lr),
        metrics=["accuracy"],
        loss=wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def test_fit_learns_and_reports_history_with_validation():
    x, y = data()
    model = classifier()
    h = model.fit(x, y, epochs=15, batch_size=16, validation_split=0.25, verbose=0, seed=1)
    assert sorted(h.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(h.history["loss"]) == 15 and h.history["loss"][-1] < h.history["loss"][0] / 2
    loss, acc = model.evaluate(x[72:], y[72:])
    assert acc == pytest.approx(h.history["val_accuracy"][-1])
    assert loss == pytest.approx(h.history["val_loss"][-1], rel=1e-5)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.9
    probs = model.predict(x, batch_size=7)
    assert probs.shape == (96, 3) and isinstance(probs, np.ndarray)
    h2 = model.fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), verbose=0)
    assert "val_loss" in h2.history


def test_fit_is_reproducible_with_a_seed():
    x, y = data()
    a = classifier().fit(x, y, epochs=2, batch_size=8, verbose=0, seed=3).history["loss"]
    b = classifier().fit(x, y, epochs=2, batch_size=8, verbose=0, seed=3).history["loss"]
    assert a == b


def test_compile_by_name_uses_keras_defaults_and_a_dataloader():
    x, y = data()
    model = wasmdl.Sequential([nn.Dense(3, input_shape=(4,))])
    model.compile("rmsprop", "sparse_categorical_crossentropy", metrics=["acc"])
    loader = wasmdl.data.DataLoader((x, y), batch_size=32, shuffle=True, seed=0)
    model.fit(loader, epochs=1, verbose=0)
    assert type(model.optimizer).__name__ == "RMSprop" and model.optimizer.lr == 1e-3
    with pytest.raises(RuntimeError, match="fit: expected a compiled model"):
        wasmdl.Sequential([nn.Dense(1)]).fit(x, y)


def test_callbacks(tmp_path):
    x, y = data()
    seen = []
    model = classifier(lr=1e-9)  # no progress: early stopping and plateau logic trigger
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=1e-3)
    plateau = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=1e-3)
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.wasmdl"), monitor="loss")
    hook = callbacks.ProgressCallback(seen.append)
    h = model.fit(x, y, epochs=10, batch_size=32, verbose=0, callbacks=[stop, plateau, ckpt, hook])
    assert len(h.history["loss"]) == 3 and stop.stopped_epoch == 2
    assert model.optimizer.lr == pytest.approx(0.25e-9)  # halved after epochs 2 and 3
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["m-1.wasmdl", "m-2.wasmdl", "m-3.wasmdl"]
    again = wasmdl.load_model(tmp_path / "m-3.wasmdl")
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert seen[0] == {
        "epoch": 1,
        "epochs": 10,
        "batch": 1,
        "batches": 3,
        "done": False,
        "logs": seen[0]["logs"],
    }
    assert set(seen[0]["logs"]) == {"loss", "accuracy"} and seen[3]["done"]


def test_learning_rate_scheduler_and_torch_style_schedule():
    x, y = data()
    model = classifier(lr=0.1)
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5**epoch)
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched])
    assert h.history["lr"] == [0.1, 0.05, 0.025]
    model = classifier(lr=0.1)
    step = wasmdl.optim.StepLR(model.optimizer, step_size=1, gamma=0.1)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[step.as_callback()])
    assert model.optimizer.lr == pytest.approx(0.001)


def test_progress_bar_text():
    x, y = data()
    out = io.StringIO()
    model = classifier()
    model.fit(x, y, epochs=2, batch_size=48, verbose=0, callbacks=[callbacks.ProgbarLogger(out)])
    text = out.getvalue()
    assert text.count("\n") == 2  # one finished line per epoch, redrawn with \r in between
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("Epoch 2/2 2/2 [========================]") and "- loss: " in last


def test_fit_async_yields_to_the_event_loop_between_batches():
    x, y = data()
    model = classifier()
    ticks = []

    async def main():
        async def ticker():
            while True:
                ticks.append(1)
                await asyncio.sleep(0)

        task = asyncio.ensure_future(ticker())
        history = await model.fit_async(x, y, epochs=2, batch_size=16, verbose=0)
        preds = await model.predict_async(x, batch_size=32)
        task.cancel()
        return history, preds

    history, preds = asyncio.run(main())
    assert len(history.history["loss"]) == 2
    assert len(ticks) >= 12 + 3  # at least one tick per training batch and predict batch
    np.testing.assert_array_equal(preds, model.predict(x, batch_size=32))


def test_custom_loops_backward_step_and_gradient_tape():
    x, y = data()
    loss_fn = wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True)
    a, b = classifier(), classifier()
    opt_a = wasmdl.optim.SGD(a.parameters(), lr=0.1)
    opt_b = wasmdl.optim.SGD(lr=0.1)  # Keras style: bound by apply_gradients
    for xb, yb in wasmdl.data.batches(x, y, batch_size=32):
        opt_a.zero_grad()
        loss = loss_fn(yb, a(xb))
        loss.backward()
        opt_a.step()
        with wasmdl.GradientTape() as tape:
            loss_b = loss_fn(yb, b(xb))
        grads = tape.gradient(loss_b, b.trainable_weights)
        opt_b.apply_gradients(zip(grads, b.trainable_weights, strict=True))
        assert loss.item() == pytest.approx(loss_b.item())
    for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


class Net(wasmdl.Model):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2D(4, 3)
        self.bn = nn.BatchNormalization()
        self.blocks = [nn.Dense(8, activation="relu"), nn.Dense(2)]

    def call(self, x, training=None):
        h = nn.Flatten()(self.bn(self.conv(x)))
        for block in self.blocks:
            h = block(h)
        return h


def test_subclassing_tracking_summary_and_freezing():
    net = Net()
    net(np.zeros((2, 6, 6, 1), np.float32))
    names = [n for n, _ in net.named_weights()]
    assert names == [
        "conv.kernel",
        "conv.bias",
        "bn.gamma",
        "bn.beta",
        "bn.moving_mean",
        "bn.moving_variance",
        "blocks.0.kernel",
        "blocks.0.bias",
        "blocks.1.kernel",
        "blocks.1.bias",
    ]
    assert len(net.trainable_weights) == 8 and len(net.non_trainable_weights) == 2
    # Keras' counts: conv 3*3*1*4+4 = 40, bn 4*4 = 16, dense 64*8+8 = 520, 8*2+2 = 18
    text = net.summary(print_fn=None)
    assert "Total params: 594" in text and "Non-trainable params: 8" in text
    assert "conv (Conv2D)" in text or "(Conv2D)" in text
    net.conv.trainable = False
    assert len(net.parameters()) == 6
    net.conv.trainable = True
    assert len(net.parameters()) == 8
    weights = net.get_weights()
    net.set_weights([w * 0 for w in weights])
    assert all(not w.any() for w in net.get_weights())
    with pytest.raises(ValueError, match="set_weights: expected 10 arrays, received 1"):
        net.set_weights(weights[:1])


def test_train_eval_modes_reach_dropout_and_batchnorm():
    model = wasmdl.Sequential([nn.Dropout(0.5, input_shape=(100,))])
    x = np.ones((4, 100), np.float32)
    assert (model(x).numpy() == 0).any()  # PyTorch default: training mode
    model.eval()
    np.testing.assert_array_equal(model(x).numpy(), x)
    np.testing.assert_array_equal(model(x, training=False).numpy(), x)
    model.train()
    np.testing.assert_array_equal(model.predict(x), x)  # predict is always inference


def test_predict_of_one_batch_matches_the_batched_path():
    """predict of x that fits in one batch (per-sample inference) skips the loader: same
    outputs as batch by batch, a fresh float array, and the same argument checks."""
    x, _ = data(10)
    model = classifier()
    batched = model.predict(x, batch_size=3)  # four batches: the general path
    rows = [model.predict(x[i : i + 1]) for i in range(10)]
    np.testing.assert_allclose(np.concatenate(rows), batched, rtol=1e-6, atol=1e-7)
    assert rows[0].shape == (1, 3) and rows[0].dtype == np.float32
    np.testing.assert_allclose(model.predict(x.tolist()), batched, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.predict(x.astype(np.float64)), batched, rtol=1e-6, atol=1e-7)
    identity = wasmdl.Sequential([nn.Dropout(0.5, input_shape=(4,))])
    assert not np.shares_memory(identity.predict(x), x)  # a copy, never the caller's array
    with pytest.raises(ValueError, match="'batch_size' expected an int >= 1, received 0"):
        model.predict(x[:1], batch_size=0)


def test_regularizers_add_to_the_training_loss():
    model = wasmdl.Sequential(
        [
            nn.Dense(
                2,
                input_shape=(3,),
                kernel_regularizer="l2",
                bias_regularizer=wasmdl.regularizers.L1(0.5),
            )
        ]
    )
    k, b = model.layers[0].kernel.numpy(), model.layers[0].bias.numpy()
    penalty = sum(float(p) for p in model.losses)
    assert penalty == pytest.approx(0.01 * (k**2).sum() + 0.5 * np.abs(b).sum(), rel=1e-5)
    model.compile("sgd", "mse")
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32)
    plain = model.evaluate(x, y)
    model.optimizer = wasmdl.optim.SGD(model.parameters(), lr=0.0)
    loss = model.train_on_batch(x, y)  # the returned loss is the data loss
    assert loss == pytest.approx(plain, rel=1e-5)


def test_pytorch_style_module_with_forward():
    class TorchStyle(wasmdl.Model):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = nn.Dense(8), nn.Dense(3)

        def forward(self, x):
            return self.fc2(wasmdl.relu(self.fc1(x)))

    x, y = data()
    net = TorchStyle()
    opt = wasmdl.optim.Adam(lr=0.05)
    loss_fn = wasmdl.losses.SparseCategoricalCrossentropy(from_logits=True)
    first = None
    for _ in range(30):
        loss = loss_fn(y, net(x))
        if first is None:
            opt.bind(net.parameters())
            first = loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first / 2
    assert [n for n, _ in net.named_parameters()] == [
        "fc1.kernel",
        "fc1.bias",
        "fc2.kernel",
        "fc2.bias",
    ]
