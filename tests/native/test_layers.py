"""Layers against PyTorch: forward output, input gradient and every weight gradient, with
wasmdl's weights copied into the torch module (see torch_compare.check_layer)."""

import numpy as np
import pytest
import torch
from torch_compare import Fn, check_layer, rand

import wasmdl
from wasmdl import nn

T = torch.nn
HWIO = (3, 2, 0, 1)  # Keras conv kernel (kh, kw, in, out) -> torch (out, in, kh, kw)
DENSE = {"kernel": ("weight", (1, 0)), "bias": ("bias", None)}


def conv_map(prefix="", perm=HWIO):
    return {"kernel": (prefix + "weight", perm), "bias": (prefix + "bias", None)}


def test_dense_with_activation_and_3d_input():
    check_layer(
        nn.Dense(6, activation="tanh"),
        T.Sequential(T.Linear(5, 6), T.Tanh()),
        rand(2, 3, 5),
        {"kernel": ("0.weight", (1, 0)), "bias": ("0.bias", None)},
    )


CONV2D = [
    (dict(filters=4, kernel_size=3), T.Conv2d(3, 4, 3), ""),
    (
        dict(filters=4, kernel_size=(3, 2), padding="same"),
        T.Conv2d(3, 4, (3, 2), padding="same"),
        "",
    ),
    (
        dict(filters=5, kernel_size=3, strides=2, padding="same"),
        T.Sequential(T.ZeroPad2d((0, 1, 0, 1)), T.Conv2d(3, 5, 3, stride=2)),
        "1.",
    ),  # TF pads at end
    (dict(filters=2, kernel_size=3, dilation_rate=2), T.Conv2d(3, 2, 3, dilation=2), ""),
]


@pytest.mark.parametrize(("kw", "module", "prefix"), CONV2D)
def test_conv2d(kw, module, prefix):
    check_layer(nn.Conv2D(**kw), module, rand(2, 8, 8, 3), conv_map(prefix), nchw=True)


def test_conv1d_same_and_causal():
    x = rand(2, 9, 3)
    check_layer(
        nn.Conv1D(4, 3, padding="same"),
        T.Conv1d(3, 4, 3, padding="same"),
        x,
        conv_map(perm=(2, 1, 0)),
        nchw=True,
    )
    causal = T.Sequential(T.ConstantPad1d((4, 0), 0.0), T.Conv1d(3, 4, 3, dilation=2))
    check_layer(
        nn.Conv1D(4, 3, padding="causal", dilation_rate=2),
        causal,
        x,
        conv_map("1.", (2, 1, 0)),
        nchw=True,
    )


def _dw_to_torch(k):  # (kh, kw, c, m) -> (c*m, 1, kh, kw)
    kh, kw, c, m = k.shape
    return k.reshape(kh, kw, c * m).transpose(2, 0, 1)[:, None]


def _dw_from_torch(shape):
    return lambda g: g[:, 0].transpose(1, 2, 0).reshape(shape)


def test_depthwise_conv2d():
    layer = nn.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    module = T.Conv2d(3, 6, 3, padding="same", groups=3)
    weights = {
        "kernel": ("weight", _dw_to_torch, _dw_from_torch((3, 3, 3, 2))),
        "bias": ("bias", None),
    }
    check_layer(layer, module, rand(2, 7, 7, 3), weights, nchw=True)


def test_separable_conv2d():
    layer = nn.SeparableConv2D(5, 3, depth_multiplier=2, activation="relu")
    module = T.Sequential(T.Conv2d(3, 6, 3, groups=3, bias=False), T.Conv2d(6, 5, 1), T.ReLU())
    weights = {
        "depthwise_kernel": ("0.weight", _dw_to_torch, _dw_from_torch((3, 3, 3, 2))),
        "pointwise_kernel": ("1.weight", HWIO),
        "bias": ("1.bias", None),
    }
    check_layer(layer, module, rand(2, 7, 7, 3), weights, nchw=True)


