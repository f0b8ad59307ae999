"""Benchmark runner: tinygrad_edu against hand-written NumPy, in one process.

    python benchmarks/run.py [names...] [--repeats N] [--quick] [--malloc-tuned] [--profile]
                             [--memory] [--jit] [--peers | --peer NAME ...]

For each workload (benchmarks/workloads/, listed by `--list`) it
1. builds the data and initial weights once (`setup`), one copy for each side,
2. runs one step of each side and checks that both computed the same loss, gradients and
   updated weights (relative 1e-5), so the comparison is of the same work,
3. times batches of steps, alternating NumPy and tinygrad_edu (a, b, a, b, ...) so that
   both see the same machine state (frequency, cache, noisy neighbours),
4. prints the median time per step of each side and the ratio tinygrad_edu / NumPy,
5. with --memory, measures the peak memory of one step of each side (benchmarks/memory.py)
   and prints its ratio tinygrad_edu / NumPy in a second table,
6. with --jit, also times the same tinygrad_edu step under `tg.jit` (recorded once, then
   replayed: docs/jit.md) in the same rounds, checked against NumPy on replayed steps,
   and prints its ratio to NumPy in extra columns,
7. then, with --peers, does 1-4 for each other autograd library that is installed
   (benchmarks/peers/): its ratio to NumPy, from the same start, in the same process.

README.md in this folder explains the workloads, the targets and the measured results.
"""

import os
import sys

# BLAS reads its thread count when NumPy loads it, so the pins must come before `import
# numpy`.  One thread on both sides: a multi-threaded matmul would make the ratio depend on
# how many idle cores the machine happens to have.  A value the user set is kept.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# After a --malloc-tuned re-exec the pins are inherited; this remembers they were ours.
PINNED_MARK = "TG_BENCH_PINNED_THREADS"
PINNED_HERE = tuple(
    name
    for name in THREAD_VARS
    if name not in os.environ or name in os.environ.get(PINNED_MARK, "").split(",")
)
for _name in PINNED_HERE:
    os.environ[_name] = "1"
os.environ[PINNED_MARK] = ",".join(PINNED_HERE)

import argparse  # noqa: E402
import cProfile  # noqa: E402
import gc  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import types  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

# Benchmark the working tree this file sits in, not some other installed copy.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import tinygrad_edu as tg  # noqa: E402
from benchmarks import memory  # noqa: E402
from benchmarks.peers import PEERS  # noqa: E402
from benchmarks.peers import load as load_peers  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

SEED = 0
RTOL = 1e-5  # relative agreement both sides must reach in the start-up check
DEFAULT_REPEATS = 7  # timed batches per side; the median is reported
# Short batches pair better: on a shared machine the load changes within seconds, and the
# two halves of a pair should see the same load.
BATCH_SECONDS = 0.1  # wall time of one timed batch of the slower side
QUICK_REPEATS = 3
QUICK_BATCH_SECONDS = 0.02  # --quick: the whole run stays within a few seconds

