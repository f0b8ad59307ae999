"""`REGISTRY`: one `OpInfo` per differentiable operation, describing how to test it.

Plain data: the public call, how many tensor inputs, the value range, whether inputs
broadcast, which parameters to draw, which points to stay away from.  `tg.testing`
turns an entry into Hypothesis strategies; tests/test_ops_gradcheck.py gradchecks every
entry (first and second order), and tests/test_registry_coverage.py fails if some
`Function` subclass is reached by no entry.  A new op therefore needs a line here.

Entries call the public API (`x * y`, `x.sum(axis)`, `tg.where`), so composites such as
`mean`, `gelu` and `cross_entropy` are checked exactly as users call them.  So the
registry stands above the API it describes (it imports tensor.py and nn), next to
testing.py, not inside ops/: imports run one way (docs/architecture.md).
"""

from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy

from . import backend
from .nn import functional as F
from .tensor import (
    Tensor,
    binary_cross_entropy_with_logits,
    concatenate,
    cross_entropy,
    einsum,
    linear,
    logaddexp,
    minimum,
    mse_loss,
    stack,
    where,
)


@dataclass(frozen=True)
class OpInfo:
    """How to test one op.  See the module docstring."""

    name: str
    call: Callable  # call(*tensors, **params) -> Tensor, through the public API
    nargs: int = 1  # number of tensor inputs
    domain: tuple = (-2.0, 2.0)  # input values are drawn from this interval
    broadcast: bool = False  # draw the inputs' shapes as a broadcastable set
    reduces: bool = False  # draw `axis` (None, int, tuple, negative) and `keepdims`
    params: dict = field(default_factory=dict)  # name -> tuple of values to choose from
    kinks: tuple = ()  # values where the derivative jumps: inputs keep away from them
    distinct: bool = False  # no two input values equal (ties make max/maximum kinked)
    min_ndim: int = 0  # smallest input rank that makes sense
    sample: Optional[Callable] = None  # sample(draw) -> (shapes, params) for odd inputs
    second_order: bool = True  # check gradients of gradients too
    tolerance: dict = field(default_factory=dict)  # gradcheck eps/atol/rtol, if not default


# ---- samplers for ops whose inputs are not "a few arrays of any shape" ------------


def _st():
    from hypothesis import strategies  # imported when testing, never at run time

    return strategies


def _side(draw, lo=1):
    return draw(_st().integers(lo, 4))


def _matmul_sample(draw):
    k, m, n = _side(draw), _side(draw), _side(draw)
    forms = [
        ((k,), (k,)),
        ((k,), (k, n)),
        ((m, k), (k,)),
        ((m, k), (k, n)),
        ((2, m, k), (k, n)),
        ((k,), (2, k, n)),
        ((2, 1, m, k), (3, k, n)),
    ]
    return draw(_st().sampled_from(forms)), {}


def _index_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    first = shape[0]
    choices = [
        0,
        -1,
        slice(None, None, -1),
        slice(1, None),
        (Ellipsis, 0),
        (None, slice(None)),
        numpy.array([0, 0, first - 1]),  # a repeated index: its gradients must add
        numpy.arange(first) % 2 == 0,  # a boolean mask over the first axis
    ]
    if len(shape) >= 2:
        choices += [
            (slice(None), -1),
            (numpy.array([0, first - 1, 0]), numpy.array([shape[1] - 1, 0, 0])),
            (Ellipsis, numpy.array([0, 0])),
        ]
    return [shape], {"index": draw(st.sampled_from(choices))}


def _join_sample(draw, same_shape):
    st = _st()
    shape = list(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(shape), len(shape) - 1 + (1 if same_shape else 0)))
    shapes = []
    for _ in range(count):
        s = list(shape)
        if not same_shape:
            s[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(s))
    return shapes, {"axis": axis}


def _reshape_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    size = int(numpy.prod(shape))
    targets = [(size,), (-1,), (1, size), (size, 1, 1), tuple(reversed(shape)) or (1,)]
    return [shape], {"shape": draw(st.sampled_from(targets))}


def _transpose_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    axes = tuple(draw(st.permutations(range(len(shape)))))
    return [shape], {"axes": axes}


def _broadcast_to_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    target = tuple(draw(st.integers(2, 3)) if s == 1 and draw(st.booleans()) else s for s in shape)
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    return [shape], {"shape": lead + target}


def _squeeze_sample(draw):
    st = _st()
    shape = list(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    position = draw(st.integers(0, len(shape)))
    shape.insert(position, 1)
    return [tuple(shape)], {"axis": draw(st.sampled_from([None, position, position - len(shape)]))}


def _unsqueeze_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    return [shape], {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}


def _pad_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    pads = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in shape)
    return [shape], {"pad_width": pads, "value": draw(st.sampled_from([0.0, -1.5]))}


def _where_sample(draw):
    from hypothesis.extra import numpy as hnp

    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
    cond = draw(hnp.arrays(bool, shapes.input_shapes[0]))
    return list(shapes.input_shapes[1:]), {"cond": cond}


def _cross_entropy_sample(draw):
    st = _st()
    n, c = _side(draw), draw(st.integers(2, 5))
    target = numpy.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    return [(n, c)], {"target": target, "reduction": reduction}


