"""Bad input at the model and layer boundary, one row a case: shapes, dtypes, empties, labels,
lengths, batch sizes, compile and fit arguments, layer arguments, model files. Each row asserts
the error's type and that its message names the layer or the argument (and what was received);
rows where Keras accepts the input assert Keras' result instead."""

import json
import struct

import numpy as np
import pytest

import wasmdl
from wasmdl import nn
from wasmdl.io import ModelFileError
from wasmdl.nn.spec import LOAD_LIMITS

RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 8)).astype(np.float32)
Y = np.array([0, 1, 2, 0, 1, 2])
Y1H = np.eye(3, dtype=np.float32)[Y]


def mlp(loss="sparse_categorical_crossentropy", metrics=None, optimizer="sgd"):
    model = wasmdl.Sequential(
        [nn.Dense(4, input_shape=(8,), name="dense_in"), nn.Dense(3, name="dense_out")]
    )
    if loss is not None:
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model


def fit(**kw):
    kw.setdefault("x", X)
    kw.setdefault("y", Y)
    return mlp().fit(verbose=0, **kw)


def layer_on(layer, *shapes, dtype=np.float32):
    return layer(*[np.ones(s, dtype) for s in shapes])


def built_then(layer, first, second):
    layer_on(layer, first)
    return layer_on(layer, second)


def named(name, layer):
    layer.name = name
    return layer


def model_file(config, tensors=None):
    return wasmdl.io.format.write_bytes(config, tensors or {})


def seq_file(layers, shape, tensors=None):
    config = {"model": {"class_name": "Sequential", "config": {"layers": layers}}}
    return model_file({**config, "build_input_shape": shape}, tensors)


def with_limit(key, value, fn):
    old = LOAD_LIMITS[key]
    LOAD_LIMITS[key] = value
    try:
        return fn()
    finally:
        LOAD_LIMITS[key] = old


def retyped_weight():
    config, tensors = wasmdl.io.format.read_bytes(mlp(None).save())
    tensors["layers.0.bias"] = tensors["layers.0.bias"].view(np.int32)
    return wasmdl.load_model(wasmdl.io.format.write_bytes(config, tensors))


def hacked_header(mutate):
    blob = mlp(None).save()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    mutate(header)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return wasmdl.load_model(struct.pack("<Q", len(text)) + text + blob[8 + n :])


def dense_spec(**config):
    return {"class_name": "Dense", "config": {"units": 2, **config}}


def conv_spec(**config):
    return {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3, **config}}


def _mha_features():
    mha = named("a3", nn.MultiHeadAttention(2, 3))
    x = np.ones((2, 4, 4), np.float32)
    mha(x, x)
    return mha(x, np.ones((2, 4, 5), np.float32))


def _nan_lr_fit():
    model = mlp()
    model.optimizer = wasmdl.optim.SGD(model.parameters(), lr=0.1)
    model.optimizer.lr = float("nan")
    model.fit(X, Y, verbose=0)


D = nn.Dense
V = ValueError
T = TypeError