# By default glibc malloc hands big freed blocks back to the OS: blocks from 128 KiB up (a
# limit that adapts) are mmap-ed one by one, and free memory at the top of the heap is
# trimmed.  The next array of that size then page-faults its memory in again, on every op.
# These settings keep freed memory in the process; `--malloc-tuned` re-executes with them.
MALLOC_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
MALLOC_TUNED = {
    "MALLOC_MMAP_THRESHOLD_": "1000000000",
    "MALLOC_TRIM_THRESHOLD_": "1000000000",
    "MALLOC_TOP_PAD_": "536870912",
}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Time tinygrad_edu against hand-written NumPy (ratios, same process)."
    )
    parser.add_argument(
        "names", nargs="*", help=f"workloads to run (default: all of {', '.join(WORKLOADS)})"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"timed batches per side (default {DEFAULT_REPEATS}, {QUICK_REPEATS} with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short batches and few repeats: a smoke run of a few seconds",
    )
    parser.add_argument(
        "--malloc-tuned",
        action="store_true",
        help="re-execute with glibc malloc tuned to keep freed memory (see README.md)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after timing, cProfile the tinygrad_edu step of each chosen workload",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also measure the peak memory of one step of each side (tracemalloc, see README.md)",
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help=f"also time the other autograd libraries that import ({', '.join(PEERS)})",
    )
    parser.add_argument(
        "--peer",
        action="append",
        choices=list(PEERS),
        metavar="NAME",
        help="time this peer only (repeatable; implies --peers)",
    )
    parser.add_argument(
        "--jit",
        action="store_true",
        help="also time each tinygrad_edu step under tg.jit (extra columns: jit ms, jit ratio)",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in WORKLOADS]
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}"
        )
    if args.repeats is None:
        args.repeats = QUICK_REPEATS if args.quick else DEFAULT_REPEATS
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    # In the order of PEERS, whatever the order asked for (micrograd last, see there).
    args.peer_names = [name for name in PEERS if name in (args.peer or ())]
    if args.peers and not args.peer:
        args.peer_names = list(PEERS)
    return args


def reexec_with_tuned_malloc(argv):
    """Start this script again with the tuned malloc settings, unless they are in effect.

    glibc reads these variables once, when the process starts, so setting them in
    os.environ now would change nothing: the process has to be replaced.
    """
    if all(os.environ.get(name) == value for name, value in MALLOC_TUNED.items()):
        return
    settings = " ".join(f"{name}={value}" for name, value in MALLOC_TUNED.items())
    print(f"--malloc-tuned: re-executing with {settings}", flush=True)
    env = dict(os.environ, **MALLOC_TUNED)
    os.execve(sys.executable, [sys.executable, str(Path(__file__).resolve())] + argv, env)


# ---- what this run is measured on -----------------------------------------------------


def limit_threads_with_threadpoolctl():
    """Also pin threads at run time when threadpoolctl is installed (it is optional): it
    catches a BLAS that ignores the environment variables.  Returns a description."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return "threadpoolctl not installed (environment variables only)"
    threadpool_limits(limits=1)
    pools = ", ".join(
        f"{pool.get('internal_api')}={pool.get('num_threads')}" for pool in threadpool_info()
    )
    return f"threadpoolctl limits=1 ({pools or 'no thread pools found'})"


def blas_name():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # NumPy < 1.25 has no mode="dicts"; the name is only informative
        return "unknown"


def cpu_name():
    name = platform.processor()
    if name and name != platform.machine():
        return name
    try:  # on Linux platform.processor() is often empty; /proc/cpuinfo has the model
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return name or "unknown"


def print_environment(args):
    threads = ", ".join(
        f"{name}={os.environ[name]}" + (" (set by run.py)" if name in PINNED_HERE else " (yours)")
        for name in THREAD_VARS
    )
    malloc = ", ".join(f"{name}={os.environ[name]}" for name in MALLOC_VARS if name in os.environ)
    if args.malloc_tuned:
        malloc += " (--malloc-tuned)"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    cpus = f"{os.cpu_count()} CPUs, nproc {usable}"
    show("python", f"{platform.python_version()} ({platform.python_implementation()})")
    show("numpy", f"{np.__version__}, BLAS {blas_name()}")
    show("tinygrad_edu", f"{tg.__version__} from {Path(tg.__file__).parent} ({git_state()})")
    show("machine", f"{cpu_name()}, {platform.machine()}, {cpus}")
    show("BLAS threads", threads)
    show("", limit_threads_with_threadpoolctl())
    show("allocator", malloc or "glibc defaults (MALLOC_*_ unset)")
    show("timing", "median time per step; NumPy and tinygrad_edu batches interleaved;")
    show("", "garbage collector on, and run before each batch")
    show("load", describe_load())
    print()


def git_state():
    """The commit being measured, and whether the working tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "tinygrad_edu"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return f"git {commit}" + (", with uncommitted changes in tinygrad_edu/" if changes else "")


