"""Initializers (distributions and Keras' fan rule), and every layer's get_config round trip."""

import json
import math

import numpy as np
import pytest

import wasmdl
from wasmdl import initializers, nn
from wasmdl.nn.serialize import deserialize_layer, serialize_layer

SHAPE = (3, 3, 64, 128)  # a conv kernel: receptive field 9, fan_in 576, fan_out 1152
FAN_IN, FAN_OUT = 9 * 64, 9 * 128


@pytest.mark.parametrize(
    ("name", "std"),
    [
        ("glorot_uniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("glorot_normal", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("he_uniform", math.sqrt(2 / FAN_IN)),
        ("he_normal", math.sqrt(2 / FAN_IN)),
        ("lecun_uniform", math.sqrt(1 / FAN_IN)),
        ("lecun_normal", math.sqrt(1 / FAN_IN)),
    ],
)
def test_variance_scaling_family(name, std):
    wasmdl.manual_seed(0)
    w = initializers.get(name)(SHAPE)
    assert w.dtype == np.float32 and w.shape == SHAPE
    assert abs(w.mean()) < 0.05 * std
    assert w.std() == pytest.approx(std, rel=0.02)
    bound = math.sqrt(3) * std if name.endswith("uniform") else 2 * std / 0.8796256610342398
    assert np.abs(w).max() <= bound * (1 + 1e-6)  # uniform limit, or the 2-sigma truncation


def test_constant_orthogonal_and_seeding():
    assert not initializers.get("zeros")((3, 2)).any()
    np.testing.assert_array_equal(initializers.get("ones")((2,)), [1.0, 1.0])
    for shape in [(6, 4), (4, 6), (3, 2, 5)]:
        q = initializers.get("orthogonal")(shape).astype(np.float64).reshape(-1, shape[-1])
        small = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
        np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-6)
    wasmdl.manual_seed(5)
    a = initializers.get("he_normal")((4, 4))
    wasmdl.manual_seed(5)
    np.testing.assert_array_equal(a, initializers.get("he_normal")((4, 4)))
    spec = {"class_name": "random_normal", "config": {"mean": 1.0, "stddev": 0.0}}
    np.testing.assert_array_equal(initializers.get(spec)((2,)), [1.0, 1.0])
    with pytest.raises(ValueError, match="initializers.get: expected one of"):
        initializers.get("glorot")


LAYERS = [
    nn.Dense(3, activation="relu", kernel_regularizer="l2", kernel_initializer="he_normal"),
    nn.Conv1D(2, 3, padding="causal", dilation_rate=2),
    nn.Conv2D(4, (3, 2), strides=2),
    nn.DepthwiseConv2D(3, depth_multiplier=2),
    nn.SeparableConv2D(3, 3),
    nn.Conv2DTranspose(2, 3, strides=2, padding="same"),
    nn.MaxPool2D(3, strides=1),
    nn.AvgPool1D(2),
    nn.GlobalAvgPool2D(keepdims=True),
    nn.Flatten(),
    nn.Reshape((2, -1)),
    nn.Permute((2, 1)),
    nn.Dropout(0.2, seed=1),
    nn.BatchNormalization(momentum=0.9),
    nn.LayerNormalization(epsilon=1e-5),
    nn.Embedding(10, 4),
    nn.SimpleRNN(3, return_sequences=True),
    nn.LSTM(3, go_backwards=True),
    nn.GRU(2, return_state=True),
    nn.Bidirectional(nn.LSTM(2), merge_mode="sum"),
    nn.MultiHeadAttention(2, 4, value_dim=3, output_shape=5),
    nn.Activation("gelu"),
    nn.Add(),
    nn.Concatenate(axis=1),
    nn.ZeroPadding2D(((1, 0), (2, 3))),
    nn.UpSampling2D(3),
    nn.UpSampling1D(2),
    nn.ZeroPadding1D(2),
    nn.Dense(
        2,
        kernel_initializer=initializers.VarianceScaling(2.0, "fan_out", "uniform"),
        bias_regularizer=wasmdl.regularizers.l1_l2(l1=0.1, l2=0.2),
    ),
]


@pytest.mark.parametrize("layer", LAYERS, ids=lambda layer: type(layer).__name__)
def test_get_config_round_trip(layer):
    spec = serialize_layer(layer)
    again = deserialize_layer(spec)
    assert type(again) is type(layer)
    assert serialize_layer(again) == spec
    assert json.loads(json.dumps(spec)) == spec  # plain JSON


def test_unsavable_config_is_reported():
    layer = nn.Dense(2, activation=lambda x: x)
    with pytest.raises(ValueError, match="activations.serialize: .* is not a named activation"):
        serialize_layer(layer)
