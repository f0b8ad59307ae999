"""Every `Function` subclass in tinygrad_edu.ops is reached by some registry entry.

The test runs each entry once (forward, and backward with create_graph=True so the
ops used by backward formulas count too), collects the op classes in the graphs, and
fails naming any op class no entry exercises.  A new op without a registry entry fails.
"""

import inspect

from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import op_inputs

import tinygrad_edu as tg

# Ops that need something a single-device run cannot give, with where they are tested.
NOT_IN_REGISTRY = {
    "ToDevice": "moves between two devices; tested in tests/test_devices.py",
}


def _all_op_classes():
    found = set()
    ops = tg.ops
    for module in (ops.elementwise, ops.reduce, ops.shape, ops.linalg, ops.nn):
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, tg.Function) and cls is not tg.Function:
                found.add(cls.__name__)
    return found


def _classes_in_graph(root, into):
    """Walk the nodes behind `root` along next_functions, noting each op class."""
    stack, seen = [root.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if isinstance(node, tg.Function):
            into.add(type(node).__name__)
        stack.extend(next_node for next_node, _ in node.next_functions)


def _reach(op, reached):
    """Run `op` on a few drawn inputs, adding the op classes in its graphs to `reached`."""

    @settings(max_examples=3, derandomize=True)
    @given(st.data())
    def run(data):
        tensors, params = data.draw(op_inputs(op, "cpu"))
        out = op.call(*tensors, **params)
        _classes_in_graph(out, reached)
        weight = tg.ones_like(out, requires_grad=True)  # so backward ops are recorded
        grads = tg.grad(out, tensors, weight, create_graph=True)
        for g in grads:
            _classes_in_graph(g, reached)

    run()


def test_every_op_class_is_reached_by_the_registry():
    reached = set()
    for op in tg.ops.REGISTRY:
        _reach(op, reached)
    missing = _all_op_classes() - reached - set(NOT_IN_REGISTRY)
    assert not missing, f"op classes with no registry entry reaching them: {sorted(missing)}"


def test_registry_names_are_unique():
    names = [op.name for op in tg.ops.REGISTRY]
    assert len(names) == len(set(names))