# (id, call, exception, [substrings the message must contain])
ERRORS = [
    # ---------------------------------------------------------------- shapes at layer inputs
    ("dense-features", lambda: mlp().predict(X[:, :7]), V,
     ['layer "dense_in"', "axis -1", "8 features", "(None, 7)"]),
    ("dense-features-fit", lambda: fit(x=X[:, :5]), V, ['layer "dense_in"', "(None, 5)"]),
    ("dense-features-evaluate", lambda: mlp().evaluate(np.ones((6, 9)), Y), V,
     ['layer "dense_in"', "(None, 9)"]),
    ("dense-features-train-on-batch", lambda: mlp().train_on_batch(X[:, :4], Y), V,
     ['layer "dense_in"', "(None, 4)"]),
    ("dense-rank-1", lambda: named("d1", D(3))(np.ones(4, np.float32)), V,
     ['layer "d1"', "min_ndim=2", "ndim=1"]),
    ("dense-built-features", lambda: built_then(named("d2", D(3)), (2, 4), (2, 5)), V,
     ['layer "d2"', "4 features", "(None, 5)"]),
    ("dense-3d-features", lambda: built_then(named("d3", D(3)), (2, 5, 4), (2, 5, 6)), V,
     ['layer "d3"', "(None, 5, 6)"]),
    ("conv2d-rank", lambda: layer_on(named("c1", nn.Conv2D(2, 3)), (1, 5, 5)), V,
     ['layer "c1"', "ndim=4", "found ndim=3"]),
    ("conv2d-channels", lambda: built_then(named("c2", nn.Conv2D(2, 3)), (1, 5, 5, 3),
                                           (1, 5, 5, 2)), V, ['layer "c2"', "3 features"]),
    ("conv2d-small", lambda: layer_on(named("c3", nn.Conv2D(2, 5)), (1, 3, 3, 1)), V,
     ['layer "c3"', "conv2d", "window"]),
    ("conv1d-rank", lambda: layer_on(named("c4", nn.Conv1D(2, 3)), (1, 5, 5, 1)), V,
     ['layer "c4"', "ndim=3", "found ndim=4"]),
    ("depthwise-rank", lambda: layer_on(named("c5", nn.DepthwiseConv2D(3)), (5, 5, 1)), V,
     ['layer "c5"', "ndim=4"]),
    ("separable-channels", lambda: built_then(named("c6", nn.SeparableConv2D(2, 3)),
                                              (1, 5, 5, 2), (1, 5, 5, 4)), V, ['layer "c6"']),
    ("transpose-rank", lambda: layer_on(named("c7", nn.Conv2DTranspose(2, 3)), (1, 5, 5)), V,
     ['layer "c7"', "ndim=4"]),
    ("lstm-rank", lambda: layer_on(named("r1", nn.LSTM(3)), (2, 4)), V,
     ['layer "r1"', "ndim=3", "found ndim=2"]),
    ("lstm-features", lambda: built_then(named("r2", nn.LSTM(3)), (2, 5, 4), (2, 5, 3)), V,
     ['layer "r2"', "4 features", "(None, 5, 3)"]),
    ("lstm-zero-steps", lambda: layer_on(named("r3", nn.LSTM(3)), (2, 0, 4)), V,
     ['layer "r3"', "at least one step", "(2, 0, 4)"]),
    ("gru-rank", lambda: layer_on(named("r4", nn.GRU(3)), (2, 3, 4, 1)), V, ['layer "r4"']),
    ("simplernn-zero-steps", lambda: layer_on(named("r5", nn.SimpleRNN(3)), (1, 0, 2)), V,
     ['layer "r5"', "step"]),
    ("bidirectional-rank", lambda: layer_on(named("r6", nn.Bidirectional(nn.LSTM(2))), (2, 3)),
     V, ['layer "r6"', "ndim=3"]),
    ("maxpool2d-rank", lambda: layer_on(named("p1", nn.MaxPool2D()), (4, 4, 1)), V,
     ['layer "p1"', "ndim=4"]),
    ("avgpool1d-rank", lambda: layer_on(named("p2", nn.AvgPool1D()), (1, 4, 4, 1)), V,
     ['layer "p2"', "ndim=3"]),
    ("globalavg2d-rank", lambda: layer_on(named("p3", nn.GlobalAvgPool2D()), (4, 4, 1)), V,
     ['layer "p3"', "ndim=4"]),
    ("globalmax1d-rank", lambda: layer_on(named("p4", nn.GlobalMaxPool1D()), (4, 1)), V,
     ['layer "p4"', "ndim=3"]),
    ("maxpool-window", lambda: layer_on(named("p5", nn.MaxPool2D(4)), (1, 2, 2, 1)), V,
     ['layer "p5"']),
    ("bn-axis-out-of-range", lambda: layer_on(named("b1", nn.BatchNormalization(axis=5)),
                                              (4, 3)), V, ["BatchNormalization", "axis=5"]),
    ("bn-features", lambda: built_then(named("b2", nn.BatchNormalization()), (4, 3), (4, 2)),
     V, ['layer "b2"', "3 features"]),
    ("bn-axis-batch", lambda: layer_on(nn.BatchNormalization(axis=0), (4, 3)), V,
     ["BatchNormalization", "non-batch", "axis=0"]),
    ("ln-axis-out-of-range", lambda: layer_on(nn.LayerNormalization(axis=3), (4, 3)), V,
     ["LayerNormalization", "axis=3"]),
    ("ln-rank", lambda: layer_on(named("b3", nn.LayerNormalization()), (4,)), V,
     ['layer "b3"', "min_ndim=2"]),
    ("mha-rank", lambda: layer_on(named("a1", nn.MultiHeadAttention(2, 3)), (2, 4), (2, 4)),
     V, ['layer "a1"', "ndim=3"]),
    ("mha-value-rank", lambda: layer_on(named("a2", nn.MultiHeadAttention(2, 3)), (2, 4, 4),
                                        (2, 4)), V, ['Input 1 of layer "a2"', "ndim=3"]),
    ("mha-features", _mha_features, V, ['layer "a3"', "4 features", "(None, 4, 5)"]),
    ("zeropad2d-rank", lambda: layer_on(named("z1", nn.ZeroPadding2D()), (4, 4)), V,
     ['layer "z1"', "ndim=4"]),
    ("zeropad1d-rank", lambda: layer_on(named("z2", nn.ZeroPadding1D()), (4, 4)), V,
     ['layer "z2"', "ndim=3"]),
    ("upsampling2d-rank", lambda: layer_on(named("z3", nn.UpSampling2D()), (4, 4, 4)), V,
     ['layer "z3"', "ndim=4"]),
    ("upsampling1d-rank", lambda: layer_on(named("z4", nn.UpSampling1D()), (4, 4, 4, 1)), V,
     ['layer "z4"', "ndim=3"]),
    ("reshape-size", lambda: layer_on(named("s1", nn.Reshape((5,))), (2, 4)), V,
     ['layer "s1"', "reshape"]),
    ("permute-rank", lambda: layer_on(named("s2", nn.Permute((2, 1))), (2, 3, 4, 5)), V,
     ['layer "s2"', "permute"]),
    ("concat-shapes", lambda: named("m1", nn.Concatenate())([np.ones((2, 3)), np.ones((3, 3))]),
     V, ['layer "m1"', "concat"]),
    ("add-shapes", lambda: named("m2", nn.Add())([np.ones((2, 3)), np.ones((2, 4))]), V,
     ['layer "m2"', "add"]),
    ("add-one-input", lambda: named("m3", nn.Add())([np.ones((2, 3))]), V,
     ['layer "m3"', "at least 2"]),
    ("subtract-three", lambda: named("m4", nn.Subtract())([np.ones((2, 3))] * 3), V,
     ['layer "m4"', "exactly 2"]),
    ("embedding-minus-one", lambda: named("e1", nn.Embedding(5, 2))(np.array([[0, -1]])), V,
     ['layer "e1"', "[0, 5)", "received -1 at flat index 1"]),
    ("embedding-too-big", lambda: named("e2", nn.Embedding(5, 2))(np.array([[5]])), V,
     ['layer "e2"', "[0, 5)", "received 5"]),
    ("embedding-fraction", lambda: named("e3", nn.Embedding(5, 2))(np.array([[1.5]])), V,
     ['layer "e3"', "1.5"]),
    ("empty-sequential", lambda: wasmdl.Sequential().predict(X), V,
     ["Sequential", "at least one layer"]),
    # ---------------------------------------------------------------- fit / evaluate arrays
    ("fit-x-none", lambda: fit(x=None), T, ["fit", "'x'", "None"]),
    ("fit-y-none", lambda: fit(y=None), T, ["fit", "'y'", "None"]),
    ("fit-x-strings", lambda: fit(x=np.full((6, 8), "a")), T, ["fit", "'x'", "<U1"]),
    ("fit-x-objects", lambda: fit(x=np.array([object()] * 6)), T, ["fit", "'x'", "object"]),
    ("fit-x-complex", lambda: fit(x=X.astype(np.complex64)), T, ["fit", "'x'", "complex64"]),
    ("fit-x-scalar", lambda: fit(x=np.float32(1)), V, ["fit", "'x'", "scalar"]),
    ("fit-x-empty", lambda: fit(x=X[:0], y=Y[:0]), V, ["fit", "'x'", "at least one", "(0, 8)"]),
    ("fit-y-empty", lambda: fit(y=Y[:0]), V, ["fit", "'y'", "at least one"]),
    ("fit-lengths", lambda: fit(y=Y[:5]), V, ["fit", "'y'", "6 samples", "5"]),
    ("fit-ragged", lambda: fit(x=[[1, 2], [3]]), V, ["fit", "'x'", "equal-length"]),
    ("fit-int64-overflow-x", lambda: fit(x=np.full((6, 8), 2**40)), V,
     ["fit", "'x'", "int32", str(2**40)]),
    ("fit-int64-overflow-y", lambda: fit(y=np.array([0, 1, 2**40, 0, 1, 2])), V,
     ["fit", "'y'", "int32", str(2**40), "index 2"]),
    ("fit-label-too-big", lambda: fit(y=np.array([0, 1, 2, 3, 1, 2])), V,
     ["sparse_categorical_crossentropy", "'y_true'", "[0, 3)", "received 3"]),
    ("fit-label-negative", lambda: fit(y=np.array([0, -1, 2, 0, 1, 2]), shuffle=False), V,
     ["'y_true'", "[0, 3)", "-1 at index 1"]),
    ("fit-label-fraction", lambda: fit(y=np.array([0, 1.5, 2, 0, 1, 2]), shuffle=False), V,
     ["'y_true'", "1.5 at index 1"]),
    ("fit-label-nan", lambda: fit(y=np.array([0, np.nan, 2, 0, 1, 2]), shuffle=False), V,
     ["'y_true'", "nan"]),
    ("fit-int-labels-categorical", lambda: mlp("categorical_crossentropy").fit(X, Y, verbose=0),
     V, ["categorical_crossentropy", "'y_true'", "sparse_categorical_crossentropy", "(6,)"]),
    ("fit-int-column-categorical",
     lambda: mlp("categorical_crossentropy").fit(X, Y[:, None], verbose=0), V,
     ["sparse_categorical_crossentropy", "(6, 1)"]),
    ("fit-onehot-width", lambda: mlp("categorical_crossentropy").fit(X, Y1H[:, :2], verbose=0),
     V, ["categorical_crossentropy", "'y_true'", "(6, 3)", "(6, 2)"]),
    ("fit-not-compiled", lambda: mlp(None).fit(X, Y), RuntimeError, ["fit", "compile"]),
    ("evaluate-not-compiled", lambda: mlp(None).evaluate(X, Y), RuntimeError, ["evaluate"]),
    ("evaluate-all-labels-invalid", lambda: mlp().evaluate(X, Y + 10), V,
     ["'y_true'", "[0, 3)", "received 10 at index 0"]),
    ("evaluate-empty", lambda: mlp().evaluate(X[:0], Y[:0]), V, ["evaluate", "'x'", "(0, 8)"]),
    ("evaluate-none", lambda: mlp().evaluate(None, Y), T, ["evaluate", "'x'", "None"]),
    ("evaluate-lengths", lambda: mlp().evaluate(X, Y[:3]), V, ["evaluate", "'y'", "3"]),
    ("evaluate-batch-0", lambda: mlp().evaluate(X, Y, batch_size=0), V,
     ["evaluate", "'batch_size'", "received 0"]),
    ("evaluate-strings", lambda: mlp().evaluate(X, np.array(["a"] * 6)), T,
     ["evaluate", "'y'", "<U1"]),
    ("evaluate-overflow", lambda: mlp().evaluate(X, np.full(6, 2**33)), V,
     ["evaluate", "'y'", "int32"]),
    ("train-on-batch-none", lambda: mlp().train_on_batch(None, Y), T, ["train_on_batch", "'x'"]),
    ("train-on-batch-lengths", lambda: mlp().train_on_batch(X, Y[:2]), V,
     ["train_on_batch", "'y'", "6 samples"]),
    ("train-on-batch-labels", lambda: mlp().train_on_batch(X, Y * 5), V,
     ["'y_true'", "[0, 3)"]),
    ("train-on-batch-empty", lambda: mlp().train_on_batch(X[:0], Y[:0]), V,
     ["train_on_batch", "'x'"]),
    ("predict-none", lambda: mlp().predict(None), T, ["predict", "'x'", "None"]),
    ("predict-empty", lambda: mlp().predict(X[:0]), V, ["predict", "'x'", "(0, 8)"]),
    ("predict-strings", lambda: mlp().predict(np.full((2, 8), "x")), T, ["predict", "'x'"]),
    ("predict-scalar", lambda: mlp().predict(3.0), V, ["predict", "'x'", "scalar"]),
    ("predict-batch-0", lambda: mlp().predict(X, batch_size=0), V,
     ["predict", "'batch_size'", "0"]),
    ("predict-batch-float", lambda: mlp().predict(X, batch_size=2.5), T,
     ["predict", "'batch_size'", "2.5"]),
    ("predict-batch-bool", lambda: mlp().predict(X, batch_size=True), T,
     ["predict", "'batch_size'", "True"]),
    ("predict-overflow", lambda: mlp().predict(np.full((2, 8), -(2**35))), V,
     ["predict", "'x'", "int32"]),
    # ---------------------------------------------------------------- fit arguments
    ("fit-batch-0", lambda: fit(batch_size=0), V, ["fit", "'batch_size'", "received 0"]),
    ("fit-batch-negative", lambda: fit(batch_size=-4), V, ["fit", "'batch_size'", "-4"]),
    ("fit-batch-float", lambda: fit(batch_size=8.0), T, ["fit", "'batch_size'", "8.0"]),
    ("fit-batch-string", lambda: fit(batch_size="32"), T, ["fit", "'batch_size'", "'32'"]),
    ("fit-batch-bool", lambda: fit(batch_size=True), T, ["fit", "'batch_size'", "True"]),
    ("fit-epochs-negative", lambda: fit(epochs=-1), V, ["fit", "'epochs'", "-1"]),
    ("fit-epochs-float", lambda: fit(epochs=1.5), T, ["fit", "'epochs'", "1.5"]),
    ("fit-initial-epoch", lambda: fit(initial_epoch=-2), V, ["fit", "'initial_epoch'", "-2"]),
    ("fit-split-one", lambda: fit(validation_split=1.0), V,
     ["fit", "'validation_split'", "[0, 1)", "1.0"]),
    ("fit-split-big", lambda: fit(validation_split=1.5), V, ["fit", "'validation_split'", "1.5"]),
    ("fit-split-negative", lambda: fit(validation_split=-0.5), V,
     ["fit", "'validation_split'", "-0.5"]),
    ("fit-split-nan", lambda: fit(validation_split=float("nan")), V,
     ["fit", "'validation_split'", "nan"]),
    ("fit-split-string", lambda: fit(validation_split="0.2"), V,
     ["fit", "'validation_split'", "'0.2'"]),
    ("fit-split-empty-train", lambda: fit(x=X[:1], y=Y[:1], validation_split=0.5), V,
     ["fit", "'validation_split'", "both training and validation"]),
    ("fit-split-empty-val", lambda: fit(x=X[:1], y=Y[:1], validation_split=0.1), V,
     ["fit", "'validation_split'", "0.1 of 1 samples"]),
    ("fit-validation-data-one", lambda: fit(validation_data=(X,)), V,
     ["fit", "'validation_data'", "(x_val, y_val)"]),
    ("fit-validation-data-lengths", lambda: fit(validation_data=(X, Y[:2])), V,
     ["fit", "'y'", "6 samples"]),
    ("fit-validation-data-array", lambda: fit(validation_data=X), V,
     ["fit", "'validation_data'"]),
    ("fit-sample-weight-shape", lambda: fit(sample_weight=np.ones(5)), V,
     ["fit", "'sample_weight'", "(6,)", "(5,)"]),
    ("fit-sample-weight-negative", lambda: fit(sample_weight=-np.ones(6)), V,
     ["fit", "'sample_weight'", ">= 0"]),
    ("fit-sample-weight-nan", lambda: fit(sample_weight=np.full(6, np.nan)), V,
     ["fit", "'sample_weight'", "finite"]),
    ("fit-class-weight-list", lambda: fit(class_weight=[1.0, 2.0]), V,
     ["fit", "'class_weight'", "dict"]),
    ("fit-class-weight-key", lambda: fit(class_weight={"a": 1.0}), T, ["fit", "'class_weight'"]),
    ("fit-class-weight-negative", lambda: fit(class_weight={0: -1.0}), V,
     ["fit", "'sample_weight'", ">= 0"]),
    ("fit-unknown-kwarg", lambda: fit(bogus=1), T, ["bogus"]),
    ("fit-callbacks-single", lambda: fit(callbacks=wasmdl.callbacks.TerminateOnNaN()), T,
     ["fit", "'callbacks'", "a list", "TerminateOnNaN"]),
    ("fit-callbacks-strings", lambda: fit(callbacks=["early_stopping"]), T,
     ["fit", "'callbacks'", "'early_stopping'"]),
    # ---------------------------------------------------------------- compile arguments
    ("compile-loss-unknown", lambda: mlp("nope"), V, ["losses.get", "'nope'"]),
    ("compile-loss-int", lambda: mlp(5), T, ["compile", "'loss'", "5"]),
    ("compile-optimizer-unknown", lambda: mlp(optimizer="sgdx"), V,
     ["compile", "'optimizer'", "'sgdx'"]),
    ("compile-optimizer-int", lambda: mlp(optimizer=3), V, ["compile", "'optimizer'", "3"]),
    ("compile-lr-nan", lambda: mlp(optimizer=wasmdl.optim.SGD(None, lr=float("nan"))), V,
     ["compile", "'optimizer'", "lr=nan"]),
    ("compile-lr-inf", lambda: mlp(optimizer=wasmdl.optim.Adam(None, lr=float("inf"))), V,
     ["compile", "'optimizer'", "lr=inf"]),
    ("compile-lr-negative", lambda: mlp(optimizer=wasmdl.optim.SGD(None, lr=-0.1)), V,
     ["SGD", "lr", "-0.1"]),
    ("compile-metrics-unknown", lambda: mlp(metrics="accuracyy"), V,
     ["metrics.get", "'accuracyy'"]),
    ("compile-metrics-int", lambda: mlp(metrics=5), V, ["compile", "'metrics'", "5"]),
    ("compile-metrics-dict", lambda: mlp(metrics={"out": "accuracy"}), V,
     ["compile", "'metrics'"]),
    ("compile-metrics-list-item", lambda: mlp(metrics=["mae", 7]), V, ["metrics.get", "7"]),
    ("lr-set-nan-before-fit", lambda: _nan_lr_fit(), V, ["fit", "'optimizer'", "lr=nan"]),
    # ---------------------------------------------------------------- layer arguments
    ("dense-units-0", lambda: D(0), V, ["Dense", "units", "0"]),
    ("dense-units-negative", lambda: D(-1), V, ["Dense", "units=-1"]),
    ("dense-units-float", lambda: D(2.5), V, ["Dense", "units=2.5"]),
    ("dense-units-string", lambda: D("3"), V, ["Dense", "units='3'"]),
    ("dense-units-bool", lambda: D(True), V, ["Dense", "units=True"]),
    ("dense-activation", lambda: D(3, activation="nope"), V, ["activations.get", "'nope'"]),
    ("dense-activation-list", lambda: D(3, activation=["relu"]), V, ["activations.get"]),
    ("dense-initializer", lambda: layer_on(D(3, kernel_initializer="nope"), (2, 2)), V,
     ["initializers.get"]),
    ("dense-regularizer", lambda: layer_on(D(3, kernel_regularizer="l3"), (2, 2)), V,
     ["regularizers.get"]),
    ("dense-name", lambda: D(3, name=5), V, ["Dense", "name", "5"]),
    ("dense-dtype", lambda: D(3, dtype="int8"), V, ["Dense", "dtype", "'int8'"]),
    ("dense-input-shape-0", lambda: D(3, input_shape=(0,)), V, ["Dense", "input_shape", "(0,)"]),
    ("dense-input-shape-neg", lambda: D(3, input_shape=(-1,)), V, ["Dense", "input_shape"]),
    ("dense-input-shape-int", lambda: D(3, input_shape=4), V, ["Dense", "input_shape=4"]),
    ("dense-unknown-kwarg", lambda: D(3, bogus=1), T, ["Dense", "bogus"]),
    ("conv-filters-0", lambda: nn.Conv2D(0, 3), V, ["Conv2D", "filters"]),
    ("conv-kernel-0", lambda: nn.Conv2D(2, 0), V, ["Conv2D", "kernel_size"]),
    ("conv-kernel-short", lambda: nn.Conv2D(2, (3,)), V, ["Conv2D", "kernel_size", "(3,)"]),
    ("conv-kernel-nested", lambda: nn.Conv2D(2, [[1]]), V, ["Conv2D", "kernel_size", "[[1]]"]),
    ("conv-strides-0", lambda: nn.Conv2D(2, 3, strides=0), V, ["Conv2D", "strides"]),
    ("conv-padding", lambda: nn.Conv2D(2, 3, padding="full"), V, ["Conv2D", "padding", "full"]),
    ("conv-dilation-0", lambda: nn.Conv2D(2, 3, dilation_rate=0), V, ["dilation_rate"]),
    ("conv1d-padding", lambda: nn.Conv1D(2, 3, padding="reflect"), V, ["Conv1D", "padding"]),
    ("transpose-dilation", lambda: nn.Conv2DTranspose(2, 3, dilation_rate=2), V,
     ["Conv2DTranspose", "dilation_rate"]),
    ("depthwise-multiplier", lambda: nn.DepthwiseConv2D(3, depth_multiplier=0), V,
     ["DepthwiseConv2D", "depth_multiplier"]),
    ("separable-multiplier", lambda: nn.SeparableConv2D(2, 3, depth_multiplier=-1), V,
     ["SeparableConv2D", "depth_multiplier"]),
    ("dropout-rate-big", lambda: nn.Dropout(1.5), V, ["Dropout", "rate=1.5"]),
    ("dropout-rate-negative", lambda: nn.Dropout(-0.1), V, ["Dropout", "rate=-0.1"]),
    ("lstm-units-0", lambda: nn.LSTM(0), V, ["LSTM", "units"]),
    ("gru-units-negative", lambda: nn.GRU(-1), V, ["GRU", "units"]),
    ("simplernn-units-string", lambda: nn.SimpleRNN("a"), V, ["SimpleRNN", "units"]),
    ("bidirectional-dense", lambda: nn.Bidirectional(D(3)), T, ["Bidirectional", "Dense"]),
    ("bidirectional-merge", lambda: nn.Bidirectional(nn.LSTM(3), merge_mode="x"), V,
     ["Bidirectional", "merge_mode", "'x'"]),
    ("bidirectional-state", lambda: nn.Bidirectional(nn.LSTM(3, return_state=True)), V,
     ["Bidirectional", "return_state"]),
    ("bn-momentum", lambda: nn.BatchNormalization(momentum=2), V,
     ["BatchNormalization", "momentum", "2"]),
    ("mha-heads", lambda: nn.MultiHeadAttention(0, 3), V, ["MultiHeadAttention", "num_heads"]),
    ("mha-key-dim", lambda: nn.MultiHeadAttention(2, 0), V, ["MultiHeadAttention", "key_dim"]),
    ("mha-dropout", lambda: nn.MultiHeadAttention(2, 3, dropout=1.0), V,
     ["MultiHeadAttention", "dropout"]),
    ("pool-size-0", lambda: nn.MaxPool2D(0), V, ["MaxPool2D", "pool_size"]),
    ("pool-padding", lambda: nn.AvgPool2D(2, padding="full"), V, ["AvgPool2D", "padding"]),
    ("zeropad-negative", lambda: nn.ZeroPadding2D(-1), V, ["ZeroPadding2D", "padding=-1"]),
    ("upsampling-0", lambda: nn.UpSampling2D(0), V, ["UpSampling2D", "size"]),
    ("upsampling-bilinear", lambda: nn.UpSampling2D(2, interpolation="bilinear"), V,
     ["UpSampling2D", "interpolation", "bilinear"]),
    ("embedding-input-dim", lambda: nn.Embedding(0, 3), V, ["Embedding", "input_dim"]),
    ("embedding-output-dim", lambda: nn.Embedding(3, -2), V, ["Embedding", "output_dim"]),
    ("permute-dims", lambda: nn.Permute((1, 3)), V, ["Permute", "(1, 3)"]),
    ("activation-unknown", lambda: nn.Activation("nope"), V, ["activations.get", "'nope'"]),
    ("sequential-add-array", lambda: wasmdl.Sequential().add(np.ones(3)), T,
     ["Sequential.add", "ndarray"]),
    ("early-stopping-mode", lambda: wasmdl.callbacks.EarlyStopping(mode="up"), V,
     ["mode", "'up'"]),
    ("reduce-lr-factor", lambda: wasmdl.callbacks.ReduceLROnPlateau(factor=2), V,
     ["ReduceLROnPlateau", "factor"]),
    # ---------------------------------------------------------------- model files
    ("file-too-many-layers",
     lambda: wasmdl.load_model(seq_file([{"class_name": "Activation",
                                          "config": {"activation": "relu"}}] * 5000, [[None, 2]])),
     ModelFileError, ["5001 layers", "limit", "'layers'"]),
    ("file-params-limit",
     lambda: with_limit("params", 10, lambda: wasmdl.load_model(mlp(None).save())),
     ModelFileError, ["weight values", "limit of 10", "'params'"]),
    ("file-values-limit",
     lambda: wasmdl.load_model(seq_file([{"class_name": "UpSampling2D",
                                          "config": {"size": [10**4, 10**4]}}],
                                        [[None, 28, 28, 1]])),
     ModelFileError, ['layer "', "UpSampling2D", "'values'"]),
    ("file-dim-limit",
     lambda: with_limit("dim", 100, lambda: wasmdl.load_model(
         seq_file([{"class_name": "Flatten", "config": {}}], [[None, 20, 20]]))),
     ModelFileError, ["Flatten", "'dim'"]),
    ("file-declared-shape", lambda: wasmdl.load_model(seq_file([], [[None, 10**9, 10**9]])),
     ModelFileError, ["build", "input shapes"]),
    ("file-kernel-nested",
     lambda: wasmdl.load_model(seq_file([conv_spec(kernel_size=[[1]])], [[None, 8, 8, 1]])),
     ModelFileError, ["(Conv2D)", "kernel_size", "[[1]]"]),
    ("file-conv-window",
     lambda: wasmdl.load_model(seq_file([conv_spec(kernel_size=5)], [[None, 3, 3, 1]])),
     ModelFileError, ["(Conv2D)", "window", "(None, 3, 3, 1)"]),
    ("file-dense-units",
     lambda: wasmdl.load_model(seq_file([dense_spec(units=[3])], [[None, 4]])),
     ModelFileError, ["(Dense)", "units"]),
    ("file-top-level-layer",
     lambda: wasmdl.load_model(model_file({"model": dense_spec(), "build_input_shape": None})),
     ModelFileError, ["top-level", "model", "Dense"]),
    ("file-abstract-model",
     lambda: wasmdl.load_model(model_file({"model": {"class_name": "Model", "config": {}}})),
     ModelFileError, ["unknown layer class", "'Model'"]),
    ("file-private-base",
     lambda: wasmdl.load_model(seq_file([{"class_name": "_Conv", "config": {}}], None)),
     ModelFileError, ["unknown layer class", "'_Conv'"]),
    ("file-class-name-list",
     lambda: wasmdl.load_model(seq_file([{"class_name": ["Dense"], "config": {}}], None)),
     ModelFileError, ["class_name", "['Dense']"]),
    ("file-dtype-list",
     lambda: hacked_header(lambda h: h["layers.0.bias"].update(dtype=["F32"])),
     ModelFileError, ["layers.0.bias", "dtype", "['F32']"]),
    ("file-dtype-mismatch", retyped_weight, ModelFileError,
     ["layers.0.bias", "int32", "float32"]),
    ("file-shape-string",
     lambda: hacked_header(lambda h: h["layers.0.bias"].update(shape="4")),
     ModelFileError, ["layers.0.bias", "shape", "'4'"]),
    ("file-lstm-steps",
     lambda: wasmdl.load_model(seq_file([{"class_name": "LSTM", "config": {"units": 2}}],
                                        [[None, 10**7, 4]])),
     ModelFileError, ["build", "input shapes"]),
    ("file-reshape",
     lambda: wasmdl.load_model(seq_file([{"class_name": "Reshape",
                                          "config": {"target_shape": [7]}}], [[None, 4]])),
     ModelFileError, ["(Reshape)", "cannot reshape 4"]),
    ("file-not-wasmdl", lambda: wasmdl.load_model(b"\x00" * 16), ModelFileError,
     ["load_model", "header"]),
]  # fmt: skip


