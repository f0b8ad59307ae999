"""A character-level LSTM that learns a tiny text and then writes more of it.

The model reads one character at a time and predicts the next one:
Embedding (character -> vector) -> LSTM (carries what it has read so far in its state
h, c) -> Linear (state -> one score per character), trained with cross-entropy against
the character that really comes next.  The text is examples/data/tiny_text.txt, a few
KB of simple verse that ships with the repository.

Truncated backpropagation through time: the text is cut into BATCH_SIZE parallel streams,
and each step reads the next SEQ_LEN characters of every stream.  The LSTM's final state
is handed on to the next step, so the model keeps reading where it stopped, but it is
detached first (`h.detach()`): backward then runs through at most SEQ_LEN time steps,
never back into the previous step's graph, which has been freed already.

The last tenth of the text is held out: every LOG_EVERY steps the script also prints the
loss on it, text the model never trained on.  On a text this small the training loss falls
close to 0 while the held-out loss stops falling after about a hundred steps and then rises:
the model memorises its text rather than learning English.  That is the expected lesson
of a tiny data set (more text, fewer steps or a smaller model move the turning point).

At the end the model writes a continuation of a prompt, one sampled character at a
time (seeded, so the same seed prints the same text).

    python examples/char_rnn.py            # about 20 s; loss plot to out/char_rnn_loss.png
    python examples/char_rnn.py --smoke    # a few steps on the start of the text, no plot
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

TEXT_PATH = Path(__file__).resolve().parent / "data" / "tiny_text.txt"  # the text to learn
EMBEDDING_DIM = 32  # each character becomes a learned vector of this size
HIDDEN_SIZE = 128  # size of the LSTM's state h (and cell c)
BATCH_SIZE = 16  # parallel streams the text is cut into
SEQ_LEN = 32  # characters per stream per step: how far back backward reaches
HELD_OUT = 0.1  # this fraction at the end of the text is never trained on
STEPS = 1000  # optimizer steps
LEARNING_RATE = 5e-3  # Adam's step size
CLIP_NORM = 5.0  # gradients with a larger total norm are scaled down to it (LSTMs can spike)
LOG_EVERY = 100  # print the training and held-out losses every this many steps (and at the end)
PROMPT = "The "  # the sample at the end continues this text
SAMPLE_LENGTH = 400  # characters to write at the end
TEMPERATURE = 0.7  # below 1: safer, more repetitive samples; above 1: wilder ones
OUT_DIR = Path("out")  # the loss plot goes here, relative to the working directory
SMOKE_STEPS = 30  # --smoke: this many steps
SMOKE_CHARS = 1000  # --smoke: learn only the first this many characters
SMOKE_SAMPLE_LENGTH = 60  # --smoke: a short sample


class CharLSTM(nn.Module):
    """Character ids (N, L) -> scores for the next character (N, L, vocab_size)."""

    def __init__(self, vocab_size, embedding_dim=EMBEDDING_DIM, hidden_size=HIDDEN_SIZE):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        """Returns (logits, (h, c)); pass (h, c) back in to continue where it stopped."""
        vectors = self.embedding(ids)  # (N, L, embedding_dim)
        outputs, state = self.lstm(vectors, state)  # (N, L, hidden_size)
        return self.head(outputs), state


def load_text(chars=None):
    """The text (or its first `chars` characters) and its alphabet, sorted."""
    text = TEXT_PATH.read_text(encoding="utf-8")
    if chars is not None:
        text = text[:chars]
    return text, sorted(set(text))


def make_streams(ids, batch_size):
    """Cut the id sequence into `batch_size` equal streams: inputs and next-character
    targets, both (batch_size, stream_length)."""
    length = (len(ids) - 1) // batch_size
    inputs = ids[: batch_size * length].reshape(batch_size, length)
    targets = ids[1 : batch_size * length + 1].reshape(batch_size, length)
    return inputs, targets


@tg.no_grad()
def held_out_loss(model, ids):
    """Cross-entropy of the model reading `ids` (1-D) from a fresh state, in one sequence."""
    logits, _ = model(tg.Tensor(ids[None, :-1]))  # (1, L, vocab)
    return tg.cross_entropy(logits.reshape(-1, logits.shape[-1]), tg.Tensor(ids[1:])).item()


def clip_grad_norm(parameters, max_norm):
    """Scale every gradient by one factor so that their joint norm is at most `max_norm`.

    Returns the norm before clipping.  New gradient tensors are made rather than scaling
    in place: two parameters may share one gradient array.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    norm = math.sqrt(sum(float((g.numpy().astype(np.float64) ** 2).sum()) for g in grads))
    if norm > max_norm:
        scale = max_norm / (norm + 1e-6)
        with tg.no_grad():
            for p in parameters:
                if p.grad is not None:
                    p.grad = p.grad * scale
    return norm


@tg.no_grad()
def sample(model, alphabet, prompt, length, temperature, seed):
    """`prompt` followed by `length` characters drawn one at a time from the model."""
    index = {char: i for i, char in enumerate(alphabet)}
    rng = np.random.default_rng(seed)
    ids = np.array([[index[char] for char in prompt]])
    logits, state = model(tg.Tensor(ids))  # read the prompt; keep the state it leaves
    written = []
    for _ in range(length):
        scores = logits.numpy()[0, -1].astype(np.float64) / temperature
        probabilities = np.exp(scores - scores.max())
        probabilities /= probabilities.sum()
        next_id = int(rng.choice(len(alphabet), p=probabilities))
        written.append(alphabet[next_id])
        logits, state = model(tg.Tensor(np.array([[next_id]])), state)
    return prompt + "".join(written)


