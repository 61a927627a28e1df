"""Weight regularizers (Keras): penalties added to the training loss by ``fit``.

Example:
    >>> import wasmdl
    >>> reg = wasmdl.regularizers.get({"class_name": "l1_l2", "config": {"l1": 0.1, "l2": 0.5}})
    >>> round(float(reg(wasmdl.tensor([1.0, -2.0]))), 4)
    2.8
"""

from __future__ import annotations


class Regularizer:
    """``l1 * sum(|w|) + l2 * sum(w**2)``; ``L1``/``L2`` set one of them."""

    name = "l1_l2"

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"{type(self).__name__}: expected l1, l2 >= 0, received {l1}, {l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * abs(w).sum()
        if self.l2:
            penalty = penalty + self.l2 * (w * w).sum()
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    name = "l1"

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    name = "l2"

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


REGISTRY = {"l1": L1, "l2": L2, "l1_l2": Regularizer}


def get(identifier) -> Regularizer:
    """A regularizer from a name (``"l2"``), a ``{"class_name", "config"}`` dict, or an instance."""
    if isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config", {})
    else:
        name, config = identifier, {}
    if not isinstance(name, str) or name not in REGISTRY or not isinstance(config, dict):
        raise ValueError(
            f"regularizers.get: expected one of {sorted(REGISTRY)} (or a {{'class_name', "
            f"'config': dict}} dict), received {identifier!r:.200}"
        )
    return REGISTRY[name](**config)


def serialize(reg) -> dict | None:
    if reg is None:
        return None
    if not isinstance(reg, Regularizer):
        raise ValueError(f"regularizers.serialize: cannot save custom regularizer {reg!r}")
    return {"class_name": reg.name, "config": reg.get_config()}


l1, l2, l1_l2 = L1, L2, Regularizer