def _softmax_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    return [shape], {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


def _same_shape_sample(nargs):
    def sample(draw):
        st = _st()
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
        reduction = draw(st.sampled_from(["mean", "sum", "none"]))
        return [shape] * nargs, {"reduction": reduction}

    return sample


def _linear_sample(draw):
    st = _st()
    n, i, o = _side(draw), _side(draw), _side(draw)
    lead = draw(st.sampled_from([(), (n,), (2, n)]))
    return [lead + (i,), (o, i), (o,)], {}


def _conv_sample(draw):
    st = _st()
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 3))
    padding = draw(st.integers(0, 1))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h = draw(st.integers(max(1, kh - 2 * padding), 5))
    w = draw(st.integers(max(1, kw - 2 * padding), 5))
    stride = draw(st.sampled_from([1, 2, (2, 1)]))
    return [(n, c, h, w), (o, c, kh, kw), (o,)], {"stride": stride, "padding": padding}


def _pool_sample(draw):
    st = _st()
    kernel = draw(st.sampled_from([1, 2, 3, (2, 3)]))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = draw(st.integers(0, min(kh, kw) // 2))
    stride = draw(st.sampled_from([None, 1, 2]))
    h = draw(st.integers(max(1, kh - 2 * padding), 5))
    w = draw(st.integers(max(1, kw - 2 * padding), 5))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    return [shape], {"kernel_size": kernel, "stride": stride, "padding": padding}


def _layer_norm_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=3)))
    normalized = shape[-draw(st.integers(1, len(shape))) :]
    return [shape, normalized, normalized], {"normalized_shape": normalized}


def _batch_norm_sample(draw):
    st = _st()
    shape = tuple(draw(st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 2, 3)])))
    return [shape, (shape[1],), (shape[1],)], {"training": draw(st.booleans())}


def _batch_norm_call(x, weight, bias, training):
    # eval mode needs running statistics: fixed, positive constants
    mean = numpy.linspace(-0.5, 0.5, x.shape[1]).astype(x.dtype)
    var = numpy.linspace(0.5, 2.0, x.shape[1]).astype(x.dtype)
    running_mean = Tensor(mean, device=x.device) if not training else None
    running_var = Tensor(var, device=x.device) if not training else None
    return F.batch_norm(x, running_mean, running_var, weight, bias, training=training)


def _embedding_sample(draw):
    st = _st()
    rows, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    index_shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    count = int(numpy.prod(index_shape))
    values = draw(st.lists(st.integers(0, rows - 1), min_size=count, max_size=count))
    return [(rows, dim)], {"indices": numpy.array(values, dtype=numpy.int64).reshape(index_shape)}


def _dropout_call(x, p):
    backend.manual_seed(1234)  # the same mask on every evaluation, as gradcheck needs
    return F.dropout(x, p, training=True)


# ---- samplers: convolution and pooling options, interpolate, einsum, class losses ----


