"""A tiny character-level GPT: a Transformer that learns a small text and writes more.

    python examples/tiny_gpt.py                  # the full run (about 3 minutes on one core)
    python examples/tiny_gpt.py --smoke          # a few seconds: a short run, a short sample
    python examples/tiny_gpt.py --device cuda    # the same on a GPU (CuPy)

The model reads BLOCK_SIZE characters and predicts, at every position, the character
that comes next, looking only at the characters before it (causal attention):

    ids (N, T) -> token embedding + position embedding       (N, T, C)
               -> N_LAYER blocks, each (pre-norm, nanoGPT's layout):
                      x = x + attention(LayerNorm(x))         heads look back, never ahead
                      x = x + MLP(LayerNorm(x))               Linear 4C, GELU, Linear C
               -> LayerNorm -> Linear head                    (N, T, vocab) scores

The attention is F.scaled_dot_product_attention(q, k, v, is_causal=True); its backward
is explained in docs/attention.md.  The head can share its weight with the token
embedding (weight tying, WEIGHT_TYING), as GPT-2 does.  Trained with AdamW on random
windows of examples/data/tiny_text.txt, whose last tenth is held out.

What the numbers mean: the "unigram baseline" is the loss of a model that ignores the
context and always predicts each character's frequency in the training text; a model
below it has learned something from the characters before.  On a text this small the
training loss keeps falling while the held-out loss stops improving (the model learns
its verse by heart): docs/examples.md has the measured numbers.
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim
from tinygrad_edu.nn import functional as F

TEXT_PATH = Path(__file__).resolve().parent / "data" / "tiny_text.txt"  # the text to learn
BLOCK_SIZE = 32  # characters the model sees at once (the longest context)
N_EMBD = 64  # width C of every position's vector
N_HEAD = 4  # attention heads per block (each of width N_EMBD / N_HEAD)
N_LAYER = 2  # Transformer blocks
DROPOUT = 0.3  # dropout on attention weights and block outputs (a tiny text is soon memorised)
WEIGHT_TYING = True  # the head's weight is the token embedding's (GPT-2's trick)
BATCH_SIZE = 16  # windows per step
STEPS = 1200  # optimizer steps
LEARNING_RATE = 1e-3  # AdamW's step size
WEIGHT_DECAY = 0.1  # AdamW's decoupled decay, on matrices only (not biases, norms)
HELD_OUT = 0.1  # this fraction at the end of the text is never trained on
LOG_EVERY = 100  # held-out loss every this many steps (and at the end)
INIT_STD = 0.02  # GPT-2's initial weights: N(0, 0.02)
PROMPT = "The "  # the sample at the end continues this text
SAMPLE_LENGTH = 300  # characters to write at the end
TEMPERATURE = 0.8  # below 1: safer, more repetitive samples; above 1: wilder ones
SMOKE_STEPS = 100  # --smoke: this many steps (about 2 s)
SMOKE_SAMPLE_LENGTH = 40  # --smoke: a short sample


class CausalSelfAttention(nn.Module):
    """x (N, T, C) -> (N, T, C): every head mixes the values of positions 0..t."""

    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.n_head = n_head
        self.dropout = dropout
        self.qkv = nn.Linear(n_embd, 3 * n_embd)  # query, key and value in one product
        self.proj = nn.Linear(n_embd, n_embd)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x):
        n, t, c = x.shape
        qkv = self.qkv(x)  # (N, T, 3C)

        def heads(part):  # (N, T, C) -> (N, heads, T, C / heads)
            return part.reshape(n, t, self.n_head, c // self.n_head).swapaxes(1, 2)

        q, k, v = heads(qkv[..., :c]), heads(qkv[..., c : 2 * c]), heads(qkv[..., 2 * c :])
        dropout_p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        y = y.swapaxes(1, 2).reshape(n, t, c)  # heads side by side again
        return self.resid_dropout(self.proj(y))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, n_embd, n_head, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.GELU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    """Character ids (N, T), T <= block_size -> next-character scores (N, T, vocab_size)."""

    def __init__(
        self,
        vocab_size,
        block_size=BLOCK_SIZE,
        n_embd=N_EMBD,
        n_head=N_HEAD,
        n_layer=N_LAYER,
        dropout=DROPOUT,
        weight_tying=WEIGHT_TYING,
    ):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        if weight_tying:  # one Parameter in two places: its gradients from both add up
            self.head.weight = self.tok_emb.weight
        for name, param in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(param)
            elif param.ndim == 2:  # embeddings and Linear weights (LayerNorm's stay ones)
                nn.init.normal_(param, 0.0, INIT_STD)

    def forward(self, ids):
        n, t = ids.shape
        if t > self.block_size:
            raise ValueError(f"TinyGPT: {t} characters, more than block_size {self.block_size}")
        positions = np.arange(t)
        x = self.drop(self.tok_emb(ids) + self.pos_emb(positions))  # (N, T, C) + (T, C)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def torch_twin(
    vocab_size,
    block_size=BLOCK_SIZE,
    n_embd=N_EMBD,
    n_head=N_HEAD,
    n_layer=N_LAYER,
    weight_tying=WEIGHT_TYING,
):
    """TinyGPT written in PyTorch, with the same submodule names, so that our trained
    `state_dict` loads into it and gives the same logits (tests/test_pytorch_interop.py).
    Needs torch, which tinygrad_edu does not (it is imported here only)."""
    import torch

    tnn, tF = torch.nn, torch.nn.functional

    class CausalSelfAttention(tnn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = tnn.Linear(n_embd, 3 * n_embd)
            self.proj = tnn.Linear(n_embd, n_embd)
            self.resid_dropout = tnn.Dropout(0.0)

        def forward(self, x):
            n, t, c = x.shape
            q, k, v = self.qkv(x).split(c, dim=2)
            q, k, v = (a.view(n, t, n_head, c // n_head).transpose(1, 2) for a in (q, k, v))
            y = tF.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.resid_dropout(self.proj(y.transpose(1, 2).reshape(n, t, c)))

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = tnn.LayerNorm(n_embd)
            self.attn = CausalSelfAttention()
            self.ln2 = tnn.LayerNorm(n_embd)
            self.mlp = tnn.Sequential(
                tnn.Linear(n_embd, 4 * n_embd),
                tnn.GELU(),
                tnn.Linear(4 * n_embd, n_embd),
                tnn.Dropout(0.0),
            )

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class TinyGPT(tnn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = tnn.Embedding(vocab_size, n_embd)
            self.pos_emb = tnn.Embedding(block_size, n_embd)
            self.drop = tnn.Dropout(0.0)
            self.blocks = tnn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = tnn.LayerNorm(n_embd)
            self.head = tnn.Linear(n_embd, vocab_size, bias=False)
            if weight_tying:
                self.head.weight = self.tok_emb.weight

        def forward(self, ids):
            x = self.drop(self.tok_emb(ids) + self.pos_emb(torch.arange(ids.shape[1])))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return TinyGPT()


def load_text():
    """The text and its alphabet, sorted."""
    text = TEXT_PATH.read_text(encoding="utf-8")
    return text, sorted(set(text))


def unigram_losses(train_ids, held_out_ids, vocab_size):
    """Cross-entropy of always predicting the training text's character frequencies, on
    the training text and on the held-out text (add-one smoothing: no probability 0)."""
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-log_p[train_ids].mean()), float(-log_p[held_out_ids].mean())


def random_windows(ids, batch_size, block_size, rng, device):
    """batch_size random windows: inputs and targets (the inputs shifted by one)."""
    starts = rng.integers(0, len(ids) - block_size - 1, size=batch_size)
    windows = np.stack([ids[s : s + block_size + 1] for s in starts])
    x = tg.Tensor(windows[:, :-1], device=device)
    y = tg.Tensor(windows[:, 1:], device=device)
    return x, y


@tg.no_grad()
def held_out_loss(model, ids, device):
    """Mean cross-entropy over the held-out text, read in windows of block_size."""
    model.eval()
    length = model.block_size
    count = (len(ids) - 1) // length
    windows = ids[: count * length + 1]
    x = tg.Tensor(windows[:-1].reshape(count, length), device=device)
    y = tg.Tensor(windows[1:].reshape(count, length), device=device)
    logits = model(x)
    loss = tg.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item()
    model.train()
    return loss


@tg.no_grad()
def sample(model, alphabet, prompt, length, temperature, seed, device):
    """`prompt` followed by `length` characters drawn one at a time from the model."""
    model.eval()
    index = {char: i for i, char in enumerate(alphabet)}
    rng = np.random.default_rng(seed)
    ids = [index[char] for char in prompt]
    for _ in range(length):
        context = np.array([ids[-model.block_size :]])  # the model sees block_size at most
        logits = model(tg.Tensor(context, device=device))
        scores = logits.numpy()[0, -1].astype(np.float64) / temperature
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        ids.append(int(rng.choice(len(alphabet), p=probabilities)))
    return "".join(alphabet[i] for i in ids)


def make_optimizer(model):
    """AdamW with weight decay on the matrices only: decaying biases and LayerNorm's
    scales towards 0 only hurts (nanoGPT's split)."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": WEIGHT_DECAY},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return optim.AdamW(groups, lr=LEARNING_RATE)


def progress(iterable, enabled, description):
    """A tqdm progress bar around `iterable` when tqdm is installed and `enabled`."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is optional: without it the loop prints its lines only
            return iterable
        return tqdm(iterable, desc=description, leave=False, mininterval=0.5)
    return iterable


def main(steps=STEPS, seed=0, smoke=False, device="cpu", log_every=LOG_EVERY):
    """Train the GPT for `steps` steps; print the losses, the baseline and a sample.

    Returns a dict: "first_loss", "final_loss" (mean of the last 20 steps' losses),
    "unigram_loss" and "unigram_held_out" (the baseline on each part of the text),
    "uniform_loss" (log of the alphabet size), "losses", "held_out" ({step: loss}),
    "sample", "vocab_size", "parameters", "seconds", "seconds_per_step", "device".
    """
    device = tg.get_device(device)  # a DeviceError here says why the device is unusable
    sample_length = SAMPLE_LENGTH
    if smoke:
        steps = min(steps, SMOKE_STEPS)
        sample_length = SMOKE_SAMPLE_LENGTH
        log_every = 0
    text, alphabet = load_text()
    index = {char: i for i, char in enumerate(alphabet)}
    ids = np.array([index[char] for char in text], dtype=np.int64)
    cut = int(len(ids) * (1.0 - HELD_OUT))
    train_ids, held_out_ids = ids[:cut], ids[cut:]
    unigram_loss, unigram_held_out = unigram_losses(train_ids, held_out_ids, len(alphabet))
    uniform_loss = math.log(len(alphabet))

    tg.manual_seed(seed)  # the initial weights and the dropout masks
    rng = np.random.default_rng(seed)  # the training windows
    model = TinyGPT(len(alphabet)).to(device)
    optimizer = make_optimizer(model)
    parameters = sum(p.size for p in model.parameters())
    print(
        f"{len(text)} characters ({len(train_ids)} to train on, {len(held_out_ids)} held "
        f"out), {len(alphabet)} distinct; a {N_LAYER}-block GPT with {parameters:,} "
        f"parameters on {device.name}"
    )
    print(
        f"baselines: uniform guess {uniform_loss:.3f}, unigram (character frequencies) "
        f"{unigram_loss:.3f} on the training text, {unigram_held_out:.3f} held out"
    )

    losses = []
    held_out = {}  # step -> loss on the held-out text
    bar = progress(range(steps), not smoke, "tiny_gpt")
    say = getattr(bar, "write", print)  # tqdm.write prints above the bar, not through it
    start = time.perf_counter()
    for step in bar:
        x, y = random_windows(train_ids, BATCH_SIZE, BLOCK_SIZE, rng, device)
        logits = model(x)
        # (N, T, vocab) scores against (N, T) next characters: one row per position
        loss = tg.cross_entropy(logits.reshape(-1, len(alphabet)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            held_out[step] = held_out_loss(model, held_out_ids, device)
            say(f"step {step:5d}   loss {losses[-1]:.4f}   held-out loss {held_out[step]:.4f}")
    seconds = time.perf_counter() - start

    final_loss = float(np.mean(losses[-20:]))
    print(
        f"{steps} steps in {seconds:.1f} s ({1000 * seconds / max(steps, 1):.1f} ms a step): "
        f"training loss {losses[0]:.3f} -> {final_loss:.3f} (mean of the last "
        f"{min(20, steps)} steps; unigram baseline {unigram_loss:.3f})"
    )
    if held_out:
        best = min(held_out, key=held_out.get)
        print(
            f"held-out loss: lowest {held_out[best]:.3f} at step {best}, "
            f"{held_out[max(held_out)]:.3f} at the end (unigram baseline {unigram_held_out:.3f})"
        )
    written = sample(model, alphabet, PROMPT, sample_length, TEMPERATURE, seed, device)
    print(f"sample (seed {seed}, temperature {TEMPERATURE}):\n{written}")
    return {
        "first_loss": losses[0],
        "final_loss": final_loss,
        "unigram_loss": unigram_loss,
        "unigram_held_out": unigram_held_out,
        "uniform_loss": uniform_loss,
        "losses": losses,
        "held_out": held_out,
        "sample": written,
        "vocab_size": len(alphabet),
        "parameters": parameters,
        "seconds": seconds,
        "seconds_per_step": seconds / max(steps, 1),
        "device": device.name,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="optimizer steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of weights, data and sample")
    parser.add_argument("--device", default="cpu", help='"cpu" or "cuda" (CuPy)')
    parser.add_argument("--smoke", action="store_true", help="a few seconds: a short run")
    args = parser.parse_args()
    main(steps=args.steps, seed=args.seed, smoke=args.smoke, device=args.device)
