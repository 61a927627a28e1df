"""The site's Python that also runs natively: the MNIST demo's preprocessing, training, save/load
(web/demos/mnist/mnist_demo.py) and the site build step (scripts/site_steps_web.py).

The browser side of the same code is covered by tests/chrome/test_site_*.py.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from _scripts import ROOT, load, script


@pytest.fixture(scope="module")
def demo():
    module = load(ROOT / "web" / "demos" / "mnist" / "mnist_demo.py")
    module.emit = lambda kind, **data: None  # no page to report to
    return module


def test_resize_area_is_the_block_mean_for_integer_factors(demo):
    rng = np.random.default_rng(0)
    image = rng.random((60, 40), dtype=np.float32)
    expected = image.reshape(20, 3, 10, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(demo.resize_area(image, 20, 10), expected, rtol=1e-5)


def test_to_mnist_frames_the_ink_like_mnist(demo):
    canvas = np.zeros((280, 280), np.float32)
    canvas[30:100, 200:230] = 1.0  # a bar drawn off-centre, 70 tall
    digit = demo.to_mnist(canvas)
    assert digit.shape == (28, 28) and digit.dtype == np.float32
    rows, cols = np.nonzero(digit > 0.05)
    assert rows.max() - rows.min() + 1 == 20  # the longer side scaled to 20 pixels
    mass = digit.sum()
    cy, cx = (np.indices(digit.shape) * digit).reshape(2, -1).sum(1) / mass
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5  # centre of mass at the centre
    assert digit.max() == 1.0
    assert not demo.to_mnist(np.zeros((280, 280))).any()  # an empty canvas stays empty


def test_train_predict_save_load(demo):
    report = asyncio.run(demo.train(epochs=1, limit=1000))
    assert report["epochs"] == 1 and 0.5 < report["test_accuracy"] <= 1.0, report
    (_, _), (x_test, y_test) = demo.load_data()
    big = np.kron(x_test[0], np.ones((10, 10), np.float32))  # a test digit as a 280x280 drawing
    pixels = (255 * big).astype(np.uint8).tobytes()
    before = demo.predict(pixels)
    assert len(before["probabilities"]) == 10
    assert abs(sum(before["probabilities"]) - 1) < 1e-4
    assert before["digit"] == int(np.argmax(before["probabilities"]))
    _, trained = demo.state["model"].evaluate(x_test, y_test, batch_size=500)  # all 2,000
    loaded = demo.load(demo.save())
    assert loaded["test_accuracy"] == trained
    np.testing.assert_allclose(demo.predict(pixels)["probabilities"], before["probabilities"])


def test_site_step_writes_pages_vendor_and_config(tmp_path):
    steps = script("site_steps_web")
    written = steps.build(tmp_path, docs=False)
    assert "repl/" in written and (tmp_path / "demos" / "mnist" / "mnist_demo.py").exists()
    assert (tmp_path / "vendor" / "jquery.terminal" / "js" / "jquery.terminal.min.js").exists()
    assert (tmp_path / "vendor" / "jquery" / "LICENSE.txt").exists()
    assert 'pyodide: "pyodide/"' in (tmp_path / "assets" / "config.js").read_text()
    steps.build(tmp_path, docs=False, pyodide_cdn=True)
    assert steps.PYODIDE_CDN in (tmp_path / "assets" / "config.js").read_text()
