"""The debugger's path from `loss.backward()` to the chain rule, and the pdb walkthrough.

STYLE.md promises learners that stepping into `loss.backward()` reaches each op's math in
three frames: `Tensor.backward` -> `autograd.backward` -> e.g. `Tanh.backward`.  The first
tests run examples/step_through_backprop.py under `sys.settrace`, note the call stack at
every op's `backward`, and check that promise for every op class of the network.

docs/debugging.md shows pdb sessions in ```console blocks.  The pdb tests run each of them
in real pdb (`python -m pdb examples/...`, from a temporary folder, as after
`pip install -e .`), type the documented commands and compare what pdb prints with what
the page shows.  When code moves (line numbers change), the failure shows both, and pdb's
whole transcript, ready to paste into the page.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_edu as tg
from tinygrad_edu import autograd

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
    """The op classes in the graph of the example's loss, by walking next_functions."""
    x, y = example.make_data(0)
    loss = example.compute_loss(example.init_parameters(0), x, y)
    classes, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if isinstance(node, tg.Function):
            classes.add(type(node))
            stack.extend(next_node for next_node, _ in node.next_functions)
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


def test_the_trace_printed_in_the_walkthrough_is_the_real_one():
    example = load_example("step_through_backprop")
    x, y = example.make_data(0)
    parameters = example.init_parameters(0)  # kept: the trace names the leaves it reaches
    loss = example.compute_loss(parameters, x, y)
    with tg.trace_backward() as steps:
        loss.backward()
    table = [line.rstrip() for line in str(steps).splitlines()]
    text = (ROOT / "docs" / "debugging.md").read_text()
    start = text.index(table[0])
    assert text[start:].splitlines()[: len(table)] == table


# ---- the pdb sessions of docs/debugging.md, run in real pdb ---------------------------

DOC = ROOT / "docs" / "debugging.md"
PDB = "$ python -m pdb "  # how a documented session starts
PROMPT = "(Pdb) "
ELIDED = "..."  # in the page: text left out; on a line of its own, any number of lines
PDB_TIMEOUT = 60  # seconds per session; one session runs the example once, in about a second


