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
    reads = {"grad_x": "out"}

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
    reads = {"grad_x": "out"}

    def forward(self, x, axis=-1):
        xp = self.xp
        self.axis = axis
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(self, xp, grad, out, x):
        return (grad - xp.exp(out) * grad.sum(axis=self.axis, keepdims=True),)


class CrossEntropy(Function):
    """out = -log softmax(x)[target], per row (N, C) or for one row (C,); then the mean,
    the sum, or each row ("none").

    d(out)/dx for one row: softmax(x) - onehot(target), times the upstream gradient
    (divided by N for the mean).  Fused for speed: the probabilities computed in forward
    are reused by backward, which subtracts 1 at each target in place rather than
    building the one-hot matrix; stable for any logits, since it goes through log-softmax.
    """

    __slots__ = ("target", "reduction", "probs")
    reads = {"grad_x": "x"}

    def forward(self, x, target=None, reduction="mean"):
        xp = self.xp
        self.target, self.reduction = target, reduction
        shifted = x - x.max(axis=-1, keepdims=True)
        exp = xp.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        self.probs = exp / total
        log_probs = shifted - xp.log(total)
        losses = -log_probs[self._targets(x.shape)]
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    def backward(self, xp, grad, out, x):
        if self.reduction == "mean":
            grad = grad / (x.shape[0] if x.ndim == 2 else 1)
        elif self.reduction == "none" and x.ndim == 2:
            grad = grad.reshape((x.shape[0], 1))
        targets = self._targets(x.shape)
        if xp is self.xp:  # arrays: forward's probabilities, 1 taken off at each target
            grad_x = self.probs.copy()  # a copy: retain_graph may need probs again
            grad_x[targets] -= 1
            grad_x *= grad
            return (grad_x,)
        # Tensors (create_graph=True): softmax recomputed inside the graph
        onehot = self.xp.zeros(x.shape, dtype=x.dtype)
        onehot[targets] = 1
        return ((xp.softmax(x, axis=-1) - onehot) * grad,)

    def _targets(self, shape):
        """The index of each row's target class: target for one row, else (rows, target)."""
        if len(shape) == 1:
            return self.target
        return self.xp.arange(shape[0]), self.target

    def release(self):
        self.probs = None


class MSELoss(Function):
    """out = mean((x - y)**2) (or the sum, or each element for reduction "none").

    d(out)/dx = 2 * (x - y) * grad / n  (n = number of elements for the mean, else 1),
    d(out)/dy = -d(out)/dx.  Fused because the loss of every regression example would
    otherwise be four recorded ops (measured: tanh-3 step, benchmarks/README.md).
    """

    __slots__ = ("reduction",)
    reads = {"grad_x": "x y", "grad_y": "x y"}

    def forward(self, x, y, reduction="mean"):
        self.reduction = reduction
        diff = x - y
        squared = diff * diff
        if reduction == "mean":
            return squared.mean()
        if reduction == "sum":
            return squared.sum()
        return squared

    def backward(self, xp, grad, out, x, y):
        scale = 2 / x.size if self.reduction == "mean" else 2
        grad_x = (x - y) * (grad * scale)
        grad_y = -grad_x if self.needs_input_grad[1] else None
        return (grad_x if self.needs_input_grad[0] else None), grad_y


class Im2Col(Function):
    """Image patches as rows: the step that turns a convolution into one matrix product.

    x (N, C, H, W) -> out (N*OH*OW, C*kh*kw): row (n, i, j) holds the kh x kw patch of
    every channel whose top-left corner is (i*stride - padding, j*stride - padding); with
    dilation d the patch reads every d-th pixel (a kernel spread over d*(k-1)+1 pixels).
    Outside the image the patch reads `pad_value` (0 for convolution, -inf for max-pool).
    With windows_first=True the layout is (kh*kw, N*C*OH*OW) instead: pooling reduces
    over the first axis, which NumPy does far faster than over a short last axis.
    d(out)/dx: every patch element came from one pixel, so the gradient of a pixel is the
    sum over the patches that contain it: `Col2Im` of the gradient.
    """

    __slots__ = ("geometry",)
    reads = {}

    def forward(
        self,
        x,
        kernel=(1, 1),
        stride=(1, 1),
        padding=(0, 0),
        pad_value=0.0,
        windows_first=False,
        dilation=(1, 1),
    ):
        self.geometry = _geometry(x.shape, kernel, stride, padding, windows_first, dilation)
        return im2col(self.xp, x, self.geometry, pad_value)

    def backward(self, xp, grad, out, x):
        if xp is self.xp:  # arrays
            return (col2im(xp, grad, self.geometry),)
        return (Col2Im.apply(grad, geometry=self.geometry),)  # Tensors: recorded


