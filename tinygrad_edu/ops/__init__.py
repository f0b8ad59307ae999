"""The op classes (one `Function` subclass per differentiable op), grouped by kind.

`tg.ops.REGISTRY` (ops/registry.py) describes how to test each of them; it is
imported by the package after `Tensor` exists, since its recipes call tensor methods.
"""

from . import elementwise, linalg, nn, reduce, shape  # noqa: F401