@pytest.mark.parametrize("call, exc, parts", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_input_raises_naming_the_layer_or_argument(call, exc, parts):
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    missing = [p for p in parts if p not in msg]
    assert not missing, f"message {msg!r} lacks {missing}"


def _history(**kw):
    return fit(**kw).history


# Inputs Keras accepts, with Keras' result: (id, call, check of the result)
ACCEPTED = [
    ("batch-size-none", lambda: _history(batch_size=None, epochs=2), lambda h: len(h["loss"]) == 2),
    ("batch-size-numpy", lambda: _history(batch_size=np.int64(4)), lambda h: len(h["loss"]) == 1),
    ("epochs-numpy", lambda: _history(epochs=np.int32(3)), lambda h: len(h["loss"]) == 3),
    ("epochs-zero", lambda: _history(epochs=0), lambda h: h == {}),
    ("metrics-string", lambda: mlp(metrics="accuracy").fit(X, Y, verbose=0).history,
     lambda h: sorted(h) == ["accuracy", "loss"]),
    ("metrics-tuple",
     lambda: mlp(metrics=("accuracy", "sparse_categorical_accuracy")).fit(X, Y, verbose=0).history,
     lambda h: sorted(h) == ["accuracy", "loss", "sparse_categorical_accuracy"]),
    ("dense-units-numpy", lambda: D(np.int64(3)).units, lambda u: u == 3 and type(u) is int),
    ("conv-filters-numpy", lambda: nn.Conv2D(np.int32(2), 3).filters, lambda f: f == 2),
    ("conv-kernel-numpy", lambda: nn.Conv2D(2, np.int64(3), strides=(np.int8(2), 1)),
     lambda c: c.kernel_size == (3, 3) and c.strides == (2, 1)),
    ("pool-numpy", lambda: nn.MaxPool2D(np.int64(2)).pool_size, lambda p: p == (2, 2)),
    ("predict-batch-none", lambda: mlp().predict(X, batch_size=None), lambda p: p.shape == (6, 3)),
    ("predict-batch-numpy", lambda: mlp().predict(X, batch_size=np.int16(2)),
     lambda p: p.shape == (6, 3)),
    ("evaluate-batch-none", lambda: mlp().evaluate(X, Y, batch_size=None),
     lambda v: np.isfinite(v)),
    ("x-nested-lists", lambda: mlp().predict(X.tolist()), lambda p: p.shape == (6, 3)),
    ("x-bool", lambda: mlp().predict(X > 0), lambda p: p.shape == (6, 3)),
    ("x-int64-small", lambda: mlp().predict(np.ones((2, 8), np.int64)),
     lambda p: p.shape == (2, 3)),
    ("y-list", lambda: _history(y=Y.tolist()), lambda h: np.isfinite(h["loss"][0])),
    ("y-float-integral", lambda: _history(y=Y.astype(np.float32)), lambda h: len(h["loss"]) == 1),
    ("y-column", lambda: _history(y=Y[:, None]), lambda h: len(h["loss"]) == 1),
    ("split-zero", lambda: _history(validation_split=0.0), lambda h: "val_loss" not in h),
    ("split-half", lambda: _history(validation_split=0.5), lambda h: "val_loss" in h),
    ("lr-zero", lambda: mlp(optimizer=wasmdl.optim.SGD(None, lr=0.0)).train_on_batch(X, Y),
     lambda v: np.isfinite(v)),
]  # fmt: skip


@pytest.mark.parametrize("call, check", [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_input_keras_accepts_gives_keras_result(call, check):
    assert check(call())


def test_the_table_has_at_least_150_rows():
    assert len(ERRORS) + len(ACCEPTED) >= 150
