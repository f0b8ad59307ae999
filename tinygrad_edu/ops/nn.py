"""Neural-network ops fused for numerical stability: `Softmax` and `LogSoftmax`.

Losses (`cross_entropy`, `mse_loss`, `binary_cross_entropy_with_logits`) and `linear`
are compositions of primitives in tensor.py; `log_softmax` carries their stability.
"""

from ..autograd import Function


class Softmax(Function):
    """out = exp(x) / sum(exp(x)) along `axis`.

    d(out)/dx applied to grad:  out * (grad - sum(grad * out)).
    Subtracting the maximum first keeps exp from overflowing; the result is unchanged.
    """

    __slots__ = ("axis",)

    def forward(self, x, axis=-1):
        self.axis = axis
        e = self.xp.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def backward(self, xp, grad, out, x):
        return (out * (grad - (grad * out).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    """out = x - log(sum(exp(x))) along `axis`.

    d(out)/dx applied to grad:  grad - exp(out) * sum(grad).
    Computed as (x - m) - log(sum(exp(x - m))) with m the maximum: logits of +-1000
    give exact finite answers instead of inf - inf = NaN.
    """

    __slots__ = ("axis",)

    def forward(self, x, axis=-1):
        xp = self.xp
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(self, xp, grad, out, x):
        return (grad - xp.exp(out) * grad.sum(axis=self.axis, keepdims=True),)
