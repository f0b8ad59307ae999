"""The peak-memory measurement of `benchmarks/run.py --memory` (benchmarks/memory.py).

It must count what a step allocates (even when the step frees it again before returning),
and nothing that existed before the step.  No ratio or timing thresholds here: those
belong to the benchmark's tables, not to the test suite.
"""

import math
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a folder of the repository, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks import memory  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

MB = 1_000_000
SMALLEST = "tanh-3"  # arrays of at most 90 numbers: the quickest workload to measure


def allocate_8mb(state):
    """A step that allocates 8 MB and frees it before returning."""
    block = np.ones(MB, dtype=np.float64)
    first = float(block[0])
    del block
    return first


def test_the_peak_counts_an_array_the_step_allocates_and_frees():
    assert memory.peak_bytes(allocate_8mb, {}) >= 8 * MB


def test_arrays_made_before_the_step_are_not_counted():
    state = {"x": np.ones(MB, dtype=np.float64)}  # 8 MB, made before the step
    assert memory.peak_bytes(lambda state: float(state["x"][0]), state) < MB


def test_tracing_already_on_is_left_on_and_its_baseline_subtracted():
    tracemalloc.start()
    try:
        before = np.ones(MB, dtype=np.float64)  # traced, but made before the step
        peak = memory.peak_bytes(allocate_8mb, {})
        assert tracemalloc.is_tracing()
    finally:
        tracemalloc.stop()
    del before
    assert 8 * MB <= peak < 9 * MB


def test_a_workload_measures_to_a_finite_positive_ratio():
    result = memory.measure(WORKLOADS[SMALLEST], seed=0)
    assert result["numpy"] > 0 and result["tg"] > 0
    assert math.isfinite(result["ratio"]) and result["ratio"] > 0


def test_run_py_prints_the_memory_table():
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py")]
    command += ["--quick", "--repeats", "1", "--memory", SMALLEST]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "peak memory of one step" in done.stdout
    table = done.stdout.split("peak memory of one step", 1)[1]
    assert any(line.startswith(SMALLEST) for line in table.splitlines())
