"""F.scaled_dot_product_attention against a NumPy reference written here.

The reference computes the forward pass and, separately, the backward pass by the
textbook formulas (docs/attention.md): P = softmax(S), dV = P^T g, dP = g V^T,
dS = P * (dP - rowsum(dP * P)), dQ = dS K * scale, dK = dS^T Q * scale.  Gradients of
the library come from its autograd engine, so the two are computed independently.
(First and second order finite-difference checks run from the registry entry in
tests/test_ops_gradcheck.py.)
"""

import math

import numpy
import pytest

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F

RNG = numpy.random.default_rng(7)


def reference(q, k, v, g, keep=None, add=None, scale=None):
    """Output and (dq, dk, dv) of attention in NumPy, one (L, S) matrix per leading index.

    keep: boolean (True = take part), add: float added to the scores.  A row with no key
    taking part gives zeros and zero gradients (what PyTorch does)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    k = numpy.broadcast_to(k, q.shape[:-2] + k.shape[-2:])
    v = numpy.broadcast_to(v, q.shape[:-2] + v.shape[-2:])
    out = numpy.zeros(q.shape[:-1] + (v.shape[-1],))
    dq, dk, dv = numpy.zeros(q.shape), numpy.zeros(k.shape), numpy.zeros(v.shape)
    length, source = q.shape[-2], k.shape[-2]
    mask_keep = numpy.ones((length, source), bool) if keep is None else keep
    mask_add = numpy.zeros((length, source)) if add is None else add
    mask_keep = numpy.broadcast_to(mask_keep, q.shape[:-2] + (length, source))
    mask_add = numpy.broadcast_to(mask_add, q.shape[:-2] + (length, source))
    for index in numpy.ndindex(*q.shape[:-2]):
        scores = q[index] @ k[index].T * scale + mask_add[index]
        scores = numpy.where(mask_keep[index], scores, -numpy.inf)
        probs = numpy.zeros_like(scores)
        for i in range(length):
            if numpy.isneginf(scores[i]).all():
                continue  # nothing to attend to: weights 0
            e = numpy.exp(scores[i] - scores[i].max())
            probs[i] = e / e.sum()
        out[index] = probs @ v[index]
        dv[index] = probs.T @ g[index]
        dprobs = g[index] @ v[index].T
        dscores = probs * (dprobs - (dprobs * probs).sum(axis=1, keepdims=True))
        dq[index] = dscores @ k[index] * scale
        dk[index] = dscores.T @ q[index] * scale
    return out, dq, dk, dv


def run(device, q, k, v, g, **kwargs):
    tensors = [tg.Tensor(a, requires_grad=True, device=device) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*tensors, **kwargs)
    out.backward(tg.Tensor(g, device=device))
    return out.numpy(), *(t.grad.numpy() for t in tensors)


def inputs(lead, length, source, dim=4, value_dim=3):
    q = RNG.standard_normal(lead + (length, dim))
    k = RNG.standard_normal(lead + (source, dim))
    v = RNG.standard_normal(lead + (source, value_dim))
    g = RNG.standard_normal(lead + (length, value_dim))
    return q, k, v, g


def check(got, expected):
    for a, b in zip(got, expected):
        assert not numpy.isnan(a).any()
        numpy.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lead", [(), (3,), (2, 2)])
def test_no_mask_matches_numpy(device, lead):
    q, k, v, g = inputs(lead, 3, 5)
    check(run(device, q, k, v, g), reference(q, k, v, g))


def test_scale_and_broadcast_batch_axes(device):
    q, _, _, g = inputs((2, 3), 4, 2)
    _, k, v, _ = inputs((3,), 4, 2)  # one key/value set per head, shared by the batch
    got = run(device, q, k, v, g, scale=0.25)
    out, dq, dk, dv = reference(q, k, v, g, scale=0.25)
    check(got, (out, dq, dk.sum(axis=0), dv.sum(axis=0)))


def test_boolean_mask_matches_numpy(device):
    q, k, v, g = inputs((2,), 4, 5)
    keep = RNG.random((2, 4, 5)) < 0.6
    keep[:, :, 0] = True
    check(run(device, q, k, v, g, attn_mask=keep), reference(q, k, v, g, keep=keep))


def test_float_mask_matches_numpy(device):
    q, k, v, g = inputs((2,), 3, 4)
    add = RNG.standard_normal((3, 4))
    add[1, 2] = -numpy.inf
    check(run(device, q, k, v, g, attn_mask=add), reference(q, k, v, g, add=add))


@pytest.mark.parametrize("length,source", [(4, 4), (3, 5), (5, 3)])
def test_causal_is_lower_triangular_from_the_top_left(device, length, source):
    q, k, v, g = inputs((2,), length, source)
    keep = numpy.array([[j <= i for j in range(source)] for i in range(length)])
    check(run(device, q, k, v, g, is_causal=True), reference(q, k, v, g, keep=keep))


def test_a_fully_masked_row_gives_zeros_and_zero_gradients_not_nan(device):
    q, k, v, g = inputs((), 3, 4)
    keep = numpy.ones((3, 4), bool)
    keep[1] = False
    out, dq, dk, dv = run(device, q, k, v, g, attn_mask=keep)
    assert (out[1] == 0).all() and (dq[1] == 0).all()
    check((out, dq, dk, dv), reference(q, k, v, g, keep=keep))
    # the same with a float mask of -inf
    add = numpy.where(keep, 0.0, -numpy.inf)
    check(run(device, q, k, v, g, attn_mask=add), reference(q, k, v, g, keep=keep))


def test_masked_scores_get_exactly_zero_gradient(device):
    q, k, v, g = inputs((), 3, 4)
    keep = numpy.ones((3, 4), bool)
    keep[:, 2] = False  # no query may look at key 2
    _, _, dk, dv = run(device, q, k, v, g, attn_mask=keep)
    assert (dk[2] == 0).all() and (dv[2] == 0).all()
    # a float mask that is a Tensor gets a gradient: exactly zero where it is -inf
    add = tg.Tensor(numpy.where(keep, 0.5, -numpy.inf), requires_grad=True, device=device)
    tensors = [tg.Tensor(a, device=device) for a in (q, k, v)]
    F.scaled_dot_product_attention(*tensors, attn_mask=add).backward(tg.Tensor(g, device=device))
    assert (add.grad.numpy()[:, 2] == 0).all()
    assert (add.grad.numpy()[:, [0, 1, 3]] != 0).all()


def test_float32_stays_float32(device):
    q, k, v, g = (a.astype(numpy.float32) for a in inputs((2,), 3, 3))
    keep = numpy.tril(numpy.ones((3, 3), bool))
    out = run(device, q, k, v, g, attn_mask=numpy.where(keep, 0.0, -numpy.inf))
    assert all(a.dtype == numpy.float32 for a in out)
    numpy.testing.assert_allclose(out[0], reference(q, k, v, g, keep=keep)[0], atol=1e-5)


def test_dropout_on_the_weights():
    q, k, v, _ = inputs((2,), 3, 4)
    tensors = [tg.Tensor(a) for a in (q, k, v)]
    assert (F.scaled_dot_product_attention(*tensors, dropout_p=1.0).numpy() == 0).all()
    tg.manual_seed(3)
    first = F.scaled_dot_product_attention(*tensors, dropout_p=0.5).numpy()
    tg.manual_seed(3)
    again = F.scaled_dot_product_attention(*tensors, dropout_p=0.5).numpy()
    numpy.testing.assert_array_equal(first, again)
    assert not numpy.allclose(first, reference(q, k, v, numpy.zeros_like(first))[0])


@pytest.mark.parametrize(
    "shapes,kwargs,message",
    [
        (((3, 4), (5, 3), (5, 2)), {}, "query"),
        (((3, 4), (5, 4), (6, 2)), {}, "value"),
        (((4,), (5, 4), (5, 2)), {}, "query must be"),
        (((3, 4), (5, 4), (5, 2)), {"attn_mask": numpy.ones((2, 5), bool)}, "attn_mask"),
        (((3, 4), (5, 4), (5, 2)), {"attn_mask": numpy.ones((3, 5), int)}, "dtype"),
        (
            ((3, 4), (5, 4), (5, 2)),
            {"attn_mask": numpy.ones((3, 5), bool), "is_causal": True},
            "not both",
        ),
        (((3, 4), (5, 4), (5, 2)), {"dropout_p": 1.5}, "dropout_p"),
    ],
)
def test_bad_input_is_named(shapes, kwargs, message):
    tensors = [tg.Tensor(numpy.zeros(s)) for s in shapes]
    with pytest.raises((ValueError, TypeError), match="scaled_dot_product_attention") as info:
        F.scaled_dot_product_attention(*tensors, **kwargs)
    assert message in str(info.value)


def test_multihead_attention_and_encoder_layer_run_on_every_device(device):
    """The layers' masks are built on the input's device (no host arrays mixed in)."""
    from tinygrad_edu import nn

    tg.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=True)
    x = RNG.standard_normal((3, 2, 8)).astype(numpy.float32)
    pad = numpy.zeros((2, 3), bool)
    pad[0, 2] = True
    causal = numpy.triu(numpy.ones((3, 3), bool), 1)  # True = may NOT attend, as PyTorch
    expected = layer(tg.Tensor(x), src_mask=causal, src_key_padding_mask=pad).numpy()
    layer.to(device)
    inputs = tg.Tensor(x, device=device, requires_grad=True)
    out = layer(inputs, src_mask=causal, src_key_padding_mask=pad)
    out.backward(tg.ones_like(out))
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert inputs.grad.dtype == numpy.float32 and not numpy.isnan(inputs.grad.numpy()).any()


def test_layer_gradients_match_finite_differences():
    """MultiheadAttention (masks, per-head weights) and TransformerEncoderLayer, with
    respect to their inputs and every parameter."""
    from test_nn_layers import check_layer_gradients

    from tinygrad_edu import nn

    pad = numpy.array([[False, False, True], [False, False, False]])
    causal = numpy.triu(numpy.ones((2, 3), bool), 1)
    mix = tg.Tensor(RNG.standard_normal((2, 2, 2, 3)))  # (N, heads, L, S)

    class Attend(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, query, key):
            out, weights = self.attn(
                query, key, key, key_padding_mask=pad, attn_mask=causal, average_attn_weights=False
            )
            # (N, L): both outputs; a plain sum of the weights would be constant (rows sum to 1)
            return out.sum(axis=-1) + (weights * mix).sum(axis=(1, 3))

    tg.manual_seed(0)
    attend = Attend().double()
    query = tg.Tensor(RNG.standard_normal((2, 2, 4)), requires_grad=True)
    key = tg.Tensor(RNG.standard_normal((2, 3, 4)), requires_grad=True)
    assert check_layer_gradients(attend, [query, key])

    layer = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, activation="gelu").double()
    x = tg.Tensor(RNG.standard_normal((3, 2, 4)), requires_grad=True)
    assert check_layer_gradients(layer, [x])
