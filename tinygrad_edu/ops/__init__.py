"""The op classes (one `Function` subclass per differentiable op), grouped by kind.

`tg.ops.REGISTRY` (defined in tinygrad_edu/registry.py, which stands above tensor.py
and nn since its recipes call them) describes how to test each of them.  Nothing here
imports `Tensor`: ops import only autograd and the helpers beside them.
"""

from . import elementwise, linalg, nn, reduce, shape  # noqa: F401