TRANSPOSE = [  # (kernel, stride, padding, torch padding)
    (3, 1, "valid", 0),
    (3, 2, "valid", 0),
    (4, 2, "same", 1),
    (3, 1, "same", 1),
    (2, 3, "valid", 0),
]


@pytest.mark.parametrize(("k", "s", "pad", "tpad"), TRANSPOSE)
def test_conv2d_transpose(k, s, pad, tpad):
    layer = nn.Conv2DTranspose(4, k, strides=s, padding=pad)
    module = T.ConvTranspose2d(3, 4, k, stride=s, padding=tpad)
    out = check_layer(layer, module, rand(2, 5, 5, 3), conv_map(), nchw=True)
    assert out.shape[1] == (5 * s if pad == "same" else (5 - 1) * s + k)


POOLS = [
    (nn.MaxPool2D(2), T.MaxPool2d(2)),
    (nn.MaxPool2D(3, strides=2), T.MaxPool2d(3, stride=2)),
    (nn.AvgPool2D(2), T.AvgPool2d(2)),
    (nn.AvgPool2D((2, 3), strides=(1, 2)), T.AvgPool2d((2, 3), stride=(1, 2))),
    (nn.GlobalAvgPool2D(), T.Sequential(T.AdaptiveAvgPool2d(1), T.Flatten())),
    (nn.GlobalMaxPool2D(), T.Sequential(T.AdaptiveMaxPool2d(1), T.Flatten())),
]


@pytest.mark.parametrize(("layer", "module"), POOLS, ids=lambda v: type(v).__name__)
def test_pooling_2d(layer, module):
    check_layer(layer, module, rand(2, 7, 8, 3), {}, nchw=True)


@pytest.mark.parametrize(
    ("layer", "module"),
    [
        (nn.MaxPool1D(2), T.MaxPool1d(2)),
        (nn.AvgPool1D(3, strides=2), T.AvgPool1d(3, stride=2)),
        (nn.GlobalAvgPool1D(), Fn(lambda x: x.mean(-1))),
        (nn.GlobalMaxPool1D(), Fn(lambda x: x.amax(-1))),
    ],
    ids=lambda v: type(v).__name__,
)
def test_pooling_1d(layer, module):
    check_layer(layer, module, rand(2, 9, 3), {}, nchw=True)


def test_flatten_reshape_permute():
    x = rand(2, 3, 4, 5)
    check_layer(nn.Flatten(), T.Flatten(), x, {})
    check_layer(nn.Reshape((12, 5)), Fn(lambda t: t.reshape(2, 12, 5)), x, {})
    check_layer(nn.Permute((3, 1, 2)), Fn(lambda t: t.permute(0, 3, 1, 2)), x, {})


def test_batch_normalization_training_and_inference():
    x = rand(8, 5, 5, 3, scale=2.0) + 1.0
    bn = nn.BatchNormalization(momentum=0.9)
    tbn = T.BatchNorm2d(3, eps=1e-3, momentum=0.1)
    weights = {
        "gamma": ("weight", None),
        "beta": ("bias", None),
        "moving_mean": ("running_mean", None),
        "moving_variance": ("running_var", None),
    }
    bn(x, training=False)  # build
    with wasmdl.no_grad():  # non-trivial affine weights
        bn.gamma.assign(wasmdl.tensor(rand(3, seed=1)))
        bn.beta.assign(wasmdl.tensor(rand(3, seed=2)))
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    check_layer(bn, tbn, x, weights, nchw=True, training=True)
    # check_layer ran two training calls: moving = 0.9**2 * init + batch * (1 - 0.9**2)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean * 0.19, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.81 + var * 0.19, rtol=1e-5)
    check_layer(bn, tbn, x, weights, nchw=True, training=False)  # moving stats copied over


