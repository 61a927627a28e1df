"""Saves that cannot lose a model: a write failing midway (disk full), an exception in the
writer, or the process killed while saving leaves the previous file in place and loadable."""

import errno
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import wasmdl
from wasmdl.io import atomic


def _model(seed):
    model = wasmdl.Sequential([wasmdl.nn.Dense(8, input_shape=(4,)), wasmdl.nn.Dense(2)])
    model.set_weights([np.full(w.shape, seed, np.float32) for w in model.get_weights()])
    return model


class FailingFile:
    """A file object that accepts ``budget`` bytes, then fails like a full disk."""

    def __init__(self, f, budget):
        self.f, self.budget = f, budget

    def write(self, data):
        if len(data) > self.budget:
            self.f.write(bytes(data[: self.budget]))
            self.budget = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.budget -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()
        return False


X = np.ones((3, 4), np.float32)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.5, 0.99])
@pytest.mark.parametrize("how", ["save", "save_weights", "checkpoint"])
def test_a_save_failing_after_n_bytes_keeps_the_old_file(tmp_path, monkeypatch, how, fraction):
    path = tmp_path / "model.wasmdl"
    old, new = _model(1), _model(2)
    old.save(path) if how != "save_weights" else old.save_weights(path)
    before = path.read_bytes()
    budget = int(len(before) * fraction)
    monkeypatch.setattr(
        atomic, "_fdopen", lambda fd, mode: FailingFile(os.fdopen(fd, mode), budget)
    )
    with pytest.raises(OSError, match="No space left"):
        if how == "save":
            new.save(path)
        elif how == "save_weights":
            new.save_weights(path)
        else:
            new.compile("sgd", "mse")
            ckpt = wasmdl.callbacks.ModelCheckpoint(str(path), monitor="loss")
            new.fit(X, np.zeros((3, 2), np.float32), epochs=1, verbose=0, callbacks=[ckpt])
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.wasmdl"]  # the temporary file is gone
    if how == "save_weights":
        fresh = _model(3)
        fresh.load_weights(path)
        np.testing.assert_array_equal(fresh.predict(X), old.predict(X))
    else:
        np.testing.assert_array_equal(wasmdl.load_model(path).predict(X), old.predict(X))


def test_a_writer_raising_keeps_the_old_file_and_success_replaces_it(tmp_path):
    path = tmp_path / "f.bin"
    atomic.atomic_write(path, b"old")

    def writer(f):
        f.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic.atomic_write(path, writer)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.bin"]
    atomic.atomic_write(str(path), b"new")
    assert path.read_bytes() == b"new"


def test_a_process_killed_while_saving_leaves_the_old_model(tmp_path):
    path = tmp_path / "model.wasmdl"
    old = _model(1)
    old.save(path)
    script = textwrap.dedent(
        f"""
        import os, signal, numpy as np, wasmdl
        from wasmdl.io import atomic

        class Killer:
            def __init__(self, f):
                self.f = f
            def write(self, data):
                self.f.write(bytes(data[:100])); self.f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            def __getattr__(self, name):
                return getattr(self.f, name)
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                return False

        atomic._fdopen = lambda fd, mode: Killer(os.fdopen(fd, mode))
        model = wasmdl.Sequential([wasmdl.nn.Dense(8, input_shape=(4,)), wasmdl.nn.Dense(2)])
        model.save({str(path)!r})
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    np.testing.assert_array_equal(wasmdl.load_model(path).predict(X), old.predict(X))
    leftovers = [n for n in os.listdir(tmp_path) if n != "model.wasmdl"]
    assert all(n.startswith(".model.wasmdl.") and n.endswith(".tmp") for n in leftovers)
