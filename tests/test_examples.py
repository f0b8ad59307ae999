"""Every script in examples/ runs, and our training examples reach sensible outcomes.

1. Each examples/*.py (found with glob, so a new script is covered without touching this
   file) runs in a fresh Python, in a temporary working directory (so the files it
   writes to out/ land there, not in the repository), with the repository on PYTHONPATH.
   Most take `--smoke` (a few steps on little data, no plots); the few that do not are
   listed in HOW_TO_RUN with a quick way to run them.  Each must exit with the expected
   status and print the expected text.
2. function_fit_2d, char_rnn and gpu_train are also called in this process with
   `main(smoke=True)`, and the outcomes they return are checked: the loss fell, the
   sample is made of the text's characters, the device was used or refused clearly.
"""

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest

import tinygrad_edu as tg

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py"))
TIMEOUT = 120  # seconds for one script; a smoke run takes about one


def _renderer_found():
    try:
        tg.graph.find_renderer()
    except tg.RendererNotFoundError:
        return False
    return True


# Calls for scripts without a command line: Python run in the script's namespace after
# loading it (its `if __name__ == "__main__":` block does not run).
SEED_NUMPY_CALL = """
import numpy as np
rng = np.random.default_rng(0)
losses, _, _ = train(rng.normal(size=(40, 2)), rng.normal(size=(40, 1)), 10, 1e-3, [2, 8, 1])
print(f"hand-written backprop: loss {losses[0]:.4f} -> {losses[-1]:.4f}")
assert losses[-1] < losses[0]
"""

# How to run a script quickly, when it is not "--smoke":
#   args: command-line arguments; call: Python run in the script's namespace (see above);
#   expect: text the output (stdout and stderr) must contain; status: the exit status.
# A script not listed here is run with --smoke, must exit 0 and must print something.
HOW_TO_RUN = {
    "seed_network.py": {"call": "main(steps=20, log_every=10)", "expect": "20 steps in"},
    "seed_network_numpy.py": {"call": SEED_NUMPY_CALL, "expect": "hand-written backprop"},
    "custom_op.py": {"call": "main(examples=3)", "expect": "CubeForgotThree is caught"},
    "step_through_backprop.py": {"args": [], "expect": "d loss / d w0"},
    # It draws with a Graphviz renderer (into out/, here in the temporary directory);
    # without one it must fail with the install hint.
    "visualize_graph.py": (
        {"args": [], "expect": f"wrote {os.path.join('out', 'graph_131.svg')}"}
        if _renderer_found()
        else {"args": [], "expect": "tinygrad_edu[viz]", "status": 1}
    ),
    "backprop_walkthrough.py": (
        {"args": ["--smoke"], "expect": "walkthrough_131.html: 8 backward steps"}
        if _renderer_found()
        else {"args": ["--smoke"], "expect": "tinygrad_edu[viz]", "status": 1}
    ),
    # These take --smoke; listed to check a line of their output, not only that they ran.
    "function_fit_2d.py": {"args": ["--smoke"], "expect": "grid MSE with 2,000 samples"},
    "char_rnn.py": {"args": ["--smoke"], "expect": "sample (seed 0, temperature 0.7):\nThe "},
    "gpu_train.py": {"args": ["--smoke"], "expect": "2 epochs on cpu"},
    "jit_speedup.py": {"args": ["--smoke"], "expect": "weights equal: True"},
}


def run_script(name, args=None, call=None, cwd=None):
    """Run examples/<name> in a fresh Python; returns the CompletedProcess (text output)."""
    path = EXAMPLES / name
    if call is not None:
        loader = "import runpy, sys; exec(sys.argv[2], runpy.run_path(sys.argv[1]))"
        command = [sys.executable, "-c", loader, str(path), call]
    else:
        command = [sys.executable, str(path)] + list(args if args is not None else ["--smoke"])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"  # plots to files only, even where a display exists
    # One BLAS thread: on a small shared machine OpenBLAS's threads made the smoke runs'
    # tiny matrix products many times slower.  A user's own setting is kept.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )


