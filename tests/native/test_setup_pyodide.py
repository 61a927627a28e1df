"""The Pyodide toolchain: verified dist, test dist, and a corrupted cache that must fail."""

import json
import os
import shutil
import subprocess
import sys

import pytest


def lock(path):
    return json.loads((path / "pyodide-lock.json").read_text())


def test_dist_holds_verified_wheels_and_the_official_lock(setup_pyodide):
    dist = setup_pyodide.CACHE / "pyodide" / "dist"
    assert setup_pyodide.sha256(dist / "pyodide-lock.json") == setup_pyodide.LOCK_SHA256
    official = lock(dist)
    assert official["info"]["version"] == setup_pyodide.PYODIDE_VERSION == "0.27.7"
    for name in setup_pyodide.closure(official, setup_pyodide.PACKAGES):
        info = {setup_pyodide.normalize(k): v for k, v in official["packages"].items()}[name]
        assert setup_pyodide.sha256(dist / info["file_name"]) == info["sha256"], name
    assert not any(p.is_symlink() for p in dist.iterdir())


def test_test_dist_lists_pytest_with_recomputed_hashes(setup_pyodide):
    test_dist = setup_pyodide.CACHE / "pyodide" / "test-dist"
    test_lock = lock(test_dist)
    for name in ("pytest", "pluggy", "iniconfig", "tblib", "numpy", "micropip"):
        info = test_lock["packages"][name]
        assert setup_pyodide.sha256(test_dist / info["file_name"]) == info["sha256"], name
    assert set(test_lock["packages"]["pytest"]["depends"]) <= set(test_lock["packages"])
    assert not any(p.is_symlink() for p in test_dist.iterdir())


def test_closure_normalises_names(setup_pyodide):
    fake = {
        "packages": {"IPython": {"depends": ["prompt_toolkit"]}, "prompt-toolkit": {"depends": []}}
    }
    assert setup_pyodide.closure(fake, ["ipython"]) == ["ipython", "prompt-toolkit"]
    with pytest.raises(KeyError, match="'nope' is not in pyodide-lock.json"):
        setup_pyodide.closure(fake, ["nope"])


def test_corrupted_cached_wheel_fails_naming_file_and_both_hashes(setup_pyodide, tmp_path):
    """Acceptance: one changed byte in a cached wheel makes the setup fail (on a copy)."""
    shutil.copytree(setup_pyodide.CACHE / "pyodide" / "wheels", tmp_path / "pyodide" / "wheels")
    official = lock(setup_pyodide.CACHE / "pyodide" / "dist")["packages"]["micropip"]
    victim = tmp_path / "pyodide" / "wheels" / official["file_name"]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    actual = setup_pyodide.sha256(victim)

    env = {**os.environ, "WASMDL_CACHE": str(tmp_path), "WASMDL_NO_CDN": "1"}
    result = subprocess.run(
        [sys.executable, setup_pyodide.__file__, "--verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert str(victim) in result.stderr
    assert official["sha256"] in result.stderr and actual in result.stderr, result.stderr