def progress(iterable, enabled, description):
    """A tqdm progress bar around `iterable` when tqdm is installed and `enabled`."""
    if enabled:
        try:
            from tqdm import tqdm
        except ImportError:
            return iterable
        return tqdm(iterable, desc=description, leave=False)
    return iterable


def plot_losses(losses, held_out, baseline, path):
    """Training loss per step, held-out loss where measured, and the uniform guess."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only: works without a display
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no plot (it would go to {path})")
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(losses, linewidth=0.8, label="training loss")
    ax.plot(list(held_out), list(held_out.values()), "o-", label="held-out loss")
    ax.axhline(baseline, color="gray", linestyle="--", label="uniform guess, log(vocab)")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.set_title("char_rnn: LSTM on examples/data/tiny_text.txt")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"plot saved to {path}")
    return path


def main(steps=STEPS, seed=0, smoke=False, log_every=LOG_EVERY, temperature=TEMPERATURE):
    """Train the LSTM for `steps` steps, print the loss falling and a sample.

    Returns a dict: "first_loss", "final_loss" (mean of the last 20 steps' losses),
    "uniform_loss" (log of the alphabet size: the loss of a uniform guess), "losses",
    "held_out" ({step: loss on the held-out text}, at each logged step),
    "sample" (the written text), "vocab_size", "characters" (length of the text),
    "seconds" and "plot" (a path or None).
    """
    sample_length = SAMPLE_LENGTH
    chars = None
    if smoke:
        steps = min(steps, SMOKE_STEPS)
        sample_length = SMOKE_SAMPLE_LENGTH
        chars = SMOKE_CHARS
    text, alphabet = load_text(chars)
    index = {char: i for i, char in enumerate(alphabet)}
    ids = np.array([index[char] for char in text], dtype=np.int64)
    cut = int(len(ids) * (1.0 - HELD_OUT))
    train_ids, held_out_ids = ids[:cut], ids[cut:]
    inputs, targets = make_streams(train_ids, BATCH_SIZE)
    uniform_loss = math.log(len(alphabet))
    print(
        f"{len(text)} characters, {len(alphabet)} distinct, the last {len(held_out_ids)} held "
        f"out; {BATCH_SIZE} streams of {inputs.shape[1]}, {SEQ_LEN} characters per step; a "
        f"uniform guess scores {uniform_loss:.3f}"
    )

    tg.manual_seed(seed)  # the initial weights
    model = CharLSTM(len(alphabet))
    parameters = list(model.parameters())
    optimizer = optim.Adam(parameters, lr=LEARNING_RATE)

    losses = []
    held_out = {}  # step -> loss on the held-out text
    state = None  # (h, c) carried from one step to the next; None = start of the streams
    position = 0  # where in the streams the next step reads
    bar = progress(range(steps), not smoke, "char_rnn")
    say = getattr(bar, "write", print)  # tqdm.write prints above the bar, not through it
    start = time.perf_counter()
    for step in bar:
        if position + SEQ_LEN > inputs.shape[1]:  # the streams are used up: start again
            position, state = 0, None
        x = tg.Tensor(inputs[:, position : position + SEQ_LEN])
        y = tg.Tensor(targets[:, position : position + SEQ_LEN])
        position += SEQ_LEN

        logits, state = model(x, state)
        # (N, L, vocab) scores against (N, L) next characters: one row per character.
        loss = tg.cross_entropy(logits.reshape(-1, len(alphabet)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm(parameters, CLIP_NORM)
        optimizer.step()
        # Truncation: keep the state's values, forget how they were computed.  Without
        # detach the next backward would walk into this step's graph, already freed.
        state = (state[0].detach(), state[1].detach())

        losses.append(loss.item())
        if log_every and (step % log_every == 0 or step == steps - 1):
            held_out[step] = held_out_loss(model, held_out_ids)
            say(f"step {step:5d}   loss {losses[-1]:.4f}   held-out loss {held_out[step]:.4f}")
    seconds = time.perf_counter() - start

    final_loss = float(np.mean(losses[-20:]))
    print(
        f"{steps} steps in {seconds:.1f} s: loss {losses[0]:.3f} -> {final_loss:.3f} "
        f"(mean of the last {min(20, steps)} steps)"
    )
    if held_out:
        best = min(held_out, key=held_out.get)
        print(
            f"held-out loss: lowest {held_out[best]:.3f} at step {best}, "
            f"{held_out[max(held_out)]:.3f} at the end"
        )
    model.eval()
    written = sample(model, alphabet, PROMPT, sample_length, temperature, seed)
    print(f"sample (seed {seed}, temperature {temperature}):\n{written}")

    path = None
    if not smoke:
        path = plot_losses(losses, held_out, uniform_loss, OUT_DIR / "char_rnn_loss.png")
    return {
        "first_loss": losses[0],
        "final_loss": final_loss,
        "uniform_loss": uniform_loss,
        "losses": losses,
        "held_out": held_out,
        "sample": written,
        "vocab_size": len(alphabet),
        "characters": len(text),
        "seconds": seconds,
        "plot": path,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=STEPS, help="optimizer steps")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the sample")
    parser.add_argument("--temperature", type=float, default=TEMPERATURE, help="sampling")
    parser.add_argument("--smoke", action="store_true", help="a few steps, small data, no plot")
    args = parser.parse_args()
    main(steps=args.steps, seed=args.seed, smoke=args.smoke, temperature=args.temperature)
