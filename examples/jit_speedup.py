"""tg.jit on the lecture's 1-3-1 tanh net: the same training eagerly and jitted.

    python examples/jit_speedup.py            # 3,000 steps each
    python examples/jit_speedup.py --smoke    # 300 steps each, a second or so

Both runs start from the same weights and take the same steps (SGD with momentum, fitting
y = x**(1/3) on 30 points).  The jitted step is recorded on its first calls and replayed
afterwards (docs/jit.md); the script prints the time of each run, whether the final
weights are equal bit for bit, and the recording itself: one line per array operation.
"""

import argparse
import time

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

WARM_UP = 3  # steps not timed: tg.jit records on the first calls


def make_model(seed=0):
    tg.manual_seed(seed)
    return nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1))


def train(steps, jitted):
    model = make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x = tg.Tensor(np.linspace(0.0, 1.0, 30, dtype=np.float32).reshape(30, 1))
    y = x ** (1 / 3)

    def step(x, y):
        optimizer.zero_grad()
        loss = tg.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    run = tg.jit(step) if jitted else step
    for _ in range(WARM_UP):  # the jitted step records here (its first calls run eagerly)
        run(x, y)
    start = time.perf_counter()
    for _ in range(steps - WARM_UP):
        loss = run(x, y)
    seconds = time.perf_counter() - start
    return model, loss.item(), seconds / (steps - WARM_UP), run


def main(steps=3000):
    eager_model, eager_loss, eager_seconds, _ = train(steps, jitted=False)
    jit_model, jit_loss, jit_seconds, step = train(steps, jitted=True)
    equal = all(
        np.array_equal(a.numpy(), b.numpy())
        for a, b in zip(eager_model.parameters(), jit_model.parameters())
    )
    print(f"1-3-1 tanh net, {steps} SGD steps (momentum 0.9), float32")
    print(f"time per step after the first {WARM_UP} (when tg.jit records):")
    print(f"  eager  {eager_seconds * 1e6:7.1f} us")
    print(f"  jitted {jit_seconds * 1e6:7.1f} us  ({eager_seconds / jit_seconds:.1f}x faster)")
    print(f"tg.jit: {step.traces} recordings made, {step.replays} replays")
    print(f"final loss: eager {eager_loss:.6f}, jitted {jit_loss:.6f}")
    print(f"weights equal: {equal}")
    print()
    print(step.recording)
    return equal


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="300 steps each")
    args = parser.parse_args()
    if not main(steps=300 if args.smoke else 3000):
        raise SystemExit("the jitted weights differ from the eager ones")
