"""wasmdl.applications: EfficientNet-Lite0 built from wasmdl layers against the PyTorch port
with the same ImageNet weights (``pretrained_ref``), the weights file (fetched, verified), and
Keras's frozen-BatchNormalization rule that fine-tuning relies on."""

import numpy as np
import pytest

import wasmdl
from wasmdl.applications import (
    WEIGHTS,
    EfficientNetLite0,
    MBConvBlock,
    decode_predictions,
    preprocess_input,
)
from wasmdl.datasets import files

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
import pretrained_ref as ref  # noqa: E402


@pytest.fixture(scope="module")
def net():
    ref.ensure_built()
    return EfficientNetLite0(weights="imagenet")


def test_top5_matches_pytorch_on_real_photos(net):
    pixels = np.stack([ref.photo(n) for n in ref.PHOTOS])
    want = ref.torch_probs(pixels)
    got = net.predict(preprocess_input(pixels))
    for i, name in enumerate(ref.PHOTOS):
        assert ref.top5(got[i])[0][0] == ref.TOP1[name]
        assert [c for c, _ in ref.top5(got[i])] == [c for c, _ in ref.top5(want[i])]
        np.testing.assert_allclose(got[i], want[i], atol=1e-5)
    decoded = decode_predictions(got, top=5)
    assert decoded[0][0][1] == "Egyptian cat" and decoded[1][0][1] == "espresso"
    assert [len(d) for d in decoded] == [5, 5]


def test_parameter_count_and_names():
    net = EfficientNetLite0(weights=None)
    trainable = sum(w.size for w in net.trainable_weights)
    torch_count = sum(p.numel() for p in ref.torch_net().parameters())
    assert trainable == torch_count == 4652008
    names = {n.rsplit(".", 1)[0] for n, _ in net.named_weights()}
    assert names == {k.rsplit(".", 1)[0] for k in ref.torch_net().state_dict()}


def test_include_top_false_loads_the_backbone(net):
    base = EfficientNetLite0(weights="imagenet", include_top=False, pooling="avg")
    x = preprocess_input(ref.photo("coffee")[None])
    assert base.predict(x).shape == (1, 1280)
    for (n, w), (m, v) in zip(base.named_weights(), net.named_weights(), strict=False):
        assert n == m and np.array_equal(w.numpy(), v.numpy())


def test_weights_file_is_verified(tmp_path, monkeypatch):
    name, sha = WEIGHTS["imagenet"]
    (tmp_path / name).write_bytes(b"not the weights")
    monkeypatch.setenv("WASMDL_MODELS", str(tmp_path))
    with pytest.raises(ValueError, match="sha256"):
        EfficientNetLite0(weights="imagenet")
    assert files.folders("models")[0] == tmp_path
    with pytest.raises(ValueError, match="kind"):
        files.get_file(name, sha, kind="weights")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="weights"):
        EfficientNetLite0(weights="imagenet21k")
    with pytest.raises(ValueError, match="classes"):
        EfficientNetLite0(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="3 channels"):
        preprocess_input(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="1000"):
        decode_predictions(np.zeros((1, 10)))


def test_mbconv_block_matches_torch():
    """One block with random weights and moving statistics, in inference mode."""
    from efficientnet_lite_pytorch.model import MBConvBlock as TorchBlock
    from efficientnet_lite_pytorch.utils import efficientnet_lite

    from wasmdl.io.torch_state import load_state_dict

    blocks_args, params = efficientnet_lite(1.0, 1.0, 20)
    args = blocks_args[2]._replace(input_filters=24, output_filters=24, stride=1)
    tb = TorchBlock(args, params, image_size=20).eval()
    with torch.no_grad():
        for m in tb.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-1, 1), m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5), m.bias.uniform_(-1, 1)
    block = MBConvBlock(24, 24, 5, 1, 6)
    x = np.random.default_rng(0).normal(size=(2, 20, 20, 24)).astype(np.float32)
    block(x[:1])
    load_state_dict(block, tb.state_dict())
    with torch.no_grad():
        want = tb(torch.from_numpy(x.transpose(0, 3, 1, 2).copy())).numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(block(x, training=False).numpy(), want, atol=2e-5, rtol=1e-4)


def test_frozen_batchnorm_runs_in_inference_mode_when_training():
    """Keras 3: a BatchNormalization with trainable=False normalises with its moving statistics
    and leaves them unchanged, even under training=True (fine-tuning a frozen backbone)."""
    bn = wasmdl.nn.BatchNormalization()
    x = np.random.default_rng(1).normal(3, 2, (16, 4)).astype(np.float32)
    bn(x, training=False)  # builds: moving mean 0, variance 1
    bn.trainable = False
    y = bn(x, training=True).numpy()
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    assert np.array_equal(bn.moving_mean.numpy(), np.zeros(4, np.float32))
    bn.trainable = True
    assert abs(bn(x, training=True).numpy().mean()) < 1e-5
    assert not np.array_equal(bn.moving_mean.numpy(), np.zeros(4, np.float32))


def synthetic_classes(n=8, size=64, seed=0):
    """Two classes of generated pictures, ``n`` each (uint8 RGB): warm horizontal stripes and
    cool vertical ones, with noise; labels 0 and 1 interleaved."""
    rng = np.random.default_rng(seed)
    t = np.arange(size) / size
    out = []
    for i in range(2 * n):
        k, phase = i % 2, rng.uniform(0, 6.3)
        wave = np.sin(2 * np.pi * 4 * t + phase)
        wave = wave[:, None] if k == 0 else wave[None, :]
        rgb = (0.8, 0.4, 0.2) if k == 0 else (0.2, 0.4, 0.8)
        img = 127 + 100 * wave[..., None] * np.array(rgb) + rng.normal(0, 20, (size, size, 3))
        out.append(np.clip(img, 0, 255).astype(np.uint8))
    return np.stack(out), np.arange(2 * n) % 2


def test_fine_tune_head_leaves_the_backbone_bit_identical(net):
    """The in-page fine-tuning recipe at 64x64: a frozen pretrained backbone, a new Dense head,
    fit; 100% training accuracy and every backbone weight (moving statistics too) unchanged."""
    wasmdl.manual_seed(0)
    base = EfficientNetLite0(
        weights="imagenet", include_top=False, pooling="avg", input_shape=(64, 64, 3)
    )
    base.trainable = False
    before = {n: w.numpy().copy() for n, w in base.named_weights()}
    model = wasmdl.Sequential([base, wasmdl.nn.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    pixels, y = synthetic_classes()
    history = model.fit(preprocess_input(pixels), y, epochs=20, batch_size=8, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    for n, w in base.named_weights():
        assert np.array_equal(w.numpy(), before[n]), n


def test_saved_fine_tuned_model_loads_back_frozen():
    base = EfficientNetLite0(
        weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3)
    )
    base.trainable = False
    model = wasmdl.Sequential([base, wasmdl.nn.Dense(2, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32)
    again = wasmdl.load_model(model.save())
    assert np.array_equal(again.predict(x), model.predict(x))
    assert [w.shape for w in again.trainable_weights] == [(1280, 2), (2,)]
