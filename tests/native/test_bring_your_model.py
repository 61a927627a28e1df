"""docs/BRING_YOUR_MODEL.md: every ```python block runs, in order, in one namespace, in a
temporary directory (with Keras 3 on its torch backend), and the page has one per Keras format."""

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "BRING_YOUR_MODEL.md"


def test_every_example_runs(tmp_path, monkeypatch):
    text = PAGE.read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
    assert len(blocks) >= 3, "expected examples for .keras read, .h5 read and .keras write"
    assert all(s in text for s in ('.save("classifier.keras")', '.save("sequence.h5")'))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "torch"))
    namespace = {"__name__": "bring_your_model"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"{PAGE.name} block {i + 1}", "exec"), namespace)
        except Exception as e:
            raise AssertionError(f"{PAGE.name}: block {i + 1} failed: {e!r}\n{block}") from e
    assert (tmp_path / "two_heads.keras").exists()
