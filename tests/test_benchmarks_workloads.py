"""benchmarks/run.py's tiny-gpt workload: its reference side is PyTorch, and without torch
it is skipped with the reason instead of failing the run."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_tiny_gpt_runs_against_torch_or_is_skipped_with_the_reason():
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py")]
    command += ["--quick", "--repeats", "1", "--memory", "tiny-gpt", "tanh-3"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    try:
        import torch  # noqa: F401
    except ImportError:
        assert "skipping tiny-gpt: needs torch" in done.stdout
        return
    lines = done.stdout.splitlines()
    assert any(line.startswith("tiny-gpt*") for line in lines)  # ran, marked as vs PyTorch
    assert "ratio = tg / PyTorch CPU" in done.stdout
    memory_table = done.stdout.split("peak memory of one step", 1)[1]
    assert not any(line.startswith("tiny-gpt") for line in memory_table.splitlines())
