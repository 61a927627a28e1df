"""Runs every Python example of docs/BRING_YOUR_MODEL.md's section '## PyTorch, ONNX and
TensorFlow.js' as written, in a fresh directory (their assertions compare with the other tool)."""

import os
import re

import pytest

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "BRING_YOUR_MODEL.md")
HEADING = "## PyTorch, ONNX and TensorFlow.js"


def _examples():
    text = open(DOC, encoding="utf-8").read()
    section = text.split(HEADING, 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_section_has_an_example_per_format():
    blocks = _examples()
    for module in ("safetensors", "onnx", "tfjs"):
        assert any(f"from wasmdl.io import {module}" in b for b in blocks), module


@pytest.mark.parametrize("i", range(len(_examples())))
def test_example_runs(i, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("safetensors")
    monkeypatch.chdir(tmp_path)
    exec(compile(_examples()[i], f"BRING_YOUR_MODEL.md example {i + 1}", "exec"), {})
