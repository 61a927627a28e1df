"""Site build step for the pretrained networks (``build_site.run_steps`` calls ``build``).

Publishes ``web/models/`` (EfficientNet-Lite0's weights, its ONNX export for ONNX Runtime Web,
the photos; built once by ``scripts/build_pretrained.py``, which this step runs when a file is
missing) as ``site/models/``: ``wasmdl.applications`` fetches the weights from
``<origin>/models/`` on first use (``wasmdl.datasets.files``, ``kind="models"``).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "web" / "models"


def _module(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(site_dir) -> None:
    pretrained = _module("build_pretrained")
    wanted = [pretrained.ONNX_NAME, *pretrained.PHOTOS]
    if not all((MODELS / n).is_file() for n in wanted) or not list(MODELS.glob("*.safetensors")):
        pretrained.main()
    out = Path(site_dir) / "models"
    out.mkdir(parents=True, exist_ok=True)
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    from build_site import link_or_copy

    for path in sorted(MODELS.iterdir()):
        if path.is_file():
            link_or_copy(path, out / path.name)
