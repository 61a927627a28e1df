"""Build Keras 3 models (torch backend), save them as .keras and .h5, and record predictions.

Run as a script in its own process (``KERAS_BACKEND=torch python make_keras_models.py OUT``):
writes ``OUT/<name>.keras``, ``OUT/<name>.h5`` and ``OUT/<name>.npz`` (inputs ``x0, x1, ...``
and Keras' outputs ``y0, y1, ...``). Used by the native and Chromium Keras tests.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers as L  # noqa: E402


def mlp():
    m = keras.Sequential(
        [
            keras.Input((8,)),
            L.Dense(16, activation="relu"),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ]
    )
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m, [np.random.default_rng(1).normal(size=(5, 8))]


def cnn():
    m = keras.Sequential(
        [
            keras.Input((12, 12, 3)),
            L.Conv2D(8, 3, padding="same", activation="relu"),
            L.BatchNormalization(),
            L.MaxPooling2D(2),
            L.Conv2D(6, 3, strides=2),
            L.BatchNormalization(momentum=0.9, epsilon=1e-5),
            L.Activation("relu"),
            L.Flatten(),
            L.Dense(4),
        ]
    )
    m.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(2)
    for layer in m.layers:  # non-trivial moving statistics
        if isinstance(layer, L.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(size=n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, size=n).astype("float32"))
    return m, [rng.normal(size=(4, 12, 12, 3))]


def rnn():
    m = keras.Sequential(
        [keras.Input((7, 5)), L.LSTM(6, return_sequences=True), L.GRU(4), L.Dense(2)]
    )
    m.compile(optimizer="rmsprop", loss="mae")
    return m, [np.random.default_rng(3).normal(size=(3, 7, 5))]


def two_in_two_out():
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    shared = L.Dense(5, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    y1 = L.Dense(1, name="y1")(L.Concatenate()([sa, sb]))
    y2 = L.Dense(3, activation="softmax", name="y2")(L.Add()([sa, sb]))
    m = keras.Model([a, b], [y1, y2])
    m.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"], loss_weights=[1.0, 0.5])
    rng = np.random.default_rng(4)
    return m, [rng.normal(size=(4, 6)), rng.normal(size=(4, 6))]


def more_layers():
    x = keras.Input((10, 4), name="seq")
    ids = keras.Input((10,), dtype="int32", name="ids")
    img = keras.Input((6, 6, 2), name="img")
    h = L.LayerNormalization()(L.Add()([x, L.Embedding(20, 4)(ids)]))
    h = L.MultiHeadAttention(num_heads=2, key_dim=3)(h, h)
    c = L.MaxPooling1D(2)(L.Conv1D(5, 3, padding="causal")(h))
    r = L.Bidirectional(L.SimpleRNN(3))(c)
    q = L.GlobalAveragePooling1D()(L.Permute((2, 1))(c))
    d = L.DepthwiseConv2D(2, padding="same", depth_multiplier=2)(L.ZeroPadding2D(1)(img))
    s = L.UpSampling2D(2)(L.SeparableConv2D(3, 2)(d))
    t = L.AveragePooling2D(2)(L.Conv2DTranspose(2, 2, strides=2)(s))
    p = L.GlobalMaxPooling2D()(t)
    out = L.Dense(3)(L.Concatenate()([r, p, q, L.Flatten()(L.Reshape((5, 1))(q))]))
    m = keras.Model([x, ids, img], out)
    rng = np.random.default_rng(5)
    xs = [
        rng.normal(size=(2, 10, 4)),
        rng.integers(0, 20, size=(2, 10)),
        rng.normal(size=(2, 6, 6, 2)),
    ]
    return m, xs


MODELS = {"mlp": mlp, "cnn": cnn, "rnn": rnn, "two_in_two_out": two_in_two_out}
EXTRA = {"more_layers": more_layers}


def main(out):
    keras.utils.set_random_seed(0)
    for name, make in {**MODELS, **EXTRA}.items():
        model, xs = make()
        xs = [x.astype("float32") if x.dtype.kind == "f" else x.astype("int32") for x in xs]
        ys = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        ys = ys if isinstance(ys, list) else [ys]
        model.save(os.path.join(out, f"{name}.keras"))
        model.save(os.path.join(out, f"{name}.h5"))
        arrays = {f"x{i}": x for i, x in enumerate(xs)}
        arrays.update({f"y{i}": np.asarray(y) for i, y in enumerate(ys)})
        np.savez(os.path.join(out, f"{name}.npz"), **arrays)


if __name__ == "__main__":
    main(sys.argv[1])
