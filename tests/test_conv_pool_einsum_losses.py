"""Convolution and pooling options, interpolate, einsum and the class losses against
NumPy references written here (direct loops over small inputs, closed forms), on every
device; their errors; and their layers.  Gradients are checked by the registry
(tests/test_ops_gradcheck.py); PyTorch itself in tests/test_pytorch_interop.py.
"""

import itertools
import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.nn import functional as F

RNG = np.random.default_rng(0)


def _t(array, device):
    return tg.Tensor(array, device=device)


# ---- references: loops over output positions, as the formulas read --------------------


def conv2d_reference(x, w, b, stride, padding, dilation, groups):
    n, c, h, width = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for i, k, r, s in itertools.product(range(n), range(o), range(oh), range(ow)):
        g = k // per_group
        total = b[k] if b is not None else 0.0
        for ci, u, v in itertools.product(range(cg), range(kh), range(kw)):
            total += xp[i, g * cg + ci, r * sh + u * dh, s * sw + v * dw] * w[k, ci, u, v]
        out[i, k, r, s] = total
    return out


def conv_transpose2d_reference(x, w, b, stride, padding, output_padding, groups, dilation):
    """Every input pixel adds its value times the kernel into the output (scatter)."""
    n, c, h, width = x.shape
    _, og, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw), (eh, ew) = stride, padding, dilation, output_padding
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + eh
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + ew
    full = np.zeros((n, og * groups, full_h, full_w))
    cg = c // groups
    for i, ci, r, s in itertools.product(range(n), range(c), range(h), range(width)):
        g = ci // cg
        for k, u, v in itertools.product(range(og), range(kh), range(kw)):
            full[i, g * og + k, r * sh + u * dh, s * sw + v * dw] += x[i, ci, r, s] * w[ci, k, u, v]
    out = full[:, :, ph : full_h - ph, pw : full_w - pw]
    return out + (b[None, :, None, None] if b is not None else 0.0)


