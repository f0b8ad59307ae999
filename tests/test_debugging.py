"""The debugger's path from `loss.backward()` to the chain rule stays three frames long.

STYLE.md promises learners that stepping into `loss.backward()` reaches each op's math in
three frames: `Tensor.backward` -> `autograd.backward` -> e.g. `Tanh.backward`.  These
tests run examples/step_through_backprop.py under `sys.settrace`, note the call stack at
every op's `backward`, and check that promise for every op class of the network.  They
also check that the breakpoints docs/debugging.md tells readers to set are real lines.
"""

import importlib.util
import inspect
import re
import sys
from pathlib import Path

import tinygrad_edu as tg
from tinygrad_edu import autograd
from tinygrad_edu.ops import elementwise

ROOT = Path(__file__).resolve().parent.parent
MAX_FRAMES = 3  # Tensor.backward -> autograd.backward -> Op.backward
ENGINE = ["Tensor.backward", "tinygrad_edu.autograd.backward"]  # the first two of the three
NETWORK_OPS = {"Mul", "Add", "Tanh", "MatMul", "Sub", "Pow", "Sum"}  # in the example's graph


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _frame_name(frame):
    owner = frame.f_locals.get("self")
    if owner is not None:
        return f"{type(owner).__name__}.{frame.f_code.co_name}"
    return f"{frame.f_globals.get('__name__')}.{frame.f_code.co_name}"


def op_backward_stacks(run):
    """Run `run()` under sys.settrace.  For each call of an op's `backward`, return
    (op class, [frame names from Tensor.backward down to the op's backward], the frame
    that called Tensor.backward); the list is None if Tensor.backward is not on the stack."""
    tensor_backward = tg.Tensor.backward.__code__
    stacks = []

    def on_call(frame, event, arg):
        if event == "call" and frame.f_code.co_name == "backward":
            op = frame.f_locals.get("self")
            if isinstance(op, tg.Function):
                chain, caller = [frame], frame.f_back
                while caller is not None and caller.f_code is not tensor_backward:
                    chain.append(caller)
                    caller = caller.f_back
                if caller is None:
                    stacks.append((type(op), None, None))
                else:
                    chain.append(caller)
                    names = [_frame_name(f) for f in reversed(chain)]
                    stacks.append((type(op), names, caller.f_back))
        return None  # no line-by-line tracing: only calls are of interest

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        run()
    finally:
        sys.settrace(previous)
    return stacks


def network_op_classes(example):
    """The op classes in the graph of the example's loss, by walking grad_fn.inputs."""
    x, y = example.make_data(0)
    loss = example.compute_loss(example.init_parameters(0), x, y)
    classes, stack = set(), [loss]
    while stack:
        t = stack.pop()
        if t.grad_fn is not None:
            classes.add(type(t.grad_fn))
            stack.extend(t.grad_fn.inputs)
    return classes


def too_deep(stacks):
    """The stacks that break the promise (or were not reached from Tensor.backward)."""
    return [(op, names) for op, names, _ in stacks if names is None or len(names) > MAX_FRAMES]


def test_loss_backward_reaches_every_op_in_three_frames(capsys):
    example = load_example("step_through_backprop")
    stacks = op_backward_stacks(lambda: example.main(steps=1, seed=0))
    assert "d loss / d w0" in capsys.readouterr().out
    assert stacks, "no op backward ran"
    assert too_deep(stacks) == []
    for op, names, caller in stacks:
        assert names == [ENGINE[0], ENGINE[1], f"{op.__name__}.backward"]
        assert caller.f_code is example.main.__code__  # the line `loss.backward()` in main
    reached = {op for op, _, _ in stacks}
    expected = network_op_classes(example)
    assert {cls.__name__ for cls in expected} == NETWORK_OPS
    assert reached == expected


def test_a_wrapper_in_between_is_caught(monkeypatch):
    # The check above can fail: one innocent-looking wrapper around the engine, e.g.
    #     def backward(*args): return original(*args)     (logging, timing, a decorator)
    # puts a fourth frame between `loss.backward()` and every op's math.
    original = autograd.backward

    def wrapped_backward(*args, **kwargs):
        return original(*args, **kwargs)

    monkeypatch.setattr(autograd, "backward", wrapped_backward)
    example = load_example("step_through_backprop")
    x, y = example.make_data(0)
    loss = example.compute_loss(example.init_parameters(0), x, y)
    stacks = op_backward_stacks(loss.backward)
    deep = too_deep(stacks)
    assert len(deep) == len(stacks) == 8
    assert deep[0][1][1] == f"{__name__}.wrapped_backward"


def test_backward_outside_tensor_backward_is_reported():
    # tg.grad calls autograd.backward without Tensor.backward: not the promised path.
    w = tg.Tensor([1.0, 2.0], requires_grad=True)
    stacks = op_backward_stacks(lambda: tg.grad((w * w).sum(), w))
    assert [names for _, names, _ in stacks] == [None, None]
    assert len(too_deep(stacks)) == 2


def test_breakpoints_in_the_walkthrough_are_the_right_lines():
    text = (ROOT / "docs" / "debugging.md").read_text()
    (tanh_line,) = set(re.findall(r"b tinygrad_edu/ops/elementwise\.py:(\d+)", text))
    lines, first = inspect.getsourcelines(elementwise.Tanh.backward)
    assert first < int(tanh_line) < first + len(lines), "docs/debugging.md: Tanh.backward moved"
    assert "return (grad * (1 - out * out),)" in lines[int(tanh_line) - first]
    (loop_line,) = set(re.findall(r"b tinygrad_edu/autograd\.py:(\d+)", text))
    source = (ROOT / "tinygrad_edu" / "autograd.py").read_text().splitlines()
    assert "grads_in = node.backward(node.xp" in source[int(loop_line) - 1], (
        "docs/debugging.md: the breakpoint line in autograd.backward moved"
    )
    example = (ROOT / "examples" / "step_through_backprop.py").read_text().splitlines()
    (line,) = re.findall(r"examples/step_through_backprop\.py\((\d+)\)main\(\)", text)
    assert example[int(line) - 1].strip() == "loss.backward()"


def test_the_trace_printed_in_the_walkthrough_is_the_real_one():
    example = load_example("step_through_backprop")
    x, y = example.make_data(0)
    loss = example.compute_loss(example.init_parameters(0), x, y)
    with tg.trace_backward() as steps:
        loss.backward()
    table = [line.rstrip() for line in str(steps).splitlines()]
    text = (ROOT / "docs" / "debugging.md").read_text()
    start = text.index(table[0])
    assert text[start:].splitlines()[: len(table)] == table