def pdb_sessions(text):
    """The pdb sessions shown in the ```console blocks of `text`, in order.

    A block whose first line is `$ python -m pdb <script>` starts a session; a block of
    `(Pdb) ` lines only continues the one before.  Each session is a dict: `line` (where
    it starts in the page), `script`, `startup` (what pdb prints before its first prompt)
    and `steps`, a list of (command, [the lines printed after it])."""
    sessions = []
    fence = re.compile(r"^( *)```console\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
    for block in fence.finditer(text):
        indent = len(block.group(1))
        lines = [line[indent:].rstrip() for line in block.group(2).splitlines()]
        if lines[0].startswith(PDB):
            line = text.count("\n", 0, block.start()) + 2  # the `$` line, counted from 1
            script = lines.pop(0)[len(PDB) :]
            sessions.append({"line": line, "script": script, "startup": [], "steps": []})
        assert sessions, f"docs/debugging.md: a console block before any `{PDB.strip()}`"
        session = sessions[-1]
        for line in lines:
            if line.startswith(PROMPT):
                session["steps"].append((line[len(PROMPT) :], []))
            elif session["steps"]:
                session["steps"][-1][1].append(line)
            else:
                session["startup"].append(line)
    return sessions


def run_pdb(script, commands, cwd):
    """Run `python -m pdb script` in `cwd`, typing `commands` and then `q`.  Returns what
    pdb printed, split at its prompts: [before the first prompt, after command 1, ...],
    each a list of lines, with this checkout's folder shortened to `...` as in the page."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    env["PYTHONUNBUFFERED"] = "1"  # the script's prints and pdb's in the order they happen
    result = subprocess.run(
        [sys.executable, "-m", "pdb", str(ROOT / script)],
        input="".join(command + "\n" for command in commands + ["q"]),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env=env,
        timeout=PDB_TIMEOUT,
    )
    printed = result.stdout.replace(str(ROOT), "...")
    printed = re.sub(r"0x[0-9a-f]+", "0x...", printed)  # memory addresses, if any
    # Without a terminal pdb does not echo what is typed: a command's output starts right
    # after the prompt it answered.
    return [[line.rstrip() for line in chunk.splitlines()] for chunk in printed.split(PROMPT)]


def _line_pattern(line):
    if line.strip() == ELIDED:
        return r"(?:.*\n)*"  # any number of whole lines
    return ".*".join(re.escape(part) for part in line.split(ELIDED)) + r"\n"


def shows(documented, printed):
    """True if the page's `documented` lines are what pdb `printed`: the same lines, except
    that `...` stands for any text within a line, and a line `...` for any number of lines.
    (The checkout's folder, which the page writes as `...`, matches either way.)"""
    pattern = "".join(_line_pattern(line) for line in documented)
    return re.fullmatch(pattern, "".join(line + "\n" for line in printed)) is not None


def _indented(lines):
    return "\n".join("    " + line for line in lines) if lines else "    (nothing)"


def compare(session, printed):
    """A report of every step where pdb printed something else than the page shows
    ("" if none): both versions, then pdb's whole transcript as the page would show it."""
    documented = [("(start)", session["startup"])] + session["steps"]
    answers = printed + [[]] * (len(documented) - len(printed))  # pdb may have ended early
    wrong = []
    for (command, lines), answer in zip(documented, answers):
        if not shows(lines, answer):
            wrong.append(
                f"after `{PROMPT}{command}` the page shows:\n{_indented(lines)}\n"
                f"  pdb printed:\n{_indented(answer)}"
            )
    if not wrong:
        return ""
    transcript = [PDB + session["script"]] + printed[0]
    for (command, _), answer in zip(session["steps"], printed[1:]):
        transcript += [PROMPT + command] + answer
    return (
        f"docs/debugging.md line {session['line']}: pdb does not print what the page shows "
        "(`...` in the page stands for text left out, a line `...` for any number of lines).\n"
        + "\n".join(wrong)
        + "\n\npdb's whole session, paths shortened as in the page:\n"
        + _indented(transcript)
    )


SESSIONS = pdb_sessions(DOC.read_text())


def test_the_page_shows_pdb_sessions():
    # The sections a reader follows in pdb: step into (1), the engine (1, 2), an op (3).
    assert len(SESSIONS) >= 3
    assert all(session["script"] == "examples/step_through_backprop.py" for session in SESSIONS)
    assert sum(len(session["steps"]) for session in SESSIONS) >= 30


@pytest.mark.parametrize("session", SESSIONS, ids=[f"line-{s['line']}" for s in SESSIONS])
def test_pdb_prints_what_the_page_shows(session, tmp_path):
    installed = Path(tg.__file__).resolve().parent
    if installed != ROOT / "tinygrad_edu":
        pytest.skip(
            f"this Python imports tinygrad_edu from {installed}, not from this checkout: "
            "pdb would stop in other files (pip install -e . here)"
        )
    commands = [command for command, _ in session["steps"]]
    # From a temporary folder: the breakpoints must work from any folder, as the page says.
    printed = run_pdb(session["script"], commands, cwd=tmp_path)
    report = compare(session, printed)
    if report:
        pytest.fail(report, pytrace=False)  # the report is the message; no traceback needed


def test_a_line_pdb_did_not_print_is_caught():
    # `shows` is what makes the test above fail; each of these must fail it.
    printed = ["> .../tinygrad_edu/autograd.py(315)backward()", "-> grads_in = ..."]
    assert shows(printed, printed)
    assert shows(["...", printed[1]], printed)
    assert shows([ELIDED] + printed, printed)  # `...` may stand for no line at all
    assert not shows(["> .../tinygrad_edu/autograd.py(314)backward()", printed[1]], printed)
    assert not shows(printed[:1], printed)  # a printed line the page does not show
    assert not shows(printed + ["(array(1.),)"], printed)  # a line pdb did not print
    assert not shows(["...", "-> grads_in = "], printed)  # a line is matched whole
    assert shows(["> .../tinygrad_edu/autograd.py(...)backward()", "..."], printed)
    assert not shows(["> .../tinygrad_edu/tensor.py(...)backward()", "..."], printed)