def _conv_options_sample(draw):
    st = _st()
    groups = draw(st.sampled_from([1, 2]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.sampled_from([1, 2, (2, 1)]))
    dilation = draw(st.sampled_from([1, 2, (1, 2)]))
    choices = [0, 1, "valid"] + (["same"] if stride == 1 else [])
    padding = draw(st.sampled_from(choices))
    pad = padding if isinstance(padding, int) else 0
    dh, dw = (dilation, dilation) if isinstance(dilation, int) else dilation
    h = draw(st.integers(max(1, dh * (kh - 1) + 1 - 2 * pad), 5))
    w = draw(st.integers(max(1, dw * (kw - 1) + 1 - 2 * pad), 5))
    shapes = [(draw(st.integers(1, 2)), c, h, w), (o, c // groups, kh, kw), (o,)]
    return shapes, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _conv1d_sample(draw):
    st = _st()
    groups = draw(st.sampled_from([1, 2]))
    c, o, k = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), _side(draw)
    stride, dilation = draw(st.sampled_from([1, 2])), draw(st.sampled_from([1, 2]))
    padding = draw(st.sampled_from([0, 1] + (["same"] if stride == 1 else [])))
    pad = padding if isinstance(padding, int) else 0
    length = draw(st.integers(max(1, dilation * (k - 1) + 1 - 2 * pad), 8))
    shapes = [(draw(st.integers(1, 2)), c, length), (o, c // groups, k), (o,)]
    return shapes, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _conv_transpose_sample(draw):
    st = _st()
    groups = draw(st.sampled_from([1, 2]))
    c, o = groups * draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.sampled_from([1, 2, (2, 3)]))
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    dilation = draw(st.sampled_from([1, 2]))
    extra = draw(st.integers(0, 1))
    output_padding = (min(extra, sh - 1), min(extra, sw - 1))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.integers(0, 1))
    sizes = [(i - 1) * s + dilation * (k - 1) + 1 for i, s, k in ((h, sh, kh), (w, sw, kw))]
    if min(sizes) - 2 * padding <= 0:
        padding = 0
    shapes = [(draw(st.integers(1, 2)), c, h, w), (c, o, kh, kw), (o * groups,)]
    params = {"stride": stride, "padding": padding, "output_padding": output_padding}
    return shapes, dict(params, groups=groups, dilation=dilation)


def _window_covers_image(size, kernel, stride, padding, dilation, out):
    """Every pooling window reads at least one pixel of the image (else its max is -inf)."""
    for i in range(out):
        start = i * stride - padding
        if not any(0 <= start + j * dilation < size for j in range(kernel)):
            return False
    return True


def _pool_options_sample(draw, dilated):
    st = _st()
    kernel = draw(st.sampled_from([1, 2, 3, (2, 3)]))
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    padding = draw(st.integers(0, min(kh, kw) // 2))
    stride = draw(st.sampled_from([None, 1, 2, 3]))
    dilation = draw(st.sampled_from([1, 2])) if dilated else 1
    ceil_mode = draw(st.booleans())
    h = draw(st.integers(max(1, dilation * (kh - 1) + 1 - 2 * padding), 7))
    w = draw(st.integers(max(1, dilation * (kw - 1) + 1 - 2 * padding), 7))
    step = (kh, kw) if stride is None else (stride, stride)
    for size, k, s in ((h, kh, step[0]), (w, kw, step[1])):
        out = F._pool_size(size, k, s, padding, dilation, ceil_mode)
        if not _window_covers_image(size, k, s, padding, dilation, out):
            dilation = 1  # an all-padding window: PyTorch would give -inf too
    params = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": ceil_mode}
    if dilated:
        params["dilation"] = dilation
    else:
        params["count_include_pad"] = draw(st.booleans())
        params["divisor_override"] = draw(st.sampled_from([None, 3]))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    return [shape], params


def _interpolate_sample(draw):
    st = _st()
    mode = draw(st.sampled_from(["nearest", "bilinear"]))
    ndim = 4 if mode == "bilinear" else draw(st.sampled_from([3, 4]))
    spatial = tuple(draw(st.integers(1, 4)) for _ in range(ndim - 2))
    params = {"mode": mode}
    if draw(st.booleans()):
        params["size"] = tuple(draw(st.integers(1, 6)) for _ in spatial)
    else:
        # 1.3 keeps sides 1 to 3 as they are: such an axis is copied (PyTorch)
        params["scale_factor"] = draw(st.sampled_from([2, 1.5, 0.75, 3, 1.3]))
        if any(int(s * params["scale_factor"]) == 0 for s in spatial):
            params["scale_factor"] = 2
    if mode == "bilinear":
        params["align_corners"] = draw(st.booleans())
    return [(draw(st.integers(1, 2)), draw(st.integers(1, 2))) + spatial], params


_EINSUM_CASES = (
    ("ij,jk->ik", ((2, 3), (3, 4))),  # matrix product
    ("bij,bjk->bik", ((2, 2, 3), (2, 3, 2))),  # batch of products
    ("i,j->ij", ((3,), (4,))),  # outer product
    ("i,i->", ((4,), (4,))),  # dot product
    ("ii", ((3, 3),)),  # trace (implicit output: nothing)
    ("ii->i", ((3, 3),)),  # diagonal
    ("ij->ji", ((2, 3),)),  # transpose
    ("ij->j", ((2, 3),)),  # sum over rows
    ("ij,jk", ((2, 3), (3, 2))),  # implicit output "ik"
    ("ba,ca", ((2, 3), (4, 3))),  # implicit output in alphabetical order: "bc"
    ("...ij,...jk->...ik", ((2, 1, 2, 3), (3, 3, 2))),  # "..." axes broadcast
    ("iij,jk->ik", ((3, 3, 2), (2, 2))),  # a diagonal inside a product
    ("ij,jk,kl->il", ((2, 3), (3, 2), (2, 3))),  # three operands
    ("ij,kl->", ((2, 2), (3, 1))),  # lone axes summed
)


def _einsum_sample(draw):
    equation, shapes = draw(_st().sampled_from(_EINSUM_CASES))
    return list(shapes), {"equation": equation}


def _class_loss_sample(draw, smoothing):
    st = _st()
    n, c = _side(draw), draw(st.integers(2, 4))
    shape = draw(st.sampled_from([(n, c), (c,), (n, c, 2), (n, c, 2, 1)]))
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    count = int(numpy.prod(target_shape))
    target = numpy.array(draw(st.lists(st.integers(0, c - 1), min_size=count, max_size=count)))
    target = target.reshape(target_shape)
    ignore_index = draw(st.sampled_from([-100, 0]))
    if ignore_index == 0:  # ignore some targets, but not all (the mean would be 0 / 0)
        target.reshape(-1)[0] = 1
    weight = draw(st.sampled_from([None, numpy.linspace(0.5, 2.0, c)]))
    params = {"target": target, "weight": weight, "ignore_index": ignore_index}
    params["reduction"] = draw(st.sampled_from(["mean", "sum", "none"]))
    if smoothing:
        params["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.3]))
    return [shape], params


def _on_device(weight, like):
    """A constant (NumPy) weight as a tensor on the device of `like`."""
    return None if weight is None else Tensor(weight, device=like.device, dtype=like.dtype)


def _bce_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    weight = draw(st.sampled_from([None, "scalar", "last"]))
    if weight == "scalar":
        weight = numpy.array(1.5)
    elif weight == "last":  # one weight per position along the last axis
        weight = numpy.linspace(0.5, 2.0, shape[-1]) if shape else numpy.array(0.7)
    params = {"weight": weight, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}
    return [shape, shape], params


# ---- samplers of the shape and indexing ops with PyTorch's names ----------------------


def _shape_of(draw, min_dims=1, max_dims=3, hi=4):
    st = _st()
    return tuple(draw(st.lists(st.integers(1, hi), min_size=min_dims, max_size=max_dims)))


def _dim_of(draw, shape):
    return draw(_st().integers(-len(shape), len(shape) - 1))


def _rng(draw):
    """A NumPy generator seeded by Hypothesis (shrinks and replays like any draw)."""
    return numpy.random.default_rng(draw(_st().integers(0, 2**16)))


def _flip_sample(draw):
    st = _st()
    shape = _shape_of(draw, min_dims=0)
    dims = draw(st.lists(st.integers(0, max(len(shape) - 1, 0)), unique=True, max_size=len(shape)))
    if dims and draw(st.booleans()):
        dims = dims[0] - len(shape)  # one negative int
    return [shape], {"dims": dims if isinstance(dims, int) else tuple(dims)}


def _repeat_sample(draw):
    st = _st()
    shape = _shape_of(draw, min_dims=0, hi=3)
    sizes = draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=len(shape) + 1))
    return [shape], {"sizes": tuple(sizes)}


def _repeat_interleave_sample(draw):
    st = _st()
    shape = _shape_of(draw, hi=3)
    dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    size = int(numpy.prod(shape)) if dim is None else shape[dim]
    per_element = st.lists(st.integers(0, 2), min_size=size, max_size=size)
    repeats = draw(st.one_of(st.integers(0, 3), per_element))
    return [shape], {"repeats": repeats, "dim": dim}


def _split_sample(draw):
    st = _st()
    shape = _shape_of(draw)
    dim = _dim_of(draw, shape)
    length = shape[dim]
    sections = draw(st.lists(st.integers(0, length), min_size=1, max_size=3))
    sections[-1] = max(0, length - sum(sections[:-1]))
    if sum(sections) != length:  # the drawn sections overshot: one piece
        sections = [length]
    size = draw(st.one_of(st.integers(1, 4), st.just(sections)))
    return [shape], {"split_size_or_sections": size, "dim": dim}


def _split_call(x, split_size_or_sections, dim):
    # each piece scaled differently, so a gradient sent to the wrong slice shows
    pieces = x.split(split_size_or_sections, dim)
    return concatenate([piece * (i + 1) for i, piece in enumerate(pieces)], axis=dim)


def _chunk_sample(draw):
    shape = _shape_of(draw)
    return [shape], {"chunks": draw(_st().integers(1, 4)), "dim": _dim_of(draw, shape)}


def _chunk_call(x, chunks, dim):
    pieces = x.chunk(chunks, dim)
    return concatenate([piece * (i + 1) for i, piece in enumerate(pieces)], axis=dim)


def _roll_sample(draw):
    st = _st()
    shape = _shape_of(draw)
    if draw(st.booleans()):
        return [shape], {"shifts": draw(st.integers(-5, 5)), "dims": None}
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=2))
    shifts = draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims)))
    return [shape], {"shifts": tuple(shifts), "dims": tuple(dims)}