def test_examples_are_found():
    # The glob must see the scripts this file knows about (a moved folder would otherwise
    # make every test below vanish silently).
    assert {"seed_network.py", "function_fit_2d.py", "char_rnn.py", "gpu_train.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_runs(name, tmp_path):
    how = HOW_TO_RUN.get(name, {"args": ["--smoke"]})
    result = run_script(name, args=how.get("args"), call=how.get("call"), cwd=tmp_path)
    output = result.stdout + result.stderr
    expected_status = how.get("status", 0)
    assert result.returncode == expected_status, (
        f"{name} exited with {result.returncode}, expected {expected_status}:\n{output[-3000:]}"
    )
    if "expect" in how:
        assert how["expect"] in output, f"{name} did not print {how['expect']!r}:\n{output}"
    else:
        assert result.stdout.strip(), f"{name} printed nothing:\n{output}"
    if expected_status == 0:
        assert "Traceback" not in result.stderr, result.stderr


def test_gpu_train_smoke_on_cuda_exits_0_either_way(tmp_path):
    result = run_script("gpu_train.py", ["--smoke", "--device", "cuda"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    if tg.cuda_is_available():
        assert "2 epochs on cuda:0" in result.stdout
    else:
        # Exactly one line, naming the device and why it cannot be used.
        assert result.stdout.startswith("gpu_train: device 'cuda:0' is not usable: ")
        assert result.stdout.count("\n") == 1, result.stdout
        assert "Traceback" not in result.stderr


def test_gpu_train_on_cuda_without_smoke_fails_without_a_gpu(tmp_path):
    result = run_script("gpu_train.py", ["--device", "cuda", "--epochs", "1"], cwd=tmp_path)
    if tg.cuda_is_available():
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 epochs on cuda:0" in result.stdout
    else:
        assert result.returncode == 1
        assert result.stderr.startswith("gpu_train: device 'cuda:0' is not usable: ")
        assert result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""


@pytest.mark.skipif(not _renderer_found(), reason="no Graphviz renderer (pip install .[viz])")
def test_visualize_graph_out_option_writes_that_file_only(tmp_path):
    # `--out docs/graph_131.svg` is how the README's picture is redrawn.
    result = run_script("visualize_graph.py", ["--out", "pictures/graph.png"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    written = [path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*")]
    assert sorted(written) == ["pictures", "pictures/graph.png"]
    assert (tmp_path / "pictures" / "graph.png").read_bytes().startswith(b"\x89PNG")
    refused = run_script("visualize_graph.py", ["--out", "graph.pdf"], cwd=tmp_path)
    assert refused.returncode == 2 and "--out must end in .svg or .png" in refused.stderr


# ---- our examples in this process: the outcomes main() returns ------------------------


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_function_fit_2d_outcomes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = load_example("function_fit_2d")
    outcome = example.main(smoke=True)
    runs = outcome["runs"]
    assert [run["samples"] for run in runs] == list(example.SMOKE_SIZES)
    for run in runs:
        assert len(run["losses"]) == example.SMOKE_STEPS
        # Standardised target: predicting its mean scores 1.0; the network starts near it
        # and must do clearly better after a few steps, on training and unseen points.
        assert 0.5 < run["first_loss"] < 2.0
        assert run["final_loss"] < 0.7 * run["first_loss"]
        assert run["train_mse"] < 0.8
        assert run["grid_mse"] < 0.8
        assert run["prediction"].shape == (example.GRID, example.GRID)
    assert outcome["plot"] is None  # smoke runs draw nothing
    assert not (tmp_path / "out").exists()


def test_char_rnn_outcomes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = load_example("char_rnn")
    outcome = example.main(smoke=True)
    # The first loss is that of a near-uniform guess over the characters.
    assert abs(outcome["first_loss"] - outcome["uniform_loss"]) < 0.3
    assert outcome["final_loss"] < outcome["first_loss"] - 1.0
    assert min(outcome["held_out"].values()) < outcome["uniform_loss"] - 0.5
    assert outcome["characters"] == example.SMOKE_CHARS
    text = example.TEXT_PATH.read_text(encoding="utf-8")[: example.SMOKE_CHARS]
    sample = outcome["sample"]
    assert sample.startswith(example.PROMPT)
    assert len(sample) == len(example.PROMPT) + example.SMOKE_SAMPLE_LENGTH
    assert set(sample) <= set(text)
    assert outcome["plot"] is None


def test_char_rnn_is_reproducible():
    example = load_example("char_rnn")
    first = example.main(steps=3, seed=1, smoke=True, log_every=0)
    second = example.main(steps=3, seed=1, smoke=True, log_every=0)
    assert first["losses"] == second["losses"]
    assert first["sample"] == second["sample"]


def test_char_rnn_text_ships_with_the_repository():
    example = load_example("char_rnn")
    text = example.TEXT_PATH.read_text(encoding="utf-8")
    assert 2000 < len(text) < 20000  # "a few KB": enough to learn from, quick to train on
    assert text.isascii()


def test_gpu_train_outcomes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = load_example("gpu_train")
    outcome = example.main(smoke=True)
    assert outcome["device"] == "cpu"
    assert len(outcome["epoch_seconds"]) == example.SMOKE_EPOCHS
    assert all(seconds > 0 for seconds in outcome["epoch_seconds"])
    assert outcome["epoch_losses"][-1] < outcome["epoch_losses"][0]
    assert outcome["test_accuracy"] > 1.2 / example.CLASSES  # better than guessing
    assert outcome["plot"] is None


def test_gpu_train_on_cuda_uses_the_gpu_or_says_why_not():
    example = load_example("gpu_train")
    if tg.cuda_is_available():
        assert example.main(smoke=True, device="cuda")["device"] == "cuda:0"
    else:
        with pytest.raises(tg.DeviceError, match="cuda:0"):
            example.main(smoke=True, device="cuda")


def test_tiny_gpt_outcomes():
    example = load_example("tiny_gpt")
    outcome = example.main(smoke=True)
    # GPT-2's small initial weights: the first loss is that of a near-uniform guess.
    assert abs(outcome["first_loss"] - outcome["uniform_loss"]) < 0.2
    # The smoke run must already beat the best context-free model (character frequencies).
    assert outcome["unigram_loss"] < outcome["uniform_loss"] - 0.5
    assert outcome["final_loss"] < outcome["unigram_loss"]
    text = example.TEXT_PATH.read_text(encoding="utf-8")
    sample = outcome["sample"]
    assert sample.startswith(example.PROMPT)
    assert len(sample) == len(example.PROMPT) + example.SMOKE_SAMPLE_LENGTH
    assert set(sample) <= set(text)
    assert outcome["device"] == "cpu"


def test_tiny_gpt_unigram_baseline_is_the_frequency_cross_entropy():
    example = load_example("tiny_gpt")
    train = numpy.array([0, 0, 0, 1])
    held = numpy.array([1, 2])
    # add-one counts over 3 symbols: 4, 2, 1 of 7
    p = numpy.array([4, 2, 1]) / 7
    train_loss, held_loss = example.unigram_losses(train, held, 3)
    assert abs(train_loss - -(3 * math.log(p[0]) + math.log(p[1])) / 4) < 1e-12
    assert abs(held_loss - -(math.log(p[1]) + math.log(p[2])) / 2) < 1e-12


def test_tiny_gpt_is_reproducible_and_ties_its_weights():
    example = load_example("tiny_gpt")
    first = example.main(steps=3, seed=1, smoke=True)
    second = example.main(steps=3, seed=1, smoke=True)
    assert first["losses"] == second["losses"]
    assert first["sample"] == second["sample"]
    model = example.TinyGPT(10)
    assert model.head.weight is model.tok_emb.weight
    names = [name for name, _ in model.named_parameters()]
    assert "tok_emb.weight" in names and "head.weight" not in names  # listed once


def test_tiny_gpt_attention_is_causal():
    """Changing a later character never changes the scores at earlier positions."""
    example = load_example("tiny_gpt")
    tg.manual_seed(0)
    model = example.TinyGPT(12, block_size=8)
    model.eval()
    ids = numpy.random.default_rng(0).integers(0, 12, size=(2, 8))
    changed = ids.copy()
    changed[:, 5] = (changed[:, 5] + 1) % 12
    with tg.no_grad():
        before, after = model(tg.Tensor(ids)).numpy(), model(tg.Tensor(changed)).numpy()
    numpy.testing.assert_array_equal(before[:, :5], after[:, :5])
    assert not numpy.allclose(before[:, 5:], after[:, 5:])


def test_tiny_gpt_on_cuda_uses_the_gpu_or_says_why_not():
    example = load_example("tiny_gpt")
    if tg.cuda_is_available():
        assert example.main(smoke=True, device="cuda")["device"] == "cuda:0"
    else:
        with pytest.raises(tg.DeviceError, match="cuda:0"):
            example.main(smoke=True, device="cuda")


@pytest.mark.skipif(not _renderer_found(), reason="needs a Graphviz renderer")
def test_visualize_graph_draws_an_attention_head(tmp_path):
    result = run_script("visualize_graph.py", args=["--attention"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    drawing = (tmp_path / "out" / "attention_head.svg").read_text()
    assert "Softmax" in drawing and "Where" in drawing
