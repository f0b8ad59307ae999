"""`gradcheck`: compare every analytic gradient with central finite differences.

How (docs/gradcheck.md has the long version):
1. Copy the float inputs to float64 (finite differences need the precision).
2. Reduce the output with a random upstream gradient w: L = sum(f(x) * w).  A plain
   sum would hide a backward that forgot a transpose: the sum is symmetric, w is not.
3. Analytic: dL/dx from `tg.grad`.  Numeric: for every element x_i,
   (L(x_i + eps) - L(x_i - eps)) / (2 eps).
4. Every element must satisfy |analytic - numeric| <= atol + rtol * |numeric|;
   otherwise `GradcheckError` names the input, the worst index and both values.
"""

import numpy

from .tensor import Tensor, grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with finite differences (the message says where)."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True if `fn`'s analytic gradients at `inputs` match finite differences.

    fn: takes the inputs (Tensors) and returns a Tensor or a tuple of Tensors.
    inputs: a Tensor or a sequence of Tensors; those with requires_grad=True are
    checked (every float input when none is marked).
    Raises GradcheckError naming the input, the worst index, both values and the error.
    """
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} is {type(x).__name__}, not a Tensor")
    marked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not marked:
        marked = [i for i, x in enumerate(inputs) if x.dtype.kind == "f"]
    if not marked:
        raise ValueError("gradcheck: no floating-point input to check")
    wide = [_to_float64(x, i in marked) for i, x in enumerate(inputs)]
    checked = [wide[i] for i in marked]

    outputs = _as_tuple(fn(*wide), "gradcheck")
    rng = numpy.random.default_rng(seed)
    weights = [
        Tensor(rng.standard_normal(out.shape), dtype=numpy.float64, device=out.device)
        for out in outputs
    ]
    needs = [out for out in outputs if out.requires_grad]
    if needs:
        grads = grad(
            [out for out in outputs if out.requires_grad],
            checked,
            [w for out, w in zip(outputs, weights) if out.requires_grad],
        )
        analytic = [g.numpy() for g in grads]
    else:  # the output does not depend on the inputs at all
        analytic = [numpy.zeros(x.shape) for x in checked]

    def loss():
        # Grad mode stays on: fn may itself call tg.grad (second-derivative checks).
        outs = _as_tuple(fn(*wide), "gradcheck")
        return sum(
            float((out.astype(numpy.float64) * w).sum().item()) for out, w in zip(outs, weights)
        )

    for position, x in zip(marked, checked):
        numeric = _numeric_gradient(loss, x, eps)
        expected = analytic[marked.index(position)]
        error = numpy.abs(expected - numeric)
        allowed = atol + rtol * numpy.abs(numeric)
        bad = ~(error <= allowed)  # NaN counts as bad
        if bad.any():
            score = numpy.where(numpy.isnan(error), numpy.inf, error - allowed)
            worst = numpy.unravel_index(numpy.argmax(numpy.where(bad, score, -numpy.inf)), x.shape)
            raise GradcheckError(
                f"gradient mismatch for input {position} (shape {x.shape}) at index "
                f"{tuple(int(i) for i in worst)}: analytic {float(expected[worst])!r}, "
                f"numeric {float(numeric[worst])!r}, error {error[worst]:.3g} > allowed "
                f"{allowed[worst]:.3g} "
                f"({int(bad.sum())} of {bad.size} elements out of tolerance)"
            )
    return True


def _to_float64(x, requires_grad):
    data = x.data.astype(numpy.float64) if x.dtype.kind == "f" else x.data
    # C order, so that _numeric_gradient's reshape(-1) is a view it can perturb through
    data = x.xp.ascontiguousarray(data).reshape(x.shape)  # (it makes 0-d arrays 1-d)
    return Tensor(data, requires_grad=requires_grad, device=x.device)


def _as_tuple(result, who):
    results = result if isinstance(result, (tuple, list)) else (result,)
    for r in results:
        if not isinstance(r, Tensor):
            raise TypeError(f"{who}: the function must return Tensors, got {type(r).__name__}")
    return tuple(results)


def _numeric_gradient(loss, x, eps):
    """Central differences of `loss()` with respect to every element of `x` (in place)."""
    flat = x.data.reshape(-1)  # a view: x is a fresh contiguous float64 copy
    result = numpy.zeros(x.size)
    for i in range(x.size):
        original = flat[i].item()
        flat[i] = original + eps
        plus = loss()
        flat[i] = original - eps
        minus = loss()
        flat[i] = original
        result[i] = (plus - minus) / (2 * eps)
    return result.reshape(x.shape)
