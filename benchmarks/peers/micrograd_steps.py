"""micrograd (Karpathy's scalar engine): only where scalars are feasible.

Every number is a `Value`, one Python object per scalar op, computed in Python floats
(float64).  The PyPI engine has `+ * ** relu` only; `tanh` and `sin` are added below the
way the engine defines its own ops (and the micrograd lecture adds `tanh`).
"""

import math
import sys

import numpy as np
from micrograd.engine import Value

from ..workloads import overhead, tanh3
from . import version

LIBRARY = "micrograd"
OTHER_DTYPE = "micrograd computes in Python floats"  # run.py: compare after rounding
SKIPPED = {
    "overhead": "Python floats only: runs overhead-f64, the same chain in float64",
    "seed-mlp": "too slow: one Python object per scalar op, ~17 million per step",
    "mnist-mlp": "too slow: one Python object per scalar op, ~28 million per step",
    "cnn-digits": "not applicable: no convolution or pooling (and too slow as scalars)",
}


def describe():
    return version(LIBRARY)


def tanh(v):
    t = math.tanh(v.data)
    out = Value(t, (v,), "tanh")

    def _backward():
        v.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


def sin(v):
    out = Value(math.sin(v.data), (v,), "sin")

    def _backward():
        v.grad += math.cos(v.data) * out.grad

    out._backward = _backward
    return out


def make_overhead_f64(state):
    xs = [Value(x) for x in state["x"].tolist()]
    rounds = state["rounds"]
    # backward() sorts the graph with a recursive depth-first search: one Python frame per
    # node along the longest path (the sum, then the 4 ops of each round).
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * rounds + len(xs) + 1000))

    def step():
        ys = []
        for y in xs:
            for _ in range(rounds):
                y = sin(tanh(y) * overhead.SCALE) + overhead.SHIFT
            ys.append(y)
        loss = sum(ys)
        loss.backward()
        grad = np.array([x.grad for x in xs])
        for x in xs:
            x.grad = 0
        return loss.data, [grad]

    return step


def make_tanh3(state):
    shapes = [p.shape for p in state["np_params"]]
    w0, b0, w1, b1 = groups = [[Value(v) for v in p.ravel().tolist()] for p in state["np_params"]]
    params = [p for group in groups for p in group]
    points = list(zip(state["x"][:, 0].tolist(), state["target"][:, 0].tolist()))

    def step():
        squares = []
        for x, target in points:
            h = [tanh(x * w0[j] + b0[j]) for j in range(tanh3.HIDDEN)]
            pred = sum((h[j] * w1[j] for j in range(tanh3.HIDDEN)), b1[0])
            diff = pred - target
            squares.append(diff * diff)
        loss = sum(squares) / len(points)
        loss.backward()
        grads = [np.array([p.grad for p in g]).reshape(s) for g, s in zip(groups, shapes)]
        for p in params:
            p.data -= tanh3.LR * p.grad
            p.grad = 0
        return loss.data, grads

    return step


STEPS = {"overhead-f64": make_overhead_f64, "tanh-3": make_tanh3}
