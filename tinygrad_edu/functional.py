"""Derivatives of whole functions: `jacobian` and `hessian` (as `torch.autograd.functional`).

What lives here: two functions built only on the public API (`tg.grad`, Tensor methods,
the factories), so each reads as a recipe a learner could write:
- `jacobian(fn, inputs)`: one `tg.grad` call per output element.  Its upstream gradient
  is a one-hot tensor, so the call returns one row of the Jacobian, d out[j] / d input.
- `hessian(fn, inputs)`: the Jacobian of the gradient, where the gradient comes from
  `tg.grad(..., create_graph=True)` so that it can be differentiated again.

What does not: the engine (autograd.py) and the ops (ops/).  docs/backward.md, section
"Jacobians and Hessians", has a worked example.
"""

from .autograd import enable_grad
from .creation import arange, zeros, zeros_like
from .tensor import Tensor, grad, stack


def jacobian(fn, inputs, create_graph=False, strict=False):
    """The Jacobian of `fn` at `inputs`: every d out[j] / d input[k].

    `inputs` is a Tensor or a tuple of Tensors (floating point), passed to `fn` as
    `fn(*inputs)`; `fn` returns a Tensor or a tuple of Tensors.  The result for one
    output and one input has shape `out.shape + input.shape`.  With a tuple of inputs
    you get a tuple (one entry per input); with a tuple of outputs, a tuple per output
    (of tuples per input when `inputs` is a tuple too), as in PyTorch.

    The caller's tensors are not changed: `fn` runs on copies that require grad (with
    `create_graph=True`, an input that requires grad is used through a view instead, so
    the result stays differentiable with respect to it).  An output that does not depend
    on an input gives zeros; with `strict=True` that is an error instead.
    """
    return _jacobian(fn, inputs, create_graph, strict, "jacobian", "output {} of fn")


def hessian(fn, inputs, create_graph=False, strict=False):
    """The Hessian of `fn` at `inputs`: every d2 out / (d input[k] d input[l]).

    `fn` must return a Tensor with one element.  For one input the result has shape
    `input.shape + input.shape`; for a tuple of inputs it is a tuple of tuples, entry
    [k][l] of shape `inputs[k].shape + inputs[l].shape`.  It is the Jacobian of the
    gradient, so `create_graph` and `strict` mean what they mean for `jacobian`
    (`strict=True` also rejects a gradient that does not depend on the inputs, such as
    that of a linear function).
    """
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*xs):
        """(d out / d xs[0], d out / d xs[1], ...), recorded so it can be differentiated."""
        out = fn(*xs)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"hessian: fn must return a Tensor with one element, got {type(out).__name__}"
            )
        if out.size != 1:
            raise RuntimeError(
                f"hessian: fn must return a Tensor with one element (a scalar loss), got "
                f"shape {out.shape}; reduce it first, e.g. with .sum()"
            )
        if not out.requires_grad:
            _independent_output(strict, "hessian", "the output of fn")
            return tuple(zeros_like(x) for x in xs)
        grads = grad(out, xs, create_graph=True)
        for k, g in enumerate(grads):
            if strict and not g.requires_grad:
                raise RuntimeError(
                    f"hessian: the gradient of fn with respect to input {k} does not depend "
                    f"on the inputs (fn does not use input {k}, or is at most linear in it); "
                    "not allowed with strict=True"
                )
        return grads

    # gradient returns a tuple and gets a tuple, so blocks is a tuple of tuples
    blocks = _jacobian(
        gradient,
        inputs,
        create_graph,
        strict,
        "hessian",
        "the gradient of fn with respect to input {}",
    )
    return blocks if inputs_are_tuple else blocks[0][0]


# ---- helpers ------------------------------------------------------------------------


def _jacobian(fn, inputs, create_graph, strict, who, output_name):
    """`jacobian`, with the names its errors use: `who` ("jacobian" or "hessian") and
    `output_name`, a template for output i ("output {} of fn")."""
    inputs_are_tuple, inputs = _as_tuple(inputs, "inputs", who)
    with enable_grad():  # works inside `with tg.no_grad():` too, as in PyTorch
        work = _differentiable_copies(inputs, create_graph, who)
        outputs = fn(*work)
        outputs_are_tuple, outputs = _as_tuple(outputs, "outputs of fn", who)
        blocks = _jacobian_blocks(outputs, work, create_graph, strict, who, output_name)
    if not inputs_are_tuple:
        blocks = tuple(per_output[0] for per_output in blocks)
    return blocks if outputs_are_tuple else blocks[0]


