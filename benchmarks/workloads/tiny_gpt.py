"""Workload tiny-gpt: one AdamW training step of examples/tiny_gpt.py's GPT, against PyTorch CPU.

The model is examples/tiny_gpt.py's `TinyGPT` with its default sizes (2 pre-norm blocks,
width 64, 4 heads, block size 32, weight tying, about 105,000 parameters), dropout 0 (so
that both sides do the same arithmetic), float32.  One step: a fixed batch of 16 windows
of 32 character ids, cross-entropy of the next character, backward, AdamW (lr 1e-3,
weight decay 0.1 on the matrices, 0 on biases and LayerNorm).

There is no hand-written NumPy twin of this step (LayerNorm, GELU, attention and AdamW
by hand would be a page of its own), so the reference side (`numpy_step`, "numpy ms" in
run.py's table) is the same model written in PyTorch, run on the CPU in eager mode:
`REFERENCE` says so and run.py marks the row.  Without torch, run.py skips the workload
and says why (`unavailable()`).  run.py's start-up check: in float32 the loss and every
gradient agree to a relative 1e-5; the parameters after the update are compared on a
float64 copy of the step (`setup_for_check`), because AdamW's first step divides each
gradient by its own size, which turns float32 rounding in a near-zero gradient into a
visibly different update of that one entry.
"""

import importlib.util
from pathlib import Path

import numpy as np

import tinygrad_edu as tg

REFERENCE = "PyTorch CPU"  # what the ratio is against (the "numpy" side of run.py)
TARGET = None  # no target yet: this workload measures where a model like this stands
MEMORY_TARGET = None  # tracemalloc cannot see torch's tensors: no memory comparison
BATCH = 16  # windows per step, as examples/tiny_gpt.py trains
VOCAB = 42  # the alphabet size of examples/data/tiny_text.txt

_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tiny_gpt.py"


def _example():
    """examples/tiny_gpt.py as a module (examples/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("tiny_gpt_example", _EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unavailable():
    """Why this workload cannot run here (None when it can)."""
    try:
        import torch  # noqa: F401
    except ImportError as error:
        return f"needs torch for its reference side ({error})"
    return None


def setup(seed, dtype=np.float32, compare_update=False):
    import torch

    example = _example()
    tg.manual_seed(seed)
    model = example.TinyGPT(VOCAB, dropout=0.0).to(dtype=dtype)
    twin = example.torch_twin(VOCAB).to(
        dtype=torch.float64 if dtype == np.float64 else torch.float32
    )
    twin.load_state_dict(
        {k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()}
    )
    rng = np.random.default_rng(seed)
    windows = rng.integers(0, VOCAB, size=(BATCH, example.BLOCK_SIZE + 1))
    lr, decay = example.LEARNING_RATE, example.WEIGHT_DECAY

    def groups(parameters):
        parameters = list(parameters)
        return [
            {"params": [p for p in parameters if p.ndim >= 2], "weight_decay": decay},
            {"params": [p for p in parameters if p.ndim < 2], "weight_decay": 0.0},
        ]

    state = {
        "model": model,
        "optimizer": tg.optim.AdamW(groups(model.parameters()), lr=lr),
        "x": tg.Tensor(windows[:, :-1]),
        "y": tg.Tensor(windows[:, 1:].reshape(-1)),
        "twin": twin,
        "torch_optimizer": torch.optim.AdamW(groups(twin.parameters()), lr=lr),
        "torch_x": torch.from_numpy(windows[:, :-1]),
        "torch_y": torch.from_numpy(windows[:, 1:].reshape(-1)),
    }
    if compare_update:  # run.py compares these after the update, in this order
        state["tg_params"] = list(model.parameters())
        state["np_params"] = [p.detach().numpy() for p in twin.parameters()]
    return state


def setup_for_check(seed):
    """The same step in float64, where the updated parameters can be compared too."""
    return setup(seed, dtype=np.float64, compare_update=True)


def numpy_step(state):
    """The reference side: the same step in PyTorch (see the module docstring)."""
    import torch

    twin, optimizer = state["twin"], state["torch_optimizer"]
    logits = twin(state["torch_x"])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB), state["torch_y"])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.detach().numpy(), [p.grad.numpy() for p in twin.parameters()]


def tg_step(state):
    model, optimizer = state["model"], state["optimizer"]
    logits = model(state["x"])
    loss = tg.cross_entropy(logits.reshape(-1, VOCAB), state["y"])
    optimizer.zero_grad()
    loss.backward()
    grads = [p.grad.data for p in model.parameters()]  # arrays: tg.jit can replay this step
    optimizer.step()
    return loss.data, grads