def test_batch_normalization_dense_and_layer_normalization():
    x = rand(6, 4, scale=3.0)
    check_layer(
        nn.BatchNormalization(),
        T.BatchNorm1d(4, eps=1e-3),
        x,
        {
            "gamma": ("weight", None),
            "beta": ("bias", None),
            "moving_mean": ("running_mean", None),
            "moving_variance": ("running_var", None),
        },
        training=True,
    )
    x3 = rand(2, 3, 8)
    check_layer(
        nn.LayerNormalization(),
        T.LayerNorm(8, eps=1e-3),
        x3,
        {"gamma": ("weight", None), "beta": ("bias", None)},
    )


def test_dropout_modes_and_scaling():
    layer = nn.Dropout(0.25, seed=3)
    x = np.ones((200, 50), np.float32)
    assert layer(x, training=False).numpy() is not None
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    xt = wasmdl.tensor(x, requires_grad=True)
    y = layer(xt, training=True)
    kept = y.numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), y.numpy())  # gradient is the same mask


ACTIVATIONS = {
    "relu": torch.relu,
    "relu6": T.functional.relu6,
    "elu": T.functional.elu,
    "selu": torch.selu,
    "gelu": T.functional.gelu,
    "mish": T.functional.mish,
    "swish": T.functional.silu,
    "silu": T.functional.silu,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": T.functional.hardsigmoid,
    "softplus": T.functional.softplus,
    "softsign": T.functional.softsign,
    "tanh": torch.tanh,
    "softmax": lambda x: torch.softmax(x, -1),
    "log_softmax": lambda x: torch.log_softmax(x, -1),
    "linear": lambda x: x,
    "leaky_relu": lambda x: T.functional.leaky_relu(x, 0.2),
    "exponential": torch.exp,
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_layer(name):
    x = rand(4, 7, scale=3.0)
    x[0, :3] = [0.5, -0.5, 2.0]
    check_layer(nn.Activation(name), Fn(ACTIVATIONS[name]), x, {})


MERGES = [
    (nn.Add(), lambda a, b, c: a + b + c),
    (nn.Multiply(), lambda a, b, c: a * b * c),
    (nn.Average(), lambda a, b, c: (a + b + c) / 3),
    (nn.Maximum(), lambda a, b, c: torch.maximum(torch.maximum(a, b), c)),
    (nn.Concatenate(), lambda a, b, c: torch.cat([a, b, c], -1)),
    (nn.Concatenate(axis=1), lambda a, b, c: torch.cat([a, b, c], 1)),
]


@pytest.mark.parametrize(("layer", "fn"), MERGES, ids=lambda v: type(v).__name__)
def test_merge_layers(layer, fn):
    check_layer(layer, Fn(fn), [rand(3, 4, seed=i) for i in range(3)], {})


def test_subtract():
    check_layer(nn.Subtract(), Fn(lambda a, b: a - b), [rand(3, 4), rand(3, 4, seed=1)], {})


def test_zero_padding_and_upsampling():
    x = rand(2, 4, 5, 3)
    check_layer(nn.ZeroPadding2D(((1, 2), (0, 3))), T.ZeroPad2d((0, 3, 1, 2)), x, {}, nchw=True)
    check_layer(nn.UpSampling2D((2, 3)), T.Upsample(scale_factor=(2, 3)), x, {}, nchw=True)
    x1 = rand(2, 4, 3)
    check_layer(nn.UpSampling1D(2), T.Upsample(scale_factor=2), x1, {}, nchw=True)
    check_layer(nn.ZeroPadding1D((2, 1)), T.ConstantPad1d((2, 1), 0.0), x1, {}, nchw=True)


def test_invalid_arguments_name_layer_argument_and_value():
    with pytest.raises(ValueError, match=r"Dense: expected units to be a positive int, .*units=-1"):
        nn.Dense(-1)
    with pytest.raises(ValueError, match="Conv2D: expected padding in"):
        nn.Conv2D(3, 3, padding="full")
    with pytest.raises(ValueError, match="Dropout: expected 0 <= rate < 1, received rate=1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="activations.get: expected one of"):
        nn.Dense(3, activation="relu7")