def _as_tuple(value, what, who):
    """(was `value` a tuple?, a tuple of Tensors); a TypeError naming what is wrong."""
    is_tuple = isinstance(value, tuple)
    values = value if is_tuple else (value,)
    for position, v in enumerate(values):
        if not isinstance(v, Tensor):
            where = f" (position {position})" if is_tuple else ""
            raise TypeError(
                f"{who}: the {what} must be a Tensor or a tuple of Tensors, got "
                f"{type(v).__name__}{where}"
            )
    return is_tuple, values


def _differentiable_copies(inputs, create_graph, who):
    """The tensors `fn` runs on: one new tensor per input, which requires grad.

    A copy outside the caller's graph, except with `create_graph=True` for an input that
    requires grad: then `x[...]`, a view inside the graph, so the Jacobian can be
    differentiated with respect to `x`.  Either way the new tensor is ours (distinct
    even when the caller passes one tensor twice), and the caller's is not touched.
    """
    work = []
    for k, x in enumerate(inputs):
        if x.dtype.kind != "f":
            raise TypeError(
                f"{who}: input {k} has dtype {x.dtype}; derivatives need floating-point "
                "inputs (convert with .astype(tg.float32) or tg.float64)"
            )
        if create_graph and x.requires_grad:
            work.append(x[...])
        else:
            work.append(Tensor(x, requires_grad=True, device=x.device))
    return tuple(work)


def _jacobian_blocks(outputs, inputs, create_graph, strict, who, output_name):
    """For each output, a tuple with one block per input, of shape out.shape + x.shape."""
    reached = [_Reached() for _ in inputs]  # strict mode: did any gradient get there?
    handles = [x.register_hook(hook) for x, hook in zip(inputs, reached)] if strict else []
    try:
        blocks = []
        for i, out in enumerate(outputs):
            if not out.requires_grad:  # made without the inputs (or under no_grad)
                _independent_output(strict, who, output_name.format(i))
                blocks.append(tuple(_assemble([], out, x) for x in inputs))
                continue
            for hook in reached:
                hook.seen = False
            rows = _jacobian_rows(out, inputs, create_graph)
            if strict:
                _check_strict(rows, reached, create_graph, who, output_name.format(i))
            blocks.append(tuple(_assemble(r, out, x) for r, x in zip(rows, inputs)))
        return tuple(blocks)
    finally:
        for handle in handles:
            handle.remove()


def _jacobian_rows(out, inputs, create_graph):
    """rows[k][j] = d out.flat[j] / d inputs[k], one `tg.grad` call per element j."""
    rows = [[] for _ in inputs]
    positions = arange(out.size, device=out.device)
    for j in range(out.size):
        # Upstream gradient: 1 at element j, 0 elsewhere, on the output's device.  A new
        # tensor each time: a returned gradient may be a view of it (out = x.reshape(...)).
        one_hot = (positions == j).astype(out.dtype).reshape(out.shape)
        # retain_graph: every element walks the same graph, so backward must not free it
        grads = grad(
            out, inputs, grad_outputs=one_hot, retain_graph=True, create_graph=create_graph
        )
        for k, g in enumerate(grads):
            rows[k].append(g)
    return rows


def _assemble(rows, out, x):
    """Stack the rows d out.flat[j] / dx into one tensor of shape out.shape + x.shape
    (zeros when there are no rows: an output without elements, or independent of x)."""
    if not rows:
        return zeros(out.shape + x.shape, dtype=x.dtype, device=x.device)
    return stack(rows).reshape(out.shape + x.shape)


class _Reached:
    """A hook that only notes that a gradient reached its tensor (for `strict=True`)."""

    __slots__ = ("seen",)

    def __init__(self):
        self.seen = False

    def __call__(self, gradient):
        self.seen = True  # returns None: the gradient flows on unchanged


def _independent_output(strict, who, name):
    """An output that does not require grad depends on no input: zeros, or strict's error."""
    if strict:
        raise RuntimeError(
            f"{who}: {name} does not require grad, so it depends on none of the "
            "inputs (it was made from constants only, or under no_grad); not allowed with "
            "strict=True"
        )


def _check_strict(rows, reached, create_graph, who, name):
    """strict=True: every input must reach the output `name` (and, with create_graph, its
    derivatives must stay in the graph)."""
    for k, (per_input, hook) in enumerate(zip(rows, reached)):
        if not hook.seen:
            raise RuntimeError(
                f"{who}: {name} does not depend on input {k}; not allowed with "
                "strict=True (with strict=False its Jacobian block is zeros)"
            )
        if create_graph and not all(g.requires_grad for g in per_input):
            raise RuntimeError(
                f"{who}: the derivative of {name} with respect to input {k} does not "
                "depend on the inputs, so create_graph=True cannot make it differentiable; "
                "not allowed with strict=True"
            )
