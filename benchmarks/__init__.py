"""Benchmarks of tinygrad_edu against hand-written NumPy (run them with benchmarks/run.py).

The workloads live in `benchmarks/workloads/`, one module each; README.md explains them.
"""
