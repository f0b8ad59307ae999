"""Hypothesis strategies and `check_op`: property-test any op's gradient.

The same strategies drive our own test suite (tests/strategies.py re-exports them), so
a user's custom `Function` can be checked exactly as ours are:

    from tinygrad_edu.testing import check_op
    check_op(lambda x: MyCube.apply(x))          # gradchecks random shapes and values

Shapes stay small (at most 3 dims, sides at most 4) so that finite differences, which
evaluate the function twice per element, stay fast.  Hypothesis is needed only here
(`pip install "tinygrad_edu[dev]"`); importing tinygrad_edu never needs it.
"""

import numpy

from .autograd import enable_grad
from .gradcheck import gradcheck
from .tensor import Tensor
from .tensor import grad as _grad

MAX_DIMS = 3
MAX_SIDE = 4


def _hypothesis():
    try:
        import hypothesis
        from hypothesis import strategies
        from hypothesis.extra import numpy as hnp
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            'tinygrad_edu.testing needs Hypothesis: pip install "tinygrad_edu[dev]"'
        ) from None
    return hypothesis, strategies, hnp


def shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE):
    """Array shapes, including 0-d () and axes of size 1."""
    _, st, hnp = _hypothesis()
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(count, min_dims=0, max_dims=MAX_DIMS, max_side=MAX_SIDE):
    """Tuples of `count` shapes that broadcast together (size-1 axes, missing axes)."""
    _, st, hnp = _hypothesis()
    return hnp.mutually_broadcastable_shapes(
        num_shapes=count, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda result: result.input_shapes)


def values(shape, lo=-2.0, hi=2.0):
    """float64 arrays of `shape` with values in [lo, hi]."""
    _, st, hnp = _hypothesis()
    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(numpy.float64, shape, elements=elements)


def axes(ndim):
    """`axis` arguments for a tensor of `ndim` dims: None, an int or a tuple, negatives too."""
    _, st, _ = _hypothesis()
    if ndim == 0:
        return st.sampled_from([None, ()])
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda picked: st.tuples(*[st.sampled_from([a, a - ndim]) for a in picked])
    )
    return st.one_of(st.none(), single, several)


def _keep_away(array, points, gap=0.05):
    """Move values within `gap` of a kink to the kink + 2*gap (derivatives jump there)."""
    for point in points:
        near = numpy.abs(array - point) < gap
        array = numpy.where(near, point + 2 * gap, array)
    return array


def _distinct(draw, shapes_, lo, hi):
    """Values with no two equal anywhere in the inputs: a shuffled, evenly spaced grid."""
    _, st, _ = _hypothesis()
    sizes = [int(numpy.prod(s)) for s in shapes_]
    total = sum(sizes)
    order = draw(st.permutations(range(total)))
    grid = lo + (numpy.array(order, dtype=numpy.float64) + 0.5) * (hi - lo) / max(total, 1)
    arrays, start = [], 0
    for shape, size in zip(shapes_, sizes):
        arrays.append(grid[start : start + size].reshape(shape))
        start += size
    return arrays


def op_inputs(op, device="cpu"):
    """A strategy for (tensors, params) to call `op` (an OpInfo) with, on `device`."""
    _, st, _ = _hypothesis()

    @st.composite
    def draw_inputs(draw):
        params = {}
        if op.sample is not None:
            input_shapes, params = draw_sample(draw)
        elif op.broadcast:
            input_shapes = draw(broadcastable_shapes(op.nargs))
        else:
            shape = draw(shapes(min_dims=op.min_ndim))
            input_shapes = [shape] * op.nargs
        if op.reduces:
            params["axis"] = draw(axes(len(input_shapes[0])))
            params["keepdims"] = draw(st.booleans())
        for name, choices in op.params.items():
            params[name] = draw(st.sampled_from(choices))
        lo, hi = op.domain
        if op.distinct:
            arrays = _distinct(draw, input_shapes, lo, hi)
        else:
            arrays = [draw(values(s, lo, hi)) for s in input_shapes]
        arrays = [_keep_away(a, op.kinks) for a in arrays]
        tensors = [Tensor(a, requires_grad=True, device=device) for a in arrays]
        return tensors, params

    def draw_sample(draw):
        return op.sample(draw)

    return draw_inputs()


def second_order(fn, tensors, params, seed=1):
    """The function x -> d/dx sum(fn(x) * w), recorded (create_graph=True), so that
    gradcheck on it checks second derivatives."""
    out = fn(*tensors, **params)
    rng = numpy.random.default_rng(seed)
    weight = Tensor(rng.standard_normal(out.shape), dtype=numpy.float64, device=out.device)

    def gradient(*xs):
        with enable_grad():  # gradcheck evaluates under no_grad; this needs a graph
            result = fn(*xs, **params)
            return _grad(result, list(xs), weight, create_graph=True)

    return gradient


def check_op(
    fn,
    nargs=1,
    domain=(-2.0, 2.0),
    broadcast=False,
    kinks=(),
    second=False,
    max_examples=25,
    device="cpu",
):
    """Gradcheck `fn` (taking `nargs` Tensors) on random shapes and values.

    broadcast: draw the inputs' shapes as a broadcastable set (else one shared shape).
    kinks: values where fn's derivative jumps (kept away from).  second: also check
    second derivatives.  Raises GradcheckError (with a minimal failing example) if any
    gradient is wrong.
    """
    hypothesis, st, _ = _hypothesis()
    from .registry import OpInfo

    info = OpInfo(
        "user op",
        lambda *xs: fn(*xs),
        nargs=nargs,
        domain=domain,
        broadcast=broadcast,
        kinks=tuple(kinks),
    )

    @hypothesis.settings(max_examples=max_examples, deadline=None, derandomize=True, database=None)
    @hypothesis.given(op_inputs(info, device))
    def run(drawn):
        tensors, params = drawn
        gradcheck(lambda *xs: fn(*xs, **params), tensors)
        if second:
            gradcheck(second_order(fn, tensors, params), tensors)

    run()
    return True