def show(label, text):
    print(f"{label:<13}{text}")


def describe_load():
    """The 1-minute load average, with a warning when other processes compete for the CPUs:
    the ratios then get noisier (both sides are slowed, but not always equally)."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    load = os.getloadavg()[0]
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    busy = load >= usable  # this run itself adds about 1
    text = f"{load:.2f} (1-minute average, {usable} usable CPUs)"
    return text + (" -- machine busy, expect noisy ratios" if busy else "")


# ---- checking and timing ---------------------------------------------------------------


def check_same_work(name, workload, state, tg_step=None):
    """One step of each side from the same start; fail loudly if they disagree.
    tg_step: the tinygrad_edu step to check (default workload.tg_step; the jitted one).

    Also compares dtypes: a silent float64 upcast on one side would be a different
    (slower) computation, not the same work.
    """
    loss_np, grads_np = workload.numpy_step(state)
    loss_tg, grads_tg = (tg_step or workload.tg_step)(state)
    assert_close(f"{name}: loss", np.asarray(loss_tg), np.asarray(loss_np))
    assert len(grads_np) == len(grads_tg), f"{name}: {len(grads_np)} vs {len(grads_tg)} grads"
    for i, (g_np, g_tg) in enumerate(zip(grads_np, grads_tg)):
        assert_close(f"{name}: gradient {i}", g_tg, g_np)
    # The updated weights, where a workload trains: the update must match too.
    for i, (p_np, p_tg) in enumerate(zip(state.get("np_params", ()), state.get("tg_params", ()))):
        assert_close(f"{name}: updated parameter {i}", p_tg.data, p_np)


def assert_close(what, actual, expected, side="tinygrad_edu"):
    """Elementwise |actual - expected| <= RTOL * (|expected| + max|expected|).

    The max term lets entries near zero (a gradient summing to ~0) differ by rounding
    relative to the array's scale instead of to their own tiny value.
    """
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} vs {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} vs {expected.dtype}"
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    bound = RTOL * (np.abs(expected.astype(np.float64)) + scale)
    if not np.all(error <= bound):
        worst = int(np.argmax(error - bound))
        raise AssertionError(
            f"{what}: {side} and NumPy disagree: at flat index {worst}, "
            f"{actual.flat[worst]!r} vs {expected.flat[worst]!r} (rtol {RTOL})"
        )


def minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_batch(step, state, steps):
    """(seconds per step, minor page faults per step) over `steps` consecutive steps.

    Collecting garbage first means one side's leftovers are never collected on the other
    side's clock.
    """
    gc.collect()
    faults = minor_faults()
    start = time.perf_counter()
    for _ in range(steps):
        step(state)
    elapsed = time.perf_counter() - start
    return elapsed / steps, (minor_faults() - faults) / steps


# Targets for the jitted step (tg.jit), as time / hand-written NumPy time; others: none.
JIT_TARGETS = {"tanh-3": 1.5, "overhead": 1.5, "seed-mlp": 1.05, "mnist-mlp": 1.05}
JIT_CHECK_STEPS = 5  # lockstep steps of the check: two recordings, then replays


def make_jit_step(workload, state):
    """The workload's tinygrad_edu step under tg.jit, called as time_batch calls steps."""
    jitted = tg.jit(lambda: workload.tg_step(state))
    return lambda _state: jitted(), jitted


def check_jit_same_work(name, workload):
    """NumPy and the jitted step in lockstep from the same start: every step, replayed ones
    above all, must compute the same loss, gradients and updated weights."""
    state = getattr(workload, "setup_for_check", workload.setup)(SEED)
    step, jitted = make_jit_step(workload, state)
    for k in range(JIT_CHECK_STEPS):
        check_same_work(f"{name} (jit, step {k + 1})", workload, state, step)
    assert jitted.replays > 0, f"{name}: tg.jit never replayed ({jitted})"


