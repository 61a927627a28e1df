"""The import contract of ``src/wasmdl``: dependencies point down, and nothing imports in a circle.

Every module is parsed with ``ast`` (nothing is imported), and every ``import`` statement counts,
at module level or inside a function: a function-level import that hides a circle is a circle.
An edge goes to the module named (``from .ops import shape`` -> ``wasmdl.ops.shape``; ``from .ops
import add`` -> ``wasmdl.ops``), not to the packages above it that Python runs first.

``LAYERS`` below is the contract, lowest layer first: a module may import its own layer and the
layers below it, never one above. So the device layer (backends, the WASM kernels, the JS glue)
never imports ``Tensor`` or ``ops``, and ``tensor``/``ops``/``autograd`` never import ``nn``,
``models``, ``optim``, ``training`` and the rest of the high-level API.

Example, what the parser sees in one module:

>>> sorted(imports_of("wasmdl.ops.conv"))[:2]
['wasmdl.dtypes', 'wasmdl.ops.core']
"""

import ast
from itertools import pairwise
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

# The layers, lowest first: (name, the modules in it; a package stands for all its modules).
LAYERS = [
    # program: a captured step as plain data, which a backend's compile(program) may read
    ("device", ["_version", "_js", "dtypes", "backend", "_wasm", "program"]),
    # tracing, rewrite, replay, capture: recording, rewriting and replaying steps (issue #13)
    (
        "tensor",
        ["autograd", "tensor", "creation", "ops", "tracing", "rewrite", "fusion", "replay"]
        + ["capture"],
    ),
    ("composites", ["functional", "activations", "initializers", "regularizers"]),
    (
        "api",
        ["nn", "models", "optim", "training", "losses", "metrics", "callbacks", "io", "datasets"]
        + ["data", "graph", "graph_config", "training_io", "validation"],
    ),
    # pretrained networks built from the API's layers, with their weights' loaders
    ("applications", ["applications"]),
    ("package", ["", "testing"]),  # "": wasmdl/__init__.py alone, the public re-exports
]


def _modules():
    """{dotted name: (path, is_package)} for every module under src/wasmdl."""
    out = {}
    for path in sorted((SRC / "wasmdl").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return out


MODULES = _modules()


def _targets(module, is_pkg, node):
    """The wasmdl modules one import statement names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    here = module.split(".") if is_pkg else module.split(".")[:-1]
    if node.level:
        base = here[: len(here) - node.level + 1]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]


def imports_of(module):
    """{imported wasmdl module: line numbers} of ``module``, module- and function-level."""
    path, is_pkg = MODULES[module]
    out = {}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for t in _targets(module, is_pkg, node):
                if t.split(".")[0] == "wasmdl" and t != module:
                    out.setdefault(t, []).append(node.lineno)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def layer_of(module):
    """(rank, layer name) of a wasmdl module: the longest matching entry of ``LAYERS``."""
    best = None
    for rank, (name, members) in enumerate(LAYERS):
        for member in members:
            full = "wasmdl" + (f".{member}" if member else "")
            if module == full or (member and module.startswith(full + ".")):
                if best is None or len(full) > best[0]:
                    best = (len(full), rank, name)
    assert best is not None, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return best[1], best[2]


def _edges():
    return {(a, b): lines for a, targets in GRAPH.items() for b, lines in targets.items()}


def _cycles(edges):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    succ = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(root):
        work = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(succ.get(w, ()))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return out


def _shortest_cycle(comp, edges):
    """One shortest circle through the first module of a component: ``[a, b, ..., a]``."""
    start, inside = comp[0], set(comp)
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for a, b in sorted(edges):
            if a != path[-1] or b not in inside:
                continue
            if b == start:
                return path + [start]
            if b not in seen:
                seen.add(b)
                paths.append(path + [b])
    return comp


def test_every_module_is_parsed_and_placed():
    assert {"wasmdl", "wasmdl.tensor", "wasmdl.ops.core", "wasmdl.backend.numpy"} <= set(MODULES)
    assert "wasmdl.backend.numpy_conv" in GRAPH["wasmdl.backend.numpy"]
    for m in MODULES:
        layer_of(m)


def test_no_import_circles():
    edges = _edges()
    found = []
    for comp in _cycles(edges):
        cycle = _shortest_cycle(comp, edges)
        steps = [f"{a} -> {b} (line {edges[a, b][0]})" for a, b in pairwise(cycle)]
        found.append(f"circle among {len(comp)} modules, e.g.: " + ", ".join(steps))
    assert not found, "\n".join(found)


def test_no_imports_from_a_higher_layer():
    bad = []
    for (a, b), lines in sorted(_edges().items()):
        (ra, la), (rb, lb) = layer_of(a), layer_of(b)
        if rb > ra:
            bad.append(f"{a} (layer {la}) imports {b} (layer {lb}) on line {lines[0]}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from . import ops\n", {"wasmdl.ops"}),
        ("def f():\n    from .ops import shape\n", {"wasmdl.ops.shape"}),
        ("from .ops import add\nimport numpy\n", {"wasmdl.ops"}),
    ],
)
def test_the_parser_sees_function_level_and_submodule_imports(source, expected):
    node_list = [
        n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import | ast.ImportFrom)
    ]
    got = {t for n in node_list for t in _targets("wasmdl.tensor", False, n)}
    assert {t for t in got if t.startswith("wasmdl")} == expected


def test_a_new_module_must_be_placed():
    assert layer_of("wasmdl") == (5, "package") and layer_of("wasmdl.ops.core") == (1, "tensor")
    with pytest.raises(AssertionError, match="wasmdl.newthing is in no layer"):
        layer_of("wasmdl.newthing")


def test_a_circle_is_found():
    edges = {("a", "b"): [1], ("b", "c"): [1], ("c", "a"): [1], ("c", "d"): [1], ("b", "a"): [1]}
    assert _cycles(edges) == [["a", "b", "c"]]
    assert _shortest_cycle(["a", "b", "c"], edges) == ["a", "b", "a"]
