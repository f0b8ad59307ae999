"""`make gpu-check`: the test suite on a real GPU, then a short training run CPU vs GPU.

Where no CUDA GPU is usable it prints one line saying why and exits 0, so it is safe to
run anywhere.  Where one is usable it:
1. runs the whole test suite with TINYGRAD_EDU_TEST_DEVICES=cuda (every op's gradcheck,
   first and second order, every autograd test, on CuPy arrays);
2. trains the same MLP (784-512-512-10, ReLU, cross-entropy, batch 512, float32) for a
   few steps on "cpu" and on "cuda" from the same initial weights, and prints the time
   per step on each and the speedup.
Exit status: the test suite's (0 when everything passed).
"""

import os
import subprocess
import sys
import time

import numpy as np

import tinygrad_edu as tg

STEPS = 20  # timed training steps per device (after 3 warm-up steps)
BATCH = 512  # samples per step
SIZES = (784, 512, 512, 10)  # the MLP's layer sizes


def train_seconds_per_step(device):
    """Median seconds per SGD step of the MLP on `device`."""
    rng = np.random.default_rng(0)
    x = tg.Tensor(rng.random((BATCH, SIZES[0]), dtype=np.float32), device=device)
    y = tg.Tensor(rng.integers(0, SIZES[-1], BATCH), device=device)
    params = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        w = rng.standard_normal((fan_in, fan_out)).astype(np.float32) / np.sqrt(fan_in)
        params += [
            tg.Tensor(w, requires_grad=True, device=device),
            tg.zeros(fan_out, requires_grad=True, device=device),
        ]
    times = []
    for step in range(STEPS + 3):
        start = time.perf_counter()
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = h.relu()
        loss = tg.cross_entropy(h, y)
        loss.backward()
        with tg.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None
        loss.item()  # waits for the GPU to finish the step
        if step >= 3:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def main():
    if not tg.cuda_is_available():
        try:
            tg.get_device("cuda")
        except tg.DeviceError as error:
            print(f"gpu-check skipped: {error}")
        return 0
    env = dict(os.environ, TINYGRAD_EDU_TEST_DEVICES="cuda", HYPOTHESIS_PROFILE="ci")
    print("== test suite on cuda ==", flush=True)
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests"], env=env)
    print("== training: MLP 784-512-512-10, batch 512, float32 ==")
    cpu = train_seconds_per_step("cpu")
    gpu = train_seconds_per_step("cuda")
    print(f"cpu  {cpu * 1e3:8.2f} ms/step")
    print(f"cuda {gpu * 1e3:8.2f} ms/step")
    print(f"speedup {cpu / gpu:.1f}x")
    return tests.returncode


if __name__ == "__main__":
    sys.exit(main())
