"""Linear algebra: `MatMul` (the `@` operator), with NumPy's rules for 1-D and batches."""

from ..autograd import Function
from ._helpers import unbroadcast


class MatMul(Function):
    """out = x @ y.   d(out)/dx = grad @ y^T,  d(out)/dy = x^T @ grad.

    NumPy's rules: a 1-D x acts as a row (1, k), a 1-D y as a column (k, 1), and the
    added axis is removed again; leading (batch) axes broadcast.  Backward makes the
    same promotions, multiplies, and sums over broadcast batch axes.
    """

    __slots__ = ()
    reads = {"grad_x": "y x.shape", "grad_y": "x y.shape"}

    def forward(self, x, y):
        return x @ y

    def backward(self, xp, grad, out, x, y):
        # Promote 1-D operands and the gradient to the 2-D case NumPy computed.  x or y may
        # be the node that made it (which records only its shape), when not kept.
        x_shape = (1,) + x.shape if len(x.shape) == 1 else x.shape
        y_shape = y.shape + (1,) if len(y.shape) == 1 else y.shape
        if len(y.shape) == 1:
            grad = grad.reshape(grad.shape + (1,))
        if len(x.shape) == 1:
            grad = grad.reshape(grad.shape[:-1] + (1,) + grad.shape[-1:])
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            y2 = y.reshape(y_shape) if len(y.shape) == 1 else y
            grad_x = unbroadcast(grad @ y2.swapaxes(-1, -2), x_shape)
            if len(x.shape) == 1:
                grad_x = grad_x.reshape(x.shape)
        if self.needs_input_grad[1]:
            x2 = x.reshape(x_shape) if len(x.shape) == 1 else x
            grad_y = unbroadcast(x2.swapaxes(-1, -2) @ grad, y_shape)
            if len(y.shape) == 1:
                grad_y = grad_y.reshape(y.shape)
        return grad_x, grad_y


class Einsum(Function):
    """out = einsum(equation, x, y): one step of `tg.einsum`, two operands.

    Example: "ij,jk->ik" is x @ y.  `tg.einsum` (tensor.py) brings any equation to such
    steps, each with: every operand names an axis once, and every letter of an operand
    appears in the other operand or in the output (diagonals are taken and lone axes
    summed before).  Then
        d(out)/dx applied to grad:  einsum("out,y->x", grad, y)
        d(out)/dy applied to grad:  einsum("out,x->y", grad, x)
    (each element of x meets the elements of y that share its letters, and grad at the
    output position both name), and these are again steps of the same kind.
    """

    __slots__ = ("equation",)
    reads = {"grad_x": "y", "grad_y": "x"}

    def forward(self, x, y, equation="->"):
        self.equation = equation
        return _einsum(self.xp, equation, x, y)

    def backward(self, xp, grad, out, x, y):
        inputs, output = self.equation.split("->")
        letters_x, letters_y = inputs.split(",")
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = self._step(xp, f"{output},{letters_y}->{letters_x}", grad, y)
        if self.needs_input_grad[1]:
            grad_y = self._step(xp, f"{output},{letters_x}->{letters_y}", grad, x)
        return grad_x, grad_y

    def _step(self, xp, equation, a, b):
        if xp is self.xp:  # arrays
            return _einsum(xp, equation, a, b)
        return Einsum.apply(a, b, equation=equation)  # Tensors: recorded (create_graph)


# optimize=True hands a contraction to tensordot (BLAS) instead of einsum's C loop: 5x
# faster for 256 x 256 matrices, but its path search costs ~9 us, 4x the whole product
# of 8 x 8 ones (measured with NumPy 2 on one core).  So only for larger operands.
_BLAS_ELEMENTS = 4096


def _einsum(xp, equation, x, y):
    return xp.einsum(equation, x, y, optimize=x.size + y.size >= _BLAS_ELEMENTS)
