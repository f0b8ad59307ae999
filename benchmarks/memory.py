"""Peak memory of one training step, tinygrad_edu against hand-written NumPy (`run.py --memory`).

What lives here: `peak_bytes`, the peak memory one call of a step allocates, and
`measure`, both sides of one workload measured that way.  What does not: timing and
printing (run.py), the workloads themselves (workloads/).

How: `tracemalloc` sees every block Python allocates, and NumPy reports its array
buffers to it, so it counts the arrays and the Python objects around them (tensors, graph
nodes, tuples, lists).  Tracing starts just before the step, so only what the step itself
allocates is counted; inputs and parameters made earlier are not, on either side.  It does
not see memory that BLAS allocates for itself, the allocator's own overhead, or GPU memory.
"""

import gc
import tracemalloc


def peak_bytes(step, state):
    """The most memory (bytes) in use at once during one call `step(state)`, counting only
    blocks allocated during the call.

    The garbage collector runs first, so leftovers of earlier steps are neither freed nor
    counted inside this one.  If tracemalloc is already tracing (PYTHONTRACEMALLOC), it is
    left on and what it traced before the call is subtracted.
    """
    gc.collect()
    started_here = not tracemalloc.is_tracing()
    if started_here:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        result = step(state)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if started_here:
            tracemalloc.stop()
    del result  # what the step returned was counted while it existed; now it may go
    return peak - baseline


def measure(workload, seed):
    """{"numpy": bytes, "tg": bytes, "ratio": tg / numpy} for one step of each side.

    One warm-up step of each side first, so that what a step creates once and then keeps
    (lazily made caches, optimizer state) exists before the measured step, as it does in
    the middle of training.
    """
    state = workload.setup(seed)
    workload.numpy_step(state)
    workload.tg_step(state)
    numpy_peak = peak_bytes(workload.numpy_step, state)
    tg_peak = peak_bytes(workload.tg_step, state)
    return {"numpy": numpy_peak, "tg": tg_peak, "ratio": tg_peak / numpy_peak}