def steps_per_batch(workload, state, batch_seconds):
    """How many steps make one batch of the slower side last about `batch_seconds`."""
    slowest = max(
        time_batch(workload.numpy_step, state, 3)[0], time_batch(workload.tg_step, state, 3)[0]
    )
    return max(1, round(batch_seconds / slowest))


def bench(name, workload, repeats, batch_seconds, with_jit=False):
    # A workload whose own gradients are too small to tell right from wrong (the float32
    # chain of `overhead`) offers a second, smaller state for the check.
    setup_for_check = getattr(workload, "setup_for_check", None)
    if setup_for_check is not None:
        check_same_work(f"{name} (check state)", workload, setup_for_check(SEED))
    state = workload.setup(SEED)
    check_same_work(name, workload, state)
    steps = steps_per_batch(workload, state, batch_seconds)  # also the warm-up
    if with_jit:
        check_jit_same_work(name, workload)
        jit_step, _ = make_jit_step(workload, state)
        time_batch(jit_step, state, 3)  # records it (twice), then replays
    times_np, times_tg, faults_np, faults_tg, times_jit, paired_jit = [], [], [], [], [], []
    for _ in range(repeats):
        seconds, faults = time_batch(workload.numpy_step, state, steps)
        times_np.append(seconds)
        faults_np.append(faults)
        seconds, faults = time_batch(workload.tg_step, state, steps)
        times_tg.append(seconds)
        faults_tg.append(faults)
        if with_jit:
            times_jit.append(time_batch(jit_step, state, steps)[0])
            paired_jit.append(times_jit[-1] / times_np[-1])
    # Each tinygrad_edu batch against the NumPy batch just before it: when the machine's
    # speed drifts during the run, these ratios drift much less than the times do.
    paired = [b / a for a, b in zip(times_np, times_tg)]
    return {
        "name": name,
        "numpy": statistics.median(times_np),
        "tg": statistics.median(times_tg),
        "ratio": statistics.median(times_tg) / statistics.median(times_np),
        "paired": statistics.median(paired),
        "lo": min(paired),
        "hi": max(paired),
        "faults_np": statistics.median(faults_np),
        "faults_tg": statistics.median(faults_tg),
        "steps": steps,
        "target": workload.TARGET,
        "reference": reference_of(workload),
        "jit": statistics.median(times_jit) if with_jit else None,
        "jit_ratio": statistics.median(times_jit) / statistics.median(times_np)
        if with_jit
        else None,
        "jit_paired": statistics.median(paired_jit) if with_jit else None,
        "jit_target": JIT_TARGETS.get(name),
    }


def reference_of(workload):
    """What a workload's "numpy" side is: hand-written NumPy, or (tiny-gpt) PyTorch CPU."""
    return getattr(workload, "REFERENCE", "NumPy")


