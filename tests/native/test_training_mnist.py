"""The issue's recipes natively (scripts/mnist_recipes.py): the MLP trained with wasmdl and with
PyTorch from the same initial weights, and the LSTM adding problem. The CNN recipe takes minutes
on 2 cores natively, so it runs in tier 2 (tests/pyodide/test_training.py, same wasmdl code)
and, with PyTorch alongside, in ``python scripts/mnist_recipes.py cnn``.
"""

import mnist_recipes  # scripts/ is on sys.path (tests/conftest.py)


def test_mlp_784_128_10_matches_pytorch(capsys):
    r = mnist_recipes.mlp()
    with capsys.disabled():
        print(
            f"\nMLP 784-128-10: wasmdl {r['wasmdl']:.4f} ({r['wasmdl_seconds']:.1f} s), "
            f"torch {r['torch']:.4f}"
        )
    assert r["wasmdl"] >= 0.92
    assert abs(r["wasmdl"] - r["torch"]) <= 0.015


def test_lstm_adding_problem(capsys):
    r = mnist_recipes.lstm()
    with capsys.disabled():
        print(f"\nLSTM adding problem: test MSE {r['test_mse']:.5f} ({r['wasmdl_seconds']:.1f} s)")
    assert r["test_mse"] < 0.01  # predicting the mean scores 1/6
