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


def _torch_twin(example):
    """TinyGPT written in PyTorch with the same module names (so state_dicts match)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    c, heads = example.N_EMBD, example.N_HEAD

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(c, 3 * c)
            self.proj = nn.Linear(c, c)
            self.resid_dropout = nn.Dropout(0.0)

        def forward(self, x):
            n, t, _ = x.shape
            q, k, v = self.qkv(x).split(c, dim=2)
            q, k, v = (a.view(n, t, heads, c // heads).transpose(1, 2) for a in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.resid_dropout(self.proj(y.transpose(1, 2).reshape(n, t, c)))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(c)
            self.attn = CausalSelfAttention()
            self.ln2 = nn.LayerNorm(c)
            self.mlp = nn.Sequential(
                nn.Linear(c, 4 * c), nn.GELU(), nn.Linear(4 * c, c), nn.Dropout(0.0)
            )

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(VOCAB, c)
            self.pos_emb = nn.Embedding(example.BLOCK_SIZE, c)
            self.drop = nn.Dropout(0.0)
            self.blocks = nn.ModuleList([Block() for _ in range(example.N_LAYER)])
            self.ln_f = nn.LayerNorm(c)
            self.head = nn.Linear(c, VOCAB, bias=False)
            if example.WEIGHT_TYING:
                self.head.weight = self.tok_emb.weight

        def forward(self, ids):
            x = self.drop(self.tok_emb(ids) + self.pos_emb(torch.arange(ids.shape[1])))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return TinyGPT()


def setup(seed, dtype=np.float32, compare_update=False):
    import torch

    example = _example()
    tg.manual_seed(seed)
    model = example.TinyGPT(VOCAB, dropout=0.0).to(dtype=dtype)
    twin = _torch_twin(example).to(dtype=torch.float64 if dtype == np.float64 else torch.float32)
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
    grads = [p.grad.numpy() for p in model.parameters()]
    optimizer.step()
    return loss.numpy(), grads