def print_table(rows, repeats):
    header = (
        f"{'workload':<13} {'numpy ms':>9} {'tg ms':>9} {'ratio':>6} {'target':>6} {'met':>4} "
        f"{'paired':>6} {'range':>10} {'faults np/tg':>13} {'steps x reps':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        target, met = target_and_met(row["ratio"], row["target"])
        spread = f"{row['lo']:.2f}-{row['hi']:.2f}"
        faults = f"{row['faults_np']:.0f}/{row['faults_tg']:.0f}"
        label = row["name"] if row["reference"] == "NumPy" else row["name"] + "*"
        print(
            f"{label:<13} {row['numpy'] * 1e3:>9.3f} {row['tg'] * 1e3:>9.3f} "
            f"{row['ratio']:>6.2f} {target:>6} {met:>4} {row['paired']:>6.2f} "
            f"{spread:>10} {faults:>13} {row['steps']:>7} x {repeats:<3}"
        )
    print()
    print("numpy ms, tg ms: median time per step.  ratio = tg ms / numpy ms, the number the")
    print("targets are for (1.00 = as fast as hand-written NumPy).  paired, range: median and")
    print("min-max of each tinygrad_edu batch's time over the NumPy batch run just before it;")
    print("a wide range means the machine was busy.  faults: minor page faults per step.")
    for row in rows:
        if row["reference"] != "NumPy":
            print(
                f"* {row['name']}: its 'numpy' side is the same step in {row['reference']} "
                f"(no hand-written NumPy twin): ratio = tg / {row['reference']}."
            )


def print_jit_table(rows):
    print("\nthe same tinygrad_edu step under tg.jit (recorded, then replayed), same rounds:")
    header = (
        f"{'workload':<13} {'numpy ms':>9} {'eager':>6} {'jit ms':>9} {'jit':>6} {'target':>6} "
        f"{'met':>4} {'paired':>6}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        target, met = target_and_met(row["jit_ratio"], row["jit_target"])
        print(
            f"{row['name']:<13} {row['numpy'] * 1e3:>9.3f} {row['ratio']:>6.2f} "
            f"{row['jit'] * 1e3:>9.3f} {row['jit_ratio']:>6.2f} {target:>6} {met:>4} "
            f"{row['jit_paired']:>6.2f}"
        )
    print()
    print("eager, jit: ratio of the median time per step to NumPy's (1.00 = as fast as NumPy);")
    print("paired: the median of each jit batch's time over the NumPy batch just before it.")


def target_and_met(ratio, target):
    """The target column and the met column; a workload without a target (None) shows '-'."""
    if target is None:
        return "-", "-"
    return f"{target:.2f}", "yes" if ratio <= target else "NO"


# ---- memory: the peak of one step (benchmarks/memory.py) -------------------------------


def bench_memory(name, workload):
    row = memory.measure(workload, SEED)
    row["name"] = name
    row["target"] = workload.MEMORY_TARGET
    return row


def size(n_bytes):
    """1234 -> '1.2 kB', 2345678 -> '2.35 MB' (decimal units, as the README's tables)."""
    if n_bytes >= 1e6:
        return f"{n_bytes / 1e6:.2f} MB"
    if n_bytes >= 1e3:
        return f"{n_bytes / 1e3:.1f} kB"
    return f"{n_bytes} B"


def print_memory_table(rows):
    print("\npeak memory of one step (tracemalloc), after one warm-up step of each side:")
    header = (
        f"{'workload':<13} {'numpy peak':>10} {'tg peak':>10} {'ratio':>6} {'target':>6} {'met':>4}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        target, met = target_and_met(row["ratio"], row["target"])
        print(
            f"{row['name']:<13} {size(row['numpy']):>10} {size(row['tg']):>10} "
            f"{row['ratio']:>6.2f} {target:>6} {met:>4}"
        )
    print()
    print("peak: the most memory in use at once during one step, counting only what the step")
    print("allocates (arrays and Python objects; the inputs and parameters made before it are")
    print("not counted).  ratio = tg peak / numpy peak (1.00 = no more than hand-written NumPy).")


# ---- peers: other autograd libraries (benchmarks/peers/) --------------------------------


def call(step):
    """Peers' steps are closures over their own state: time_batch(call, step, n)."""
    return step()


def check_peer(name, workload, peer, make):
    """Two steps of NumPy and of the peer, each from the same fresh start, must agree: the
    first step's loss and gradients, then the second's, which start from the updated
    weights (so the update is checked too).

    The check uses the workload's `setup_for_check` state where it has one: the float32
    `overhead` chain ends in denormal gradients, which another order or precision of
    arithmetic (DeZero's float64) gets right where NumPy's float32 does not.

    Returns a note when the peer's results have another dtype than NumPy's; that fails
    the check unless the peer module says why in `OTHER_DTYPE` (micrograd computes in
    Python floats), and then the results are rounded to NumPy's dtype to be compared.
    """
    state = getattr(workload, "setup_for_check", workload.setup)(SEED)
    step = make(state)  # copies the initial weights before numpy_step updates them
    dtypes = set()
    for k in (1, 2):
        loss_np, grads_np = workload.numpy_step(state)
        loss_p, grads_p = step()
        expected = [np.asarray(loss_np)] + list(grads_np)
        results = [np.asarray(loss_p)] + [np.asarray(g) for g in grads_p]
        assert len(results) == len(expected), f"{len(results) - 1} gradients"
        labels = ["loss"] + [f"gradient {i}" for i in range(len(grads_np))]
        for what, actual, wanted in zip(labels, results, expected):
            if actual.dtype != wanted.dtype and hasattr(peer, "OTHER_DTYPE"):
                dtypes.add(f"{what.split()[0]} {actual.dtype} (NumPy {wanted.dtype})")
                actual = actual.astype(wanted.dtype)
            assert_close(f"{name}, step {k}: {what}", actual, wanted, side=peer.LIBRARY)
    return f"{', '.join(sorted(dtypes))}: {peer.OTHER_DTYPE}" if dtypes else None


def steps_for(step, state, batch_seconds):
    """How many steps make one batch of `step` last about `batch_seconds`."""
    seconds = time_batch(step, state, 1)[0]  # also the warm-up
    if seconds < batch_seconds / 10:
        seconds = time_batch(step, state, 3)[0]
    return max(1, round(batch_seconds / seconds))


def bench_peer(name, workload, peer, repeats, batch_seconds):
    """(median time per step of the peer / NumPy's, or why there is none; a note or None).

    Rounds of one NumPy batch and one batch of the peer, as for tinygrad_edu, but each
    side has its own number of steps per batch (about `batch_seconds`): the peers'
    speeds span 1000x.
    """
    make = peer.STEPS.get(name)
    if make is None:
        return peer.SKIPPED.get(name, "no step for this workload"), None
    try:
        note = check_peer(name, workload, peer, make)
    except Exception as error:  # a peer's bug or version quirk: report it, go on
        return f"check failed, not timed: {type(error).__name__}: {error}", None
    state = workload.setup(SEED)
    step = make(state)  # copies the weights before the NumPy steps below update them
    steps_np = steps_for(workload.numpy_step, state, batch_seconds)
    steps_peer = steps_for(call, step, batch_seconds)
    times_np, times_peer = [], []
    for _ in range(repeats):
        times_np.append(time_batch(workload.numpy_step, state, steps_np)[0])
        times_peer.append(time_batch(call, step, steps_peer)[0])
    return statistics.median(times_peer) / statistics.median(times_np), note


def tinygrad_edu_as_peer():
    """tinygrad_edu in the peers' rounds and conditions, so that their table compares like
    with like; it goes through the same check."""

    def make_for(workload):
        return lambda state: lambda: workload.tg_step(state)

    steps = {name: make_for(workload) for name, workload in WORKLOADS.items()}
    return types.SimpleNamespace(LIBRARY="tinygrad_edu", STEPS=steps, SKIPPED={})


def bench_peers(names, peer_names, repeats, batch_seconds):
    """Import the peers and time them on every workload, one library after another."""
    peers, missing = load_peers(peer_names)
    # torch alone brings 145,000 objects that every full garbage collection would walk, so
    # each library's collections would cost more the more libraries are imported.  Frozen
    # (moved to a generation the collector skips), they cost nothing; garbage made while
    # the steps run is collected as usual.
    gc.collect()
    gc.freeze()
    print("\npeers (their imports frozen out of the garbage collector; each library in rounds")
    print("with its own NumPy batches, after the table above):")
    for name, peer in peers.items():
        show(f"  {name}", peer.describe())
    for name, reason in missing.items():
        show(f"  {name}", f"not run: {reason}")
    libraries = {"tinygrad_edu": tinygrad_edu_as_peer(), **peers}
    results = {}
    for library_name, library in libraries.items():
        for name in names:
            results[library_name, name] = bench_peer(
                name, WORKLOADS[name], library, repeats, batch_seconds
            )
    return list(libraries), results


def print_peer_table(rows, libraries, results):
    header = f"{'workload':<13}" + "".join(f" {name:>12}" for name in libraries)
    print("\nratio to hand-written NumPy, per library (1.00 = as fast as NumPy; - = not run):")
    print(header)
    print("-" * len(header))
    notes = []
    for row in rows:
        line = f"{row['name']:<13}"
        for library in libraries:
            ratio, note = results[library, row["name"]]
            if isinstance(ratio, str):
                notes.append(f"{library} on {row['name']}: {ratio}")
                line += f" {'-':>12}"
            else:
                line += f" {ratio:>12.2f}" if ratio < 100 else f" {ratio:>12.0f}"
            if note:
                notes.append(f"{library} on {row['name']}: {note}")
        print(line)
    print()
    print("Each ratio: the library's median time per step over NumPy's, in rounds of one NumPy")
    print("batch and one batch of that library.  tinygrad_edu is timed again here, in the same")
    print("conditions as the peers; the table above has its reference ratios.")
    for note in notes:
        print(f"  {note}")


def profile_tg_step(name, workload, seconds):
    """Where tinygrad_edu's time goes: cProfile over about `seconds` of steps, top functions
    by own time.

    cProfile adds a fixed cost to every Python call, so it overstates the share of small
    functions; use it for the ranking, and the timing table for the size.
    """
    state = workload.setup(SEED)
    one_step = time_batch(workload.tg_step, state, 3)[0]  # also the warm-up
    steps = max(3, round(seconds / one_step))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        workload.tg_step(state)
    profiler.disable()
    print(f"\n==== profile of tinygrad_edu's step, {name}, {steps} steps ====")
    stats = pstats.Stats(profiler)
    stats.strip_dirs().sort_stats("tottime").print_stats(15)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.list:
        for name, workload in WORKLOADS.items():
            summary = workload.__doc__.splitlines()[0].split(": ", 1)[-1]
            print(f"{name:<13} {summary}")
        return 0
    if args.malloc_tuned:
        reexec_with_tuned_malloc(argv)
    print_environment(args)
    names = args.names or list(WORKLOADS)
    batch_seconds = QUICK_BATCH_SECONDS if args.quick else BATCH_SECONDS
    rows = []
    for name in list(names):
        why_not = getattr(WORKLOADS[name], "unavailable", lambda: None)()
        if why_not:
            print(f"skipping {name}: {why_not}")
            names.remove(name)
            continue
        rows.append(bench(name, WORKLOADS[name], args.repeats, batch_seconds, args.jit))
    print_table(rows, args.repeats)
    if args.jit:
        print_jit_table(rows)
    # Memory and the peers are comparisons with hand-written NumPy: a workload whose
    # reference side is another library (tracemalloc cannot see torch's tensors) sits out.
    numpy_names = [name for name in names if reference_of(WORKLOADS[name]) == "NumPy"]
    if args.memory:
        print_memory_table([bench_memory(name, WORKLOADS[name]) for name in numpy_names])
    if args.peer_names:
        # Only now: importing the peers and running them changes the process (glibc's
        # allocator adapts to what they free), and the table above must not depend on it.
        libraries, results = bench_peers(numpy_names, args.peer_names, args.repeats, batch_seconds)
        print_peer_table(rows, libraries, results)
    print(f"load at the end: {describe_load()}")
    if args.profile:
        for name in names:
            profile_tg_step(name, WORKLOADS[name], seconds=0.05 if args.quick else 0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
