"""Imports run one way: each layer of the package imports only itself and the layers before it.

    backend -> autograd -> ops -> tensor -> (creation, functional, gradcheck, graph,
    serialization, data, datasets) -> walkthrough -> nn -> optim -> (registry, testing, jit)
    -> __init__

So a learner can read the files in that order, each on its own: the engine (autograd.py)
knows nothing of Tensor, the ops know only the engine, and the registry, which describes
how to test the public API, stands above that API.  docs/architecture.md draws it.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_edu"

LAYERS = [
    {"backend"},
    {"autograd"},
    {"ops"},
    {"tensor"},
    {"creation", "functional", "gradcheck", "graph", "serialization", "data", "datasets"},
    {"walkthrough"},
    {"nn"},
    {"optim"},
    {"registry", "testing", "jit"},
    {"__init__"},
]


def _layer(name):
    """The layer of a top-level part of the package ("ops" for ops/shape.py)."""
    for number, names in enumerate(LAYERS):
        if name in names:
            return number
    raise AssertionError(f"tinygrad_edu/{name} is in no layer of tests/test_architecture.py")


def _part(path):
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _imported_parts(path):
    """The top-level parts of the package that `path` imports (anywhere in the file,
    imports inside functions included), with the line of each import."""
    tree = ast.parse(path.read_text())
    depth = len(path.relative_to(PACKAGE).parts) - 1  # 0 for tinygrad_edu/x.py
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            up = node.level - 1  # levels above this file's own folder
            if up > depth:
                continue
            if up < depth:  # inside a subpackage: a sibling module stays in the same part
                found.append((_part(path), node.lineno))
                continue
            if node.module:
                found.append((node.module.split(".")[0], node.lineno))
            else:  # from . import a, b
                found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tinygrad_edu."):
                    found.append((alias.name.split(".")[1], node.lineno))
    return found


FILES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_file_imports_only_earlier_layers(path):
    own = _layer(_part(path))
    wrong = [
        f"line {line}: imports {name}"
        for name, line in _imported_parts(path)
        if name != _part(path) and _layer(name) > own
    ]
    assert not wrong, f"tinygrad_edu/{path.relative_to(PACKAGE)} " + "; ".join(wrong)


def test_the_check_finds_an_import_that_runs_backwards(tmp_path, monkeypatch):
    # autograd.py importing Tensor is exactly what the layering forbids
    bad = PACKAGE / "autograd.py"
    source = bad.read_text() + "\n\ndef _late():\n    from .tensor import Tensor\n"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    with pytest.raises(AssertionError, match="autograd.py line .*: imports tensor"):
        test_each_file_imports_only_earlier_layers(bad)
