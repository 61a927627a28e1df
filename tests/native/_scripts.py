"""Load a Python file that no package holds (scripts/*.py, the site's demo code) as a fresh
module, by its path: each call executes the file again, so a test may patch what it gets.

Example:
    from _scripts import ROOT, load, script
    merge = script("support_matrix")  # scripts/support_matrix.py
    demo = load(ROOT / "web" / "demos" / "mnist" / "mnist_demo.py")
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load(path: Path) -> ModuleType:
    """The module in the file at ``path``, named by the file's stem."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def script(name: str) -> ModuleType:
    """scripts/<name>.py as a module."""
    return load(ROOT / "scripts" / f"{name}.py")