def pool_reference(x, kernel, stride, padding, ceil_mode, how, count_include_pad=True):
    n, c, h, w = x.shape
    sizes = []
    for size, k, s, p in zip((h, w), kernel, stride, padding):
        span = size + 2 * p - k
        out = (math.ceil(span / s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:
            out -= 1
        sizes.append(out)
    result = np.zeros((n, c, *sizes))
    for r, s in itertools.product(range(sizes[0]), range(sizes[1])):
        top, left = r * stride[0] - padding[0], s * stride[1] - padding[1]
        bottom = min(top + kernel[0], h + padding[0])
        right = min(left + kernel[1], w + padding[1])
        inside = x[:, :, max(top, 0) : min(bottom, h), max(left, 0) : min(right, w)]
        if how == "max":
            result[:, :, r, s] = inside.max(axis=(2, 3))
        else:
            count = (bottom - top) * (right - left)
            if not count_include_pad:
                count = (min(bottom, h) - max(top, 0)) * (min(right, w) - max(left, 0))
            result[:, :, r, s] = inside.sum(axis=(2, 3)) / count
    return result


# ---- convolution --------------------------------------------------------------------


@pytest.mark.parametrize(
    "stride, padding, dilation, groups",
    [(1, 0, 1, 1), (2, 1, 1, 2), ((2, 1), (1, 0), (2, 1), 1), (1, 2, 2, 4), (3, 1, (1, 2), 2)],
)
def test_conv2d_matches_loops(device, stride, padding, dilation, groups):
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    x = RNG.standard_normal((2, 4, 6, 7))
    w = RNG.standard_normal((4, 4 // groups, 3, 2))
    b = RNG.standard_normal(4)
    got = F.conv2d(_t(x, device), _t(w, device), _t(b, device), stride, padding, dilation, groups)
    expected = conv2d_reference(x, w, b, pair(stride), pair(padding), pair(dilation), groups)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kernel, dilation", [((3, 3), 1), ((2, 4), 1), ((3, 2), 2)])
def test_conv2d_same_keeps_the_size_and_valid_pads_nothing(device, kernel, dilation):
    x = RNG.standard_normal((1, 2, 5, 6))
    w = RNG.standard_normal((3, 2) + kernel)
    same = F.conv2d(_t(x, device), _t(w, device), padding="same", dilation=dilation)
    assert same.shape == (1, 3, 5, 6)
    # PyTorch's "same": total padding d*(k-1), the odd pixel at the end
    pads = [(dilation * (k - 1) // 2, dilation * (k - 1) - dilation * (k - 1) // 2) for k in kernel]
    padded = np.pad(x, ((0, 0), (0, 0), *pads))
    expected = conv2d_reference(padded, w, None, (1, 1), (0, 0), (dilation,) * 2, 1)
    np.testing.assert_allclose(same.numpy(), expected, rtol=1e-10, atol=1e-12)
    valid = F.conv2d(_t(x, device), _t(w, device), padding="valid", dilation=dilation)
    np.testing.assert_allclose(
        valid.numpy(), conv2d_reference(x, w, None, (1, 1), (0, 0), (dilation,) * 2, 1)
    )


def test_conv1d_is_conv2d_on_one_row(device):
    x = RNG.standard_normal((2, 4, 9))
    w = RNG.standard_normal((6, 2, 3))
    b = RNG.standard_normal(6)
    got = F.conv1d(_t(x, device), _t(w, device), _t(b, device), 2, 1, 2, 2)
    expected = conv2d_reference(x[:, :, None], w[:, :, None], b, (1, 2), (0, 1), (1, 2), 2)
    np.testing.assert_allclose(got.numpy(), expected[:, :, 0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "stride, padding, output_padding, groups, dilation",
    [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (2, 0, (1, 0), 2, 2), ((3, 2), (1, 0), (2, 1), 1, (1, 2))],
)
def test_conv_transpose2d_matches_the_scatter_loop(
    device, stride, padding, output_padding, groups, dilation
):
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    x = RNG.standard_normal((2, 4, 3, 4))
    w = RNG.standard_normal((4, 3, 3, 2))
    b = RNG.standard_normal(3 * groups)
    got = F.conv_transpose2d(
        _t(x, device), _t(w, device), _t(b, device), stride, padding, output_padding, groups,
        dilation,
    )  # fmt: skip
    expected = conv_transpose2d_reference(
        x, w, b, pair(stride), pair(padding), pair(output_padding), groups, pair(dilation)
    )
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_conv_transpose2d_is_the_input_gradient_of_conv2d():
    x = tg.Tensor(RNG.standard_normal((2, 3, 7, 6)), requires_grad=True)
    w = tg.Tensor(RNG.standard_normal((4, 3, 3, 3)))
    out = F.conv2d(x, w, stride=2, padding=1, dilation=1)
    upstream = tg.Tensor(RNG.standard_normal(out.shape))
    (grad,) = tg.grad(out, [x], upstream)
    # out is (2, 4, 4, 3): back to 7 rows takes (4 - 1) * 2 - 2 + 2 + 1 = 7, and back to
    # 6 columns (3 - 1) * 2 - 2 + 2 + 1 = 5 plus output_padding 1
    back = F.conv_transpose2d(upstream, w, stride=2, padding=1, output_padding=(0, 1))
    np.testing.assert_allclose(back.numpy(), grad.numpy(), rtol=1e-10, atol=1e-12)


# ---- pooling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kernel, stride, padding, ceil_mode",
    [(2, 2, 0, True), (3, 2, 1, True), ((2, 3), (2, 2), (1, 1), True), (3, 3, 1, False)],
)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_pooling_matches_loops(device, kernel, stride, padding, ceil_mode, count_include_pad):
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    x = RNG.standard_normal((2, 3, 7, 6))
    k, s, p = pair(kernel), pair(stride), pair(padding)
    max_out = F.max_pool2d(_t(x, device), kernel, stride, padding, ceil_mode=ceil_mode)
    np.testing.assert_allclose(max_out.numpy(), pool_reference(x, k, s, p, ceil_mode, "max"))
    avg_out = F.avg_pool2d(
        _t(x, device), kernel, stride, padding, ceil_mode, count_include_pad=count_include_pad
    )
    expected = pool_reference(x, k, s, p, ceil_mode, "avg", count_include_pad)
    np.testing.assert_allclose(avg_out.numpy(), expected, rtol=1e-12)


def test_ceil_mode_keeps_a_partial_last_window_and_drops_one_in_the_padding():
    x = tg.Tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    assert F.max_pool2d(x, 2, ceil_mode=True).shape == (1, 1, 3, 3)
    assert F.max_pool2d(x, 2, ceil_mode=True).numpy()[0, 0, 2, 2] == 24.0  # a 1x1 window
    # size 6, kernel 2, stride 2, padding 1: a 5th window would start at 7 >= 6 + 1
    y = tg.Tensor(np.zeros((1, 1, 6, 6)))
    assert F.avg_pool2d(y, 2, 2, 1, ceil_mode=True).shape == (1, 1, 4, 4)


def test_divisor_override_and_max_pool_dilation(device):
    x = RNG.standard_normal((1, 2, 6, 6))
    got = F.avg_pool2d(_t(x, device), 3, 3, divisor_override=2).numpy()
    expected = x.reshape(1, 2, 2, 3, 2, 3).sum(axis=(3, 5)) / 2
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    dilated = F.max_pool2d(_t(x, device), 2, 1, dilation=2).numpy()
    expected = np.maximum.reduce([x[:, :, i : i + 4, j : j + 4] for i in (0, 2) for j in (0, 2)])
    np.testing.assert_allclose(dilated, expected)


# ---- interpolate --------------------------------------------------------------------


def _nearest(size, out):
    return [min(int(math.floor(i * size / out)), size - 1) for i in range(out)]


def _bilinear_1d(x, axis, out, align_corners):
    """Linear interpolation along one axis with PyTorch's source-index rule."""
    size = x.shape[axis]
    result = []
    for i in range(out):
        if align_corners:
            src = i * (size - 1) / (out - 1) if out > 1 else 0.0
        else:
            src = max((i + 0.5) * size / out - 0.5, 0.0)
        low = min(int(math.floor(src)), size - 1)
        high = min(low + 1, size - 1)
        frac = src - low
        result.append(np.take(x, low, axis) * (1 - frac) + np.take(x, high, axis) * frac)
    return np.stack(result, axis=axis)


@pytest.mark.parametrize("size", [(7, 3), (2, 8), (4, 5), (1, 1)])
def test_interpolate_nearest_and_bilinear(device, size):
    x = RNG.standard_normal((2, 3, 4, 5))
    got = F.interpolate(_t(x, device), size=size).numpy()
    rows, columns = _nearest(4, size[0]), _nearest(5, size[1])
    np.testing.assert_array_equal(got, x[:, :, rows][:, :, :, columns])
    for align_corners in (False, True):
        got = F.interpolate(_t(x, device), size=size, mode="bilinear", align_corners=align_corners)
        expected = _bilinear_1d(
            _bilinear_1d(x, 2, size[0], align_corners), 3, size[1], align_corners
        )
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_interpolate_scale_factor_and_signals(device):
    x = RNG.standard_normal((1, 2, 3, 4))
    doubled = F.interpolate(_t(x, device), scale_factor=2).numpy()
    np.testing.assert_array_equal(doubled, x.repeat(2, axis=2).repeat(2, axis=3))
    # scale_factor 1.5 on 5 pixels: 7 outputs reading floor(i / 1.5), not floor(i * 5 / 7)
    signal = RNG.standard_normal((1, 1, 5))
    got = F.interpolate(_t(signal, device), scale_factor=1.5).numpy()
    np.testing.assert_array_equal(got, signal[:, :, [0, 0, 1, 2, 2, 3, 4]])
    resized = nn.Upsample(size=8)(_t(signal, device)).numpy()
    np.testing.assert_array_equal(resized, signal[:, :, _nearest(5, 8)])


# ---- einsum -------------------------------------------------------------------------

EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("Ab,bA->A", [(2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("iji->j", [(2, 3, 2)]),
    ("ijk,ikl,lm->jm", [(2, 3, 2), (2, 2, 3), (3, 2)]),
    ("ab,cd->", [(2, 2), (3, 1)]),
    ("i,i", [(4,), (4,)]),
]


@pytest.mark.parametrize("equation, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_matches_numpy(device, equation, shapes):
    arrays = [RNG.standard_normal(s) for s in shapes]
    got = tg.einsum(equation, *[_t(a, device) for a in arrays])
    expected = np.einsum(equation, *arrays)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_einsum_gradients_are_closed_forms():
    x = tg.Tensor(RNG.standard_normal((3, 3)), requires_grad=True)
    y = tg.Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    tg.einsum("ii", x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.eye(3))  # d trace / dx = I
    x.grad = None
    upstream = RNG.standard_normal((3, 2))
    tg.einsum("ij,jk->ik", x, y).backward(tg.Tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), upstream @ y.numpy().T)
    np.testing.assert_allclose(y.grad.numpy(), x.numpy().T @ upstream)


@pytest.mark.parametrize(
    "equation, shapes, message",
    [
        ("ij,jk->ik", [(2, 3), (4, 5)], "letter 'j' stands for axes of sizes"),
        ("ij,jk", [(2, 3)], "2 operand terms but 1 operands"),
        ("ijk", [(2, 3)], "operand 0 has 2 dims but its term 'ijk' names 3"),
        ("ij->k", [(2, 3)], "output letter 'k' appears in no operand"),
        ("i1", [(2, 3)], "subscripts must be letters"),
        ("ii->ii", [(2, 2)], "names a letter twice"),
        ("i.j", [(2, 3)], "not one '...'"),
        ("i->j->k", [(2,)], "more than one '->'"),
    ],
)
def test_einsum_errors_name_equation_and_shapes(equation, shapes, message):
    operands = [tg.Tensor(np.ones(s)) for s in shapes]
    with pytest.raises(ValueError, match=message) as info:
        tg.einsum(equation, *operands)
    assert repr(equation) in str(info.value) and str(shapes[0]) in str(info.value)


# ---- losses -------------------------------------------------------------------------


def cross_entropy_reference(logits, target, weight, ignore_index, reduction, smoothing):
    """PyTorch's definition, position by position (classes on axis 1)."""
    if logits.ndim == 1:
        logits, target = logits[None], np.array([target])
    classes = logits.shape[1]
    rows = np.moveaxis(logits, 1, -1).reshape(-1, classes)
    flat = target.reshape(-1)
    weight = np.ones(classes) if weight is None else weight
    nll, smooth, used = [], [], 0.0
    for row, t in zip(rows, flat):
        log_p = row - np.log(np.exp(row - row.max()).sum()) - row.max()
        if t == ignore_index:
            nll.append(0.0)
            smooth.append(0.0)
            continue
        nll.append(-weight[t] * log_p[t])
        smooth.append(-(weight * log_p).sum())
        used += weight[t]
    nll, smooth = np.array(nll), np.array(smooth)
    if reduction == "mean":
        nll, smooth = nll.sum() / used, smooth.sum() / used
    elif reduction == "sum":
        nll, smooth = nll.sum(), smooth.sum()
    else:
        nll, smooth = nll.reshape(target.shape), smooth.reshape(target.shape)
    return (1 - smoothing) * nll + smoothing / classes * smooth


@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 4, 3), (2, 4, 2, 3)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_options(device, shape, reduction):
    classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else shape[:1] + shape[2:]
    logits = RNG.standard_normal(shape)
    target = RNG.integers(0, classes, target_shape)
    if target.size > 1:
        target.reshape(-1)[0] = 2  # some ignored, some not
        target.reshape(-1)[1] = 1
    weight = RNG.uniform(0.5, 2.0, classes)
    for w, ignore, smoothing in itertools.product([None, weight], [-100, 2], [0.0, 0.2]):
        got = tg.cross_entropy(
            _t(logits, device),
            _t(target, device),
            None if w is None else _t(w, device),
            ignore_index=ignore,
            reduction=reduction,
            label_smoothing=smoothing,
        )
        expected = cross_entropy_reference(logits, target, w, ignore, reduction, smoothing)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
        log_probs = _t(logits, device).log_softmax(axis=0 if len(shape) == 1 else 1)
        nll = F.nll_loss(log_probs, target, w, ignore_index=ignore, reduction=reduction)
        expected = cross_entropy_reference(logits, target, w, ignore, reduction, 0.0)
        np.testing.assert_allclose(nll.numpy(), expected, rtol=1e-10, atol=1e-12)


def test_plain_cross_entropy_still_uses_the_fused_op():
    logits = tg.Tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    assert tg.cross_entropy(logits, [0, 1, 2, 1]).grad_fn.name == "CrossEntropy"
    assert tg.cross_entropy(logits, [0, 1, 2, 1], "sum").grad_fn.name == "CrossEntropy"


def test_binary_cross_entropy_clamps_logs_at_minus_100(device):
    p = np.array([0.0, 1.0, 0.3, 0.9])
    y = np.array([1.0, 0.0, 0.4, 1.0])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    probs = tg.Tensor(p, requires_grad=True, device=device)
    loss = F.binary_cross_entropy(probs, _t(y, device), _t(w, device), reduction="none")
    logs = np.maximum(np.log(np.where(p > 0, p, 1e-300)), -100)
    logs1m = np.maximum(np.log(np.where(p < 1, 1 - p, 1e-300)), -100)
    np.testing.assert_allclose(loss.numpy(), -w * (y * logs + (1 - y) * logs1m))
    loss.sum().backward()
    # PyTorch's gradient: w * (p - y) / max(p * (1 - p), 1e-12): finite at 0 and 1
    expected = w * (p - y) / np.maximum(p * (1 - p), 1e-12)
    np.testing.assert_allclose(probs.grad.numpy(), expected, rtol=1e-12)
    mean = F.binary_cross_entropy(_t(p, device), _t(y, device)).item()
    assert mean == pytest.approx((-(y * logs + (1 - y) * logs1m)).mean())


# ---- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: F.conv2d(tg.ones(1, 3, 5, 5), tg.ones(4, 3, 3, 3), groups=2), ValueError,
         r"conv2d: in_channels 3 and out_channels 4 must both be divisible by groups=2"),
        (lambda: F.conv2d(tg.ones(1, 4, 5, 5), tg.ones(4, 4, 3, 3), groups=2), ValueError,
         r"conv2d: x has 4 channels but weight expects 4 \* groups=2 = 8"),
        (lambda: F.conv2d(tg.ones(1, 2, 5, 5), tg.ones(4, 2, 3, 3), tg.ones(3)), ValueError,
         r"conv2d: bias must have shape \(4,\)"),
        (lambda: F.conv2d(tg.ones(1, 2, 5, 5), tg.ones(4, 2, 3, 3), stride=2, padding="same"),
         ValueError, "padding='same' is not supported for strided convolutions"),
        (lambda: F.conv2d(tg.ones(1, 2, 5, 5), tg.ones(4, 2, 3, 3), padding="full"), ValueError,
         "padding must be 'same', 'valid' or ints"),
        (lambda: F.conv2d(tg.ones(1, 2, 2, 2), tg.ones(4, 2, 3, 3), dilation=2), ValueError,
         r"does not fit an image of size \(2, 2\)"),
        (lambda: F.conv1d(tg.ones(1, 2, 5, 5), tg.ones(4, 2, 3)), ValueError,
         r"conv1d: expected x \(N, C, L\)"),
        (lambda: F.conv_transpose2d(tg.ones(1, 3, 4, 4), tg.ones(2, 3, 3, 3)), ValueError,
         r"conv_transpose2d: x has 3 channels but weight has 2"),
        (lambda: F.conv_transpose2d(tg.ones(1, 2, 4, 4), tg.ones(2, 3, 3, 3), stride=2,
                                    output_padding=2), ValueError,
         "output_padding .* must be smaller than stride"),
        (lambda: F.max_pool2d(tg.ones(1, 1, 4, 4), 2, padding=2), ValueError,
         "at most half of kernel_size"),
        (lambda: F.interpolate(tg.ones(1, 1, 4, 4), size=3, scale_factor=2), ValueError,
         "exactly one of size and scale_factor"),
        (lambda: F.interpolate(tg.ones(1, 1, 4, 4), size=(3,)), ValueError,
         r"size must be one positive int or 2 of them for input \(1, 1, 4, 4\)"),
        (lambda: F.interpolate(tg.ones(1, 1, 4), size=3, mode="bilinear"), ValueError,
         "'bilinear' expects"),
        (lambda: F.interpolate(tg.ones(1, 1, 4, 4), size=3, mode="bicubic"), ValueError,
         "mode must be"),
        (lambda: F.interpolate(tg.ones(1, 1, 4, 4), size=3, align_corners=True), ValueError,
         "align_corners only works with mode 'bilinear'"),
        (lambda: F.nll_loss(tg.ones(3, 4), np.array([0, 1])), ValueError,
         r"nll_loss: expected .* got input \(3, 4\) and target \(2,\)"),
        (lambda: tg.cross_entropy(tg.ones(2, 4, 3), np.array([0, 1])), ValueError,
         r"got input \(2, 4, 3\) and target \(2,\)"),
        (lambda: F.nll_loss(tg.ones(2, 4), np.array([0, 4])), IndexError,
         r"target values must lie in \[0, 4\)"),
        (lambda: tg.cross_entropy(tg.ones(2, 4), np.array([0, 1]), [1.0, 2.0]), ValueError,
         r"weight must have shape \(4,\)"),
        (lambda: F.binary_cross_entropy(tg.ones(3) * 1.5, tg.ones(3)), ValueError,
         r"must lie in \[0, 1\]"),
        (lambda: F.binary_cross_entropy(tg.ones(3) * 0.5, tg.ones(2)), ValueError,
         r"input \(3,\) and target \(2,\) differ in shape"),
    ],
)  # fmt: skip
def test_errors_name_the_op_and_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- layers -------------------------------------------------------------------------


def test_layers_have_pytorchs_parameter_shapes_and_call_the_functions():
    conv = nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2)
    assert conv.weight.shape == (6, 2, 3, 3) and conv(tg.ones(1, 4, 5, 5)).shape == (1, 6, 5, 5)
    conv1 = nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2)
    assert [(k, v.shape) for k, v in conv1.state_dict().items()] == [
        ("weight", (6, 2, 3)),
        ("bias", (6,)),
    ]
    assert conv1(tg.ones(2, 4, 9)).shape == (2, 6, 5)
    up = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
    assert up.weight.shape == (4, 3, 3, 3) and up(tg.ones(1, 4, 5, 5)).shape == (1, 6, 10, 10)
    pooled = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)(tg.ones(1, 1, 6, 6))
    np.testing.assert_allclose(pooled.numpy(), 1.0)  # the padding is not counted
    assert nn.MaxPool2d(2, ceil_mode=True)(tg.ones(1, 1, 5, 5)).shape == (1, 1, 3, 3)
    assert nn.Upsample(scale_factor=2, mode="bilinear")(tg.ones(1, 1, 2, 3)).shape == (1, 1, 4, 6)
    with pytest.raises(ValueError, match="Conv2d: in_channels 3 and out_channels 4"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv1d: padding='same' is not supported for strided"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(NotImplementedError, match="padding_mode='zeros'"):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")
    # PyTorch's fifth argument is return_indices, which is refused rather than misread
    with pytest.raises(NotImplementedError, match="return_indices"):
        nn.MaxPool2d(2, 2, 0, 1, True)


def test_loss_modules_pass_their_options():
    logits = tg.Tensor(RNG.standard_normal((4, 3)))
    target = np.array([0, 2, 1, 2])
    weight = np.array([1.0, 2.0, 0.5])
    loss = nn.CrossEntropyLoss(weight=weight, ignore_index=1, label_smoothing=0.1)
    assert list(loss.state_dict()) == ["weight"]  # a buffer, as PyTorch's
    expected = cross_entropy_reference(logits.numpy(), target, weight, 1, "mean", 0.1)
    assert loss(logits, target).item() == pytest.approx(expected)
    nll = nn.NLLLoss(weight=weight, reduction="sum")(logits.log_softmax(1), target)
    assert nll.item() == pytest.approx(cross_entropy_reference(logits.numpy(), target, weight,
                                                               -100, "sum", 0.0))  # fmt: skip
    probs = logits.sigmoid()
    y = (RNG.random((4, 3)) > 0.5).astype(np.float64)
    bce = nn.BCELoss(reduction="none")(probs, y).numpy()
    p = probs.numpy()
    np.testing.assert_allclose(bce, -(y * np.log(p) + (1 - y) * np.log(1 - p)))
    # the old positional form nn.CrossEntropyLoss("sum") still means reduction="sum"
    assert nn.CrossEntropyLoss("sum")(logits, target).item() == pytest.approx(
        cross_entropy_reference(logits.numpy(), target, None, -100, "sum", 0.0)
    )


def test_every_target_ignored_gives_nan_but_zero_gradients():
    logits = tg.Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    loss = tg.cross_entropy(logits, [1, 1], ignore_index=1, label_smoothing=0.1)
    assert np.isnan(loss.item())  # 0 / 0, as PyTorch
    loss.backward()
    np.testing.assert_array_equal(logits.grad.numpy(), np.zeros((2, 3)))


def test_binary_cross_entropy_refuses_a_weight_that_widens_the_loss(device):
    p = tg.Tensor(np.full((4, 3), 0.5), device=device, requires_grad=True)
    y = tg.Tensor(np.ones((4, 3)), device=device)
    with pytest.raises(ValueError, match=r"weight \(2, 4, 3\) does not broadcast to input"):
        tg.binary_cross_entropy(p, y, weight=tg.Tensor(np.ones((2, 4, 3)), device=device))
    tg.binary_cross_entropy(p, y, weight=tg.Tensor(np.ones(3), device=device)).backward()
    assert p.grad.shape == (4, 3)


def test_ceil_mode_pools_a_window_hanging_off_a_small_image(device):
    x = tg.Tensor(np.arange(4.0).reshape(1, 1, 2, 2), device=device)
    out = F.max_pool2d(x, 3, ceil_mode=True)  # no whole window fits; PyTorch makes one
    assert out.shape == (1, 1, 1, 1) and out.item() == 3.0
    assert F.avg_pool2d(x, 3, ceil_mode=True).item() == pytest.approx(1.5)
    with pytest.raises(ValueError):
        F.max_pool2d(x, 3)  # without ceil_mode nothing fits


def test_bilinear_copies_an_axis_whose_size_stays(device):
    rows = np.array([1.0, 5.0, -2.0])
    x = tg.Tensor(np.repeat(rows[:, None], 4, axis=1)[None, None], device=device)
    out = F.interpolate(x, scale_factor=1.3, mode="bilinear").numpy()  # 3 -> 3, 4 -> 5
    assert out.shape == (1, 1, 3, 5)
    np.testing.assert_allclose(out[0, 0], np.repeat(rows[:, None], 5, axis=1), rtol=1e-12)


def test_conv1d_layer_checks_its_arguments_as_the_function_does():
    with pytest.raises(ValueError, match="groups must be a positive int"):
        nn.Conv1d(2, 4, 3, groups=True)
    with pytest.raises(ValueError, match="kernel_size must be an int or a 1-tuple"):
        nn.Conv1d(2, 4, (3, 5))
    with pytest.raises(ValueError, match="divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