class Col2Im(Function):
    """The transpose of Im2Col: patches (in Im2Col's layout) -> (N, C, H, W), where every
    pixel is the sum of the patch elements that cover it.
    d(out)/dx: each patch element is copied from its pixel, i.e. Im2Col of the gradient.
    """

    __slots__ = ("geometry",)
    reads = {}

    def forward(self, x, geometry=None):
        self.geometry = geometry
        return col2im(self.xp, x, geometry)

    def backward(self, xp, grad, out, x):
        if xp is self.xp:
            return (im2col(xp, grad, self.geometry, 0.0),)
        g = self.geometry
        return (
            Im2Col.apply(
                grad, kernel=g[4], stride=g[5], padding=g[6], windows_first=g[9], dilation=g[10]
            ),
        )


def _geometry(shape, kernel, stride, padding, windows_first=False, dilation=(1, 1)):
    """(N, C, H, W, kernel, stride, padding, OH, OW, windows_first, dilation) for a 4-D
    input.  A dilated kernel spans d*(k-1)+1 pixels."""
    if len(shape) != 4:
        raise ValueError(f"expected an input of shape (N, C, H, W), got {tuple(shape)}")
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"kernel {kernel} (dilation {dilation}) with padding {padding} does not fit an "
            f"image of size {(h, w)}"
        )
    return (n, c, h, w, (kh, kw), (sh, sw), (ph, pw), oh, ow, windows_first, (dh, dw))


def im2col(xp, x, geometry, pad_value):
    """The array work of Im2Col: one strided copy per kernel position (kh*kw of them)."""
    n, c, h, w, (kh, kw), (sh, sw), (ph, pw), oh, ow, windows_first, (dh, dw) = geometry
    if ph or pw:
        x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    if windows_first:
        cols = xp.empty((kh, kw, n, c, oh, ow), dtype=x.dtype)
    else:
        cols = xp.empty((n, oh, ow, c, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            top, left = i * dh, j * dw
            window = x[:, :, top : top + sh * oh : sh, left : left + sw * ow : sw]
            if windows_first:
                cols[i, j] = window
            else:
                cols[:, :, :, :, i, j] = window.transpose(0, 2, 3, 1)
    if windows_first:
        return cols.reshape(kh * kw, n * c * oh * ow)
    return cols.reshape(n * oh * ow, c * kh * kw)


def col2im(xp, cols, geometry):
    """The array work of Col2Im: add each kernel position's values back where they came from."""
    n, c, h, w, (kh, kw), (sh, sw), (ph, pw), oh, ow, windows_first, (dh, dw) = geometry
    if windows_first:
        cols = cols.reshape(kh, kw, n, c, oh, ow)
    else:
        cols = cols.reshape(n, oh, ow, c, kh, kw)
    padded = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            if windows_first:
                piece = cols[i, j]
            else:
                piece = cols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
            top, left = i * dh, j * dw
            padded[:, :, top : top + sh * oh : sh, left : left + sw * ow : sw] += piece
    return padded[:, :, ph : ph + h, pw : pw + w]


class BinaryCrossEntropy(Function):
    """out = -w * (y * log(x) + (1 - y) * log(1 - x)) for probabilities x and targets y,
    each log clamped at -100 as PyTorch (so x = 0 or 1 gives a finite loss); then the
    mean, the sum, or each element ("none").  w: a constant weight that broadcasts.

    d(out)/dx = w * (x - y) / max(x * (1 - x), 1e-12)   (PyTorch's guard at 0 and 1)
    d(out)/dy = w * (log(1 - x) - log(x))                (the clamped logs)
    times the upstream gradient (divided by the element count for the mean).  Fused
    because a composition's gradient is NaN where x is exactly 0 or 1 (inf * 0).
    """

    __slots__ = ("weight", "reduction")
    reads = {"grad_x": "x y", "grad_y": "x"}

    def forward(self, x, y, weight=None, reduction="mean"):
        self.weight, self.reduction = weight, reduction
        xp = self.xp
        losses = -(y * _clamped_log(xp, x, xp) + (1 - y) * _clamped_log(xp, 1 - x, xp))
        if weight is not None:
            losses = losses * weight
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    def backward(self, xp, grad, out, x, y):
        if self.reduction == "mean":
            grad = grad / x.size
        if self.weight is not None:
            grad = grad * self.weight
        grad_x = grad_y = None
        if self.needs_input_grad[0]:
            grad_x = grad * (x - y) / xp.maximum(x * (1 - x), 1e-12)
        if self.needs_input_grad[1]:
            grad_y = grad * (_clamped_log(xp, 1 - x, self.xp) - _clamped_log(xp, x, self.xp))
        return grad_x, grad_y


def _clamped_log(xp, x, array_xp):
    """max(log(x), -100), without NumPy's divide-by-zero warning at x = 0 (arrays)."""
    if xp is not array_xp:  # Tensors (create_graph=True): recorded ops
        return xp.maximum(xp.log(x), -100.0)
    positive = x > 0
    logs = xp.log(xp.where(positive, x, 1.0))
    return xp.where(positive, xp.maximum(logs, -100.0), -100.0)
