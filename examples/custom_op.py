"""Write your own differentiable op, check its gradient, and watch a wrong one get caught.

A custom op is a subclass of `tg.Function`, the same base class as every built-in op:
- `forward(self, x)` computes the output from raw arrays (NumPy or CuPy, via `self.xp`);
- `backward(self, xp, grad, out, x)` returns one gradient per input.  Written with
  operators and `xp.<func>` only, the same formula runs on arrays (a normal backward) and
  on Tensors (under create_graph=True, where `xp` is the Tensor class), so second
  derivatives come for free.
Call it with `Cube.apply(x)`.  docs/custom_ops.md explains the rules.
"""

import math

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.testing import check_op

SHAPE = (2, 3)  # the shape of the example input
EXAMPLES = 10  # random shapes and values that check_op tries per check


class Cube(tg.Function):
    """out = x**3.   d(out)/dx = 3 * x**2."""

    __slots__ = ()  # optional; keeps the node small and fast, as in our own ops

    def forward(self, x):
        return x * x * x

    def backward(self, xp, grad, out, x):
        grad_x = grad * 3 * x * x
        return (grad_x,)  # a tuple: one entry per input


class LogCosh(tg.Function):
    """out = log(cosh(x)).   d(out)/dx = tanh(x).

    Backward calls a function, so it takes it from `xp`: numpy.tanh on arrays,
    Tensor.tanh on Tensors.
    """

    __slots__ = ()

    def forward(self, x):
        # log(cosh(x)) = |x| + log1p(exp(-2|x|)) - log(2): no overflow for large |x|.
        a = self.xp.abs(x)
        return a + self.xp.log1p(self.xp.exp(-2 * a)) - math.log(2.0)

    def backward(self, xp, grad, out, x):
        grad_x = grad * xp.tanh(x)
        return (grad_x,)


class CubeForgotThree(tg.Function):
    """A planted bug: the backward of x**3 without the factor 3."""

    __slots__ = ()

    def forward(self, x):
        return x * x * x

    def backward(self, xp, grad, out, x):
        grad_x = grad * x * x  # wrong: d(x**3)/dx is 3 * x**2
        return (grad_x,)


def main(examples=EXAMPLES, seed=0):
    """Use the ops, check them, and show the planted bug being caught.

    `examples` is how many random inputs check_op tries; `seed` draws the input x.
    Returns the message of the GradcheckError that caught CubeForgotThree.
    """
    rng = np.random.default_rng(seed)
    x = tg.Tensor(rng.uniform(-2, 2, SHAPE), requires_grad=True)

    y = Cube.apply(x)
    y.sum().backward()
    print("x        =", x.numpy().round(3).tolist())
    print("x**3     =", y.numpy().round(3).tolist())
    print("d/dx     =", x.grad.numpy().round(3).tolist(), "(3 * x**2)")

    # First derivatives against finite differences, at this x.
    tg.gradcheck(Cube.apply, [x])
    tg.gradcheck(LogCosh.apply, [x])
    # Random shapes and values, first and second derivatives.
    check_op(Cube.apply, second=True, max_examples=examples)
    check_op(LogCosh.apply, second=True, max_examples=examples)
    print("Cube and LogCosh pass gradcheck and check_op (first and second order)")

    try:
        tg.gradcheck(CubeForgotThree.apply, [x])
    except tg.GradcheckError as error:
        print("CubeForgotThree is caught:", error)
        return str(error)
    raise AssertionError("gradcheck did not catch the planted bug")


if __name__ == "__main__":
    main()
