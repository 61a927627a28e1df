"""The runnable examples in the docstrings of the high-level API (layers, models, training,
losses, metrics, callbacks, optimizers, io, data, datasets) run and print what they show."""

import doctest
import importlib

import pytest

MODULES = """
wasmdl.models wasmdl.training wasmdl.losses wasmdl.metrics wasmdl.callbacks wasmdl.data
wasmdl.initializers wasmdl.regularizers wasmdl.activations wasmdl.nn wasmdl.nn.base
wasmdl.nn.core wasmdl.nn.conv wasmdl.nn.pooling wasmdl.nn.norm wasmdl.nn.recurrent
wasmdl.nn.attention wasmdl.nn.merge wasmdl.nn.reshaping wasmdl.nn.serialize wasmdl.optim
wasmdl.optim.optimizer wasmdl.optim.sgd wasmdl.optim.adam wasmdl.optim.schedules wasmdl.io
wasmdl.io.format wasmdl.datasets wasmdl.datasets.mnist
""".split()


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