def _triangle_sample(draw):
    return [_shape_of(draw, min_dims=2)], {"diagonal": draw(_st().integers(-2, 2))}


def _diagonal_sample(draw):
    st = _st()
    shape = _shape_of(draw, min_dims=2)
    dim1, dim2 = draw(st.permutations(range(len(shape))))[:2]
    if draw(st.booleans()):
        dim2 -= len(shape)
    return [shape], {"offset": draw(st.integers(-2, 2)), "dim1": dim1, "dim2": dim2}


def _unflatten_sample(draw):
    st = _st()
    shape = _shape_of(draw)
    dim = _dim_of(draw, shape)
    n = shape[dim]
    choices = [(n,), (1, n), (n, 1), (-1,), (-1, 1)]
    choices += [(d, n // d) for d in (2, 3) if n % d == 0] + [(2, -1)] * (n % 2 == 0)
    return [shape], {"dim": dim, "sizes": draw(st.sampled_from(choices))}


def _index_shape(draw, shape, axis, along):
    """An index shape for gather/scatter: at most shape's size off `axis`, `along` on it."""
    st = _st()
    return tuple(along if d == axis else draw(st.integers(1, n)) for d, n in enumerate(shape))


def _gather_sample(draw):
    shape = _shape_of(draw)
    dim = _dim_of(draw, shape)
    index_shape = _index_shape(draw, shape, dim % len(shape), draw(_st().integers(1, 4)))
    index = _rng(draw).integers(0, shape[dim], size=index_shape)
    return [shape], {"dim": dim, "index": index}


def _scatter_index(draw, shape, dim, unique):
    """An index for scatter along `dim`: distinct places along `dim` when `unique` (so no
    two writes race), else any (scatter_add sums repeats; along > size forces repeats)."""
    axis = dim % len(shape)
    rng = _rng(draw)
    along = draw(_st().integers(1, shape[axis] if unique else 4))
    index_shape = _index_shape(draw, shape, axis, along)
    if not unique:
        return rng.integers(0, shape[axis], size=index_shape)
    wide = list(index_shape)
    wide[axis] = shape[axis]
    order = numpy.argsort(rng.random(wide), axis=axis)  # a random permutation per line
    return numpy.take(order, numpy.arange(along), axis=axis)


def _scatter_sample(unique, with_src=True):
    def sample(draw):
        st = _st()
        shape = _shape_of(draw)
        dim = _dim_of(draw, shape)
        index = _scatter_index(draw, shape, dim, unique)
        src = tuple(n + draw(st.integers(0, 1)) for n in index.shape)  # src may be larger
        shapes = [shape, src] if with_src else [shape]
        params = {"dim": dim, "index": index}
        if not with_src:
            params["value"] = draw(st.sampled_from([0.0, -1.5]))
        return shapes, params

    return sample


def _masked_fill_sample(with_tensor_value):
    def sample(draw):
        from hypothesis.extra import numpy as hnp

        st = _st()
        shape = _shape_of(draw, min_dims=0)
        # the mask broadcasts to x's shape: trailing axes of x's sizes, some of them 1
        lead = draw(st.integers(0, len(shape)))
        mask_shape = tuple(n if draw(st.booleans()) else 1 for n in shape[lead:])
        mask = draw(hnp.arrays(bool, mask_shape))
        if with_tensor_value:
            return [shape, ()], {"mask": mask}
        return [shape], {"mask": mask, "value": draw(st.sampled_from([0.0, 3.5]))}

    return sample


def _sort_sample(draw):
    shape = _shape_of(draw)
    return [shape], {"dim": _dim_of(draw, shape), "descending": draw(_st().booleans())}


def _topk_sample(draw):
    st = _st()
    shape = _shape_of(draw)
    dim = _dim_of(draw, shape)
    k = draw(st.integers(1, shape[dim]))
    return [shape], {"k": k, "dim": dim, "largest": draw(st.booleans())}


def _pad_modes_sample(draw):
    st = _st()
    shape = _shape_of(draw, hi=4)
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    pairs = []
    for n in shape:
        if mode == "reflect":  # reflect needs fewer than n elements on each side
            pairs.append((draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
            continue
        before, after = draw(st.integers(-1, 2)), draw(st.integers(-1, 2))
        if n + min(before, 0) + min(after, 0) < 1:  # cropped away entirely: no crop
            before, after = max(before, 0), max(after, 0)
        if mode == "circular":  # wraps around at most once: widths up to the cropped size
            left = n + min(before, 0) + min(after, 0)
            before, after = min(before, left), min(after, left)
        pairs.append((before, after))
    value = draw(st.sampled_from([0.0, -1.5])) if mode == "constant" else 0.0
    return [shape], {"pad_width": tuple(pairs), "mode": mode, "value": value}


def _functional_pad_call(x, pad_width, mode, value):
    # F.pad takes PyTorch's flat widths, last axis first
    flat = [w for pair in reversed(pad_width) for w in pair]
    return F.pad(x, flat, mode=mode, value=value)


def _attention_sample(draw):
    """query (..., L, E), key (..., S, E), value (..., S, Ev) with one kind of mask: none,
    boolean (rows may be fully masked out), float (with some -inf), or causal."""
    st = _st()
    length, source, dim, value_dim = (draw(st.integers(1, 3)) for _ in range(4))
    q_lead, kv_lead = draw(st.sampled_from([((), ()), ((2,), (2,)), ((2, 2), (1, 2)), ((2,), ())]))
    shapes = [q_lead + (length, dim), kv_lead + (source, dim), kv_lead + (source, value_dim)]
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    params = {"scale": draw(st.sampled_from([None, 0.7]))}
    if kind == "causal":
        params["is_causal"] = True
    elif kind != "none":
        mask_shape = draw(st.sampled_from([(length, source), q_lead + (length, source)]))
        seed = draw(st.integers(0, 2**16))
        rng = numpy.random.default_rng(seed)
        keep = rng.random(mask_shape) < 0.7
        if kind == "bool":
            params["attn_mask"] = keep
        else:
            params["attn_mask"] = numpy.where(keep, rng.standard_normal(mask_shape), -numpy.inf)
    return shapes, params


def _scan_sample(draw):
    """A shape (0-d too) and one axis to scan along, or None for the flattened tensor."""
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    ndim = max(len(shape), 1)  # a 0-d tensor takes axis 0 or -1, as in PyTorch
    return [shape], {"axis": draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))}


def _std_sample(draw):
    """Sides of at least 2: a standard deviation over one element is 0, where sqrt has no
    derivative.  (The entry's `distinct` keeps the values apart for the same reason.)"""
    st = _st()
    return [tuple(draw(st.lists(st.integers(2, 4), min_size=1, max_size=3)))], {}


def _normalize_sample(draw):
    st = _st()
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return [shape], {"dim": dim, "p": draw(st.sampled_from([1.0, 2.0, 3.0]))}


REGISTRY = (
    # arithmetic (binary ops broadcast; reflected forms with Python numbers)
    OpInfo("add", lambda x, y: x + y, nargs=2, broadcast=True),
    OpInfo("sub", lambda x, y: x - y, nargs=2, broadcast=True),
    OpInfo("mul", lambda x, y: x * y, nargs=2, broadcast=True),
    OpInfo("div", lambda x, y: x / y, nargs=2, broadcast=True, domain=(0.5, 2.0)),
    OpInfo("pow", lambda x, y: x**y, nargs=2, broadcast=True, domain=(0.5, 2.0)),
    OpInfo("neg", lambda x: -x),
    OpInfo("radd_scalar", lambda x: 1.5 + x),
    OpInfo("rsub_scalar", lambda x: 1.5 - x),
    OpInfo("rmul_scalar", lambda x: 2.5 * x),
    OpInfo("rdiv_scalar", lambda x: 2.0 / x, domain=(0.5, 2.0)),
    OpInfo("pow_scalar", lambda x, p: x**p, domain=(0.5, 2.0), params={"p": (2, 3, 0.5, -1.5)}),
    OpInfo("rpow_scalar", lambda x: 2.0**x),
    # float32 in the middle: a big eps keeps finite differences above float32 rounding
    OpInfo(
        "astype",
        lambda x: x.astype(numpy.float32).astype(x.dtype),
        tolerance={"eps": 1e-2, "atol": 1e-4},
    ),
    # elementwise functions
    OpInfo("exp", lambda x: x.exp()),
    OpInfo("log", lambda x: x.log(), domain=(0.5, 3.0)),
    OpInfo("sqrt", lambda x: x.sqrt(), domain=(0.5, 3.0)),
    OpInfo("abs", lambda x: x.abs(), kinks=(0.0,)),
    OpInfo("sin", lambda x: x.sin()),
    OpInfo("cos", lambda x: x.cos()),
    OpInfo("tanh", lambda x: x.tanh()),
    OpInfo("sigmoid", lambda x: x.sigmoid(), domain=(-5.0, 5.0)),
    OpInfo("relu", lambda x: x.relu(), kinks=(0.0,)),
    OpInfo(
        "leaky_relu",
        lambda x, slope: x.leaky_relu(slope),
        kinks=(0.0,),
        params={"slope": (0.01, 0.2)},
    ),
    OpInfo("softplus", lambda x: x.softplus(), domain=(-5.0, 5.0)),
    OpInfo("erf", lambda x: x.erf()),
    OpInfo("gelu", lambda x: x.gelu()),
    OpInfo("gelu_tanh", lambda x: x.gelu(approximate="tanh")),
    OpInfo("clip", lambda x: x.clip(-0.5, 0.8), kinks=(-0.5, 0.8)),
    OpInfo("clip_lo", lambda x: x.clip(lo=0.3), kinks=(0.3,)),
    OpInfo("maximum", lambda x, y: x.maximum(y), nargs=2, broadcast=True, distinct=True),
    OpInfo("minimum", lambda x, y: minimum(x, y), nargs=2, broadcast=True, distinct=True),
    OpInfo("where", lambda x, y, cond: where(cond, x, y), nargs=2, sample=_where_sample),
    # reductions
    OpInfo("sum", lambda x, axis, keepdims: x.sum(axis, keepdims), reduces=True),
    OpInfo("mean", lambda x, axis, keepdims: x.mean(axis, keepdims), reduces=True),
    OpInfo("var", lambda x, axis, keepdims: x.var(axis, keepdims), reduces=True),
    OpInfo("max", lambda x, axis, keepdims: x.max(axis, keepdims), reduces=True, distinct=True),
    OpInfo("min", lambda x, axis, keepdims: x.min(axis, keepdims), reduces=True, distinct=True),
    OpInfo("logsumexp", lambda x, axis, keepdims: x.logsumexp(axis, keepdims), reduces=True),
    # shape
    OpInfo("reshape", lambda x, shape: x.reshape(shape), sample=_reshape_sample),
    OpInfo("transpose", lambda x, axes: x.transpose(*axes), sample=_transpose_sample),
    OpInfo("T", lambda x: x.T),
    OpInfo("permute", lambda x, axes: x.permute(axes), sample=_transpose_sample),
    OpInfo("swapaxes", lambda x: x.swapaxes(0, -1), min_ndim=1),
    OpInfo("broadcast_to", lambda x, shape: x.broadcast_to(shape), sample=_broadcast_to_sample),
    OpInfo("expand", lambda x, shape: x.expand(*shape), sample=_broadcast_to_sample),
    OpInfo("squeeze", lambda x, axis: x.squeeze(axis), sample=_squeeze_sample),
    OpInfo("unsqueeze", lambda x, axis: x.unsqueeze(axis), sample=_unsqueeze_sample),
    OpInfo("flatten", lambda x: x.flatten()),
    OpInfo("getitem", lambda x, index: x[index], sample=_index_sample),
    OpInfo(
        "concatenate",
        lambda *xs, axis: concatenate(xs, axis=axis),
        sample=lambda draw: _join_sample(draw, same_shape=False),
    ),
    OpInfo(
        "stack",
        lambda *xs, axis: stack(xs, axis=axis),
        sample=lambda draw: _join_sample(draw, same_shape=True),
    ),
    OpInfo("pad", lambda x, pad_width, value: x.pad(pad_width, value), sample=_pad_sample),
    # linear algebra
    OpInfo("matmul", lambda x, y: x @ y, nargs=2, sample=_matmul_sample),
    OpInfo("linear", linear, nargs=3, sample=_linear_sample),
    # nn
    OpInfo("softmax", lambda x, axis: x.softmax(axis), sample=_softmax_sample),
    OpInfo("log_softmax", lambda x, axis: x.log_softmax(axis), sample=_softmax_sample),
    OpInfo(
        "cross_entropy",
        lambda x, target, reduction: cross_entropy(x, target, reduction=reduction),
        sample=_cross_entropy_sample,
        domain=(-3.0, 3.0),
    ),
    OpInfo(
        "mse_loss",
        lambda x, y, reduction: mse_loss(x, y, reduction),
        nargs=2,
        sample=_same_shape_sample(2),
    ),
    OpInfo(
        "binary_cross_entropy_with_logits",
        lambda x, y, reduction: binary_cross_entropy_with_logits(x, y, reduction),
        nargs=2,
        sample=_same_shape_sample(2),
        domain=(-3.0, 3.0),
    ),
    # nn functions (tg.nn.functional): convolution and pooling reach Im2Col / Col2Im
    OpInfo(
        "conv2d",
        lambda x, w, b, stride, padding: F.conv2d(x, w, b, stride, padding),
        nargs=3,
        sample=_conv_sample,
    ),
    OpInfo("max_pool2d", lambda x, **p: F.max_pool2d(x, **p), sample=_pool_sample, distinct=True),
    OpInfo("avg_pool2d", lambda x, **p: F.avg_pool2d(x, **p), sample=_pool_sample),
    OpInfo(
        "layer_norm",
        lambda x, w, b, normalized_shape: F.layer_norm(x, normalized_shape, w, b),
        nargs=3,
        sample=_layer_norm_sample,
    ),
    OpInfo("batch_norm", _batch_norm_call, nargs=3, sample=_batch_norm_sample),
    OpInfo("embedding", lambda w, indices: F.embedding(indices, w), sample=_embedding_sample),
    OpInfo("dropout", _dropout_call, params={"p": (0.0, 0.3, 0.7)}),
    # convolution and pooling options, interpolate, einsum, class losses
    OpInfo(
        "conv2d_options",
        lambda x, w, b, **p: F.conv2d(x, w, b, **p),
        nargs=3,
        sample=_conv_options_sample,
    ),
    OpInfo("conv1d", lambda x, w, b, **p: F.conv1d(x, w, b, **p), nargs=3, sample=_conv1d_sample),
    OpInfo(
        "conv_transpose2d",
        lambda x, w, b, **p: F.conv_transpose2d(x, w, b, **p),
        nargs=3,
        sample=_conv_transpose_sample,
    ),
    OpInfo(
        "max_pool2d_options",
        lambda x, **p: F.max_pool2d(x, **p),
        sample=lambda draw: _pool_options_sample(draw, dilated=True),
        distinct=True,
    ),
    OpInfo(
        "avg_pool2d_options",
        lambda x, **p: F.avg_pool2d(x, **p),
        sample=lambda draw: _pool_options_sample(draw, dilated=False),
    ),
    OpInfo("interpolate", lambda x, **p: F.interpolate(x, **p), sample=_interpolate_sample),
    OpInfo("einsum", lambda *xs, equation: einsum(equation, *xs), sample=_einsum_sample),
    OpInfo(
        "nll_loss",
        lambda x, weight, **p: F.nll_loss(x, weight=_on_device(weight, x), **p),
        sample=lambda draw: _class_loss_sample(draw, smoothing=False),
    ),
    OpInfo(
        "cross_entropy_options",
        lambda x, weight, **p: cross_entropy(x, weight=_on_device(weight, x), **p),
        sample=lambda draw: _class_loss_sample(draw, smoothing=True),
        domain=(-3.0, 3.0),
    ),
    OpInfo(
        "binary_cross_entropy",
        lambda x, y, weight, reduction: F.binary_cross_entropy(
            x, y, _on_device(weight, x), reduction=reduction
        ),
        nargs=2,
        sample=_bce_sample,
        domain=(0.05, 0.95),
    ),
    # shape and indexing ops with PyTorch's names (flip, gather, scatter, sort, ...)
    OpInfo("flip", lambda x, dims: x.flip(dims), sample=_flip_sample),
    OpInfo("repeat", lambda x, sizes: x.repeat(*sizes), sample=_repeat_sample),
    OpInfo(
        "repeat_interleave",
        lambda x, repeats, dim: x.repeat_interleave(repeats, dim),
        sample=_repeat_interleave_sample,
    ),
    OpInfo("split", _split_call, sample=_split_sample),
    OpInfo("chunk", _chunk_call, sample=_chunk_sample),
    OpInfo("roll", lambda x, shifts, dims: x.roll(shifts, dims), sample=_roll_sample),
    OpInfo("tril", lambda x, diagonal: x.tril(diagonal), sample=_triangle_sample),
    OpInfo("triu", lambda x, diagonal: x.triu(diagonal), sample=_triangle_sample),
    OpInfo("diagonal", lambda x, **p: x.diagonal(**p), sample=_diagonal_sample),
    OpInfo("unflatten", lambda x, dim, sizes: x.unflatten(dim, sizes), sample=_unflatten_sample),
    OpInfo("gather", lambda x, dim, index: x.gather(dim, index), sample=_gather_sample),
    OpInfo(
        "scatter",
        lambda x, src, dim, index: x.scatter(dim, index, src),
        nargs=2,
        sample=_scatter_sample(unique=True),
    ),
    OpInfo(
        "scatter_value",
        lambda x, dim, index, value: x.scatter(dim, index, value=value),
        sample=_scatter_sample(unique=True, with_src=False),
    ),
    OpInfo(
        "scatter_add",
        lambda x, src, dim, index: x.scatter_add(dim, index, src),
        nargs=2,
        sample=_scatter_sample(unique=False),
    ),
    OpInfo(
        "masked_fill",
        lambda x, mask, value: x.masked_fill(mask, value),
        sample=_masked_fill_sample(with_tensor_value=False),
    ),
    OpInfo(
        "masked_fill_tensor_value",
        lambda x, value, mask: x.masked_fill(mask, value),
        nargs=2,
        sample=_masked_fill_sample(with_tensor_value=True),
    ),
    OpInfo(
        "sort",
        lambda x, dim, descending: x.sort(dim, descending)[0],
        sample=_sort_sample,
        distinct=True,
    ),
    OpInfo("topk", lambda x, **p: x.topk(**p)[0], sample=_topk_sample, distinct=True),
    OpInfo("pad_modes", lambda x, **p: x.pad(**p), sample=_pad_modes_sample),
    OpInfo("F.pad", _functional_pad_call, sample=_pad_modes_sample),
    # attention (tg.nn.functional): a composition of matmul, where and softmax
    OpInfo(
        "scaled_dot_product_attention",
        lambda q, k, v, **p: F.scaled_dot_product_attention(q, k, v, **p),
        nargs=3,
        sample=_attention_sample,
    ),
    # more math: reductions and scans (zeros in prod and cumprod: tests/test_ops_math.py)
    OpInfo(
        "std",
        lambda x, axis, keepdims, ddof: x.std(axis, keepdims, ddof),
        reduces=True,
        distinct=True,
        sample=_std_sample,
        params={"ddof": (0, 1)},
    ),
    OpInfo("prod", lambda x, axis, keepdims: x.prod(axis, keepdims), reduces=True),
    OpInfo("cumsum", lambda x, axis: x.cumsum(axis), sample=_scan_sample),
    OpInfo("cumprod", lambda x, axis: x.cumprod(axis), sample=_scan_sample),
    OpInfo(
        "logcumsumexp", lambda x, axis: x.logcumsumexp(axis), sample=_scan_sample, domain=(-3, 3)
    ),
    # more math: rounding (zero gradient, as PyTorch), kept away from the jumps
    OpInfo("floor", lambda x: x.floor(), kinks=(-2.0, -1.0, 0.0, 1.0, 2.0)),
    OpInfo("ceil", lambda x: x.ceil(), kinks=(-2.0, -1.0, 0.0, 1.0, 2.0)),
    OpInfo("round", lambda x: x.round(), kinks=(-1.5, -0.5, 0.5, 1.5)),
    OpInfo("trunc", lambda x: x.trunc(), kinks=(-2.0, -1.0, 0.0, 1.0, 2.0)),
    # more math: elementwise functions
    OpInfo("rsqrt", lambda x: x.rsqrt(), domain=(0.5, 3.0)),
    OpInfo("exp2", lambda x: x.exp2()),
    OpInfo("log2", lambda x: x.log2(), domain=(0.5, 3.0)),
    OpInfo("log10", lambda x: x.log10(), domain=(0.5, 3.0)),
    OpInfo("tan", lambda x: x.tan(), domain=(-1.2, 1.2)),
    OpInfo("asin", lambda x: x.asin(), domain=(-0.9, 0.9)),
    OpInfo("acos", lambda x: x.acos(), domain=(-0.9, 0.9)),
    OpInfo("atan", lambda x: x.atan()),
    OpInfo("sinh", lambda x: x.sinh()),
    OpInfo("cosh", lambda x: x.cosh()),
    OpInfo("asinh", lambda x: x.asinh()),
    OpInfo("acosh", lambda x: x.acosh(), domain=(1.1, 3.0)),
    OpInfo("atanh", lambda x: x.atanh(), domain=(-0.9, 0.9)),
    OpInfo("logaddexp", lambda x, y: x.logaddexp(y), nargs=2, broadcast=True),
    OpInfo("logaddexp_scalar", lambda x: logaddexp(0.5, x)),
    OpInfo("lerp", lambda x, y, w: x.lerp(y, w), nargs=3, broadcast=True),
    OpInfo("lerp_scalar", lambda x, y, w: x.lerp(y, w), nargs=2, params={"w": (0.3, 1.5)}),
    # x % y jumps where x / y is an integer: |x| < |y| here, and x kept away from 0
    OpInfo("mod", lambda x, y: (x * 0.2) % (y + 2.5), nargs=2, broadcast=True, kinks=(0.0,)),
    OpInfo(
        "mod_negative_divisor",
        lambda x, y: (x * 0.2) % (y - 2.5),
        nargs=2,
        broadcast=True,
        kinks=(0.0,),
    ),
    OpInfo("mod_scalar", lambda x: x % 0.75, kinks=(-1.5, -0.75, 0.0, 0.75, 1.5)),
    OpInfo("rmod_scalar", lambda x: 2.5 % x, domain=(0.7, 2.0), kinks=(2.5 / 3, 2.5 / 2)),
    # more math: activations (tg.nn.functional)
    OpInfo("silu", lambda x: F.silu(x)),
    OpInfo("elu", lambda x, alpha: F.elu(x, alpha), kinks=(0.0,), params={"alpha": (1.0, 0.5)}),
    OpInfo("selu", lambda x: F.selu(x), kinks=(0.0,)),
    OpInfo("celu", lambda x, alpha: F.celu(x, alpha), kinks=(0.0,), params={"alpha": (1.0, 2.0)}),
    OpInfo("relu6", lambda x: F.relu6(x), domain=(-2.0, 8.0), kinks=(0.0, 6.0)),
    OpInfo("hardtanh", lambda x: F.hardtanh(x, -0.5, 1.2), kinks=(-0.5, 1.2)),
    OpInfo("hardsigmoid", lambda x: F.hardsigmoid(x), domain=(-5.0, 5.0), kinks=(-3.0, 3.0)),
    OpInfo("hardswish", lambda x: F.hardswish(x), domain=(-5.0, 5.0), kinks=(-3.0, 3.0)),
    OpInfo("mish", lambda x: F.mish(x)),
    OpInfo("softsign", lambda x: F.softsign(x), kinks=(0.0,)),
    OpInfo("logsigmoid", lambda x: F.logsigmoid(x), domain=(-5.0, 5.0)),
    OpInfo("softmin", lambda x, axis: F.softmin(x, axis), sample=_softmax_sample),
    OpInfo(
        "normalize",
        lambda x, p, dim: F.normalize(x, p, dim),
        sample=_normalize_sample,
        kinks=(0.0,),
    ),
    OpInfo(
        "softplus_beta",
        lambda x: x.softplus(beta=2.0, threshold=3.0),
        domain=(-3.0, 3.0),
        kinks=(1.5,),
    ),
)

BY_NAME = {op.name: op for op in REGISTRY}
