"""Every registry op's gradient against finite differences: first and second order.

One parametrized property test per order covers all of `tg.ops.REGISTRY` over random
shapes (broadcasting sets, size-1 axes, 0-d), axes and values, on every device.
"""

import numpy
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import op_inputs, second_order

import tinygrad_edu as tg

OPS = tg.ops.REGISTRY


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_gradient_matches_finite_differences(op, device):
    @given(st.data())
    def check(data):
        tensors, params = data.draw(op_inputs(op, device))
        assert tg.gradcheck(lambda *xs: op.call(*xs, **params), tensors, **op.tolerance)

    check()


@pytest.mark.parametrize("op", [op for op in OPS if op.second_order], ids=lambda op: op.name)
def test_second_derivative_matches_finite_differences(op, device):
    @given(st.data())
    def check(data):
        tensors, params = data.draw(op_inputs(op, device))
        assert tg.gradcheck(second_order(op.call, tensors, params), tensors, **op.tolerance)

    check()


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_forward_keeps_inputs_and_float32(op, device):
    """Ops never change their inputs, and float32 inputs give float32 outputs."""

    @given(st.data())
    def check(data):
        tensors, params = data.draw(op_inputs(op, device))
        small = [
            tg.Tensor(t.numpy().astype(numpy.float32), requires_grad=True, device=device)
            for t in tensors
        ]
        before = [t.numpy().copy() for t in small]
        out = op.call(*small, **params)
        assert out.dtype == numpy.float32, f"{op.name} returned {out.dtype} for float32 inputs"
        for t, b in zip(small, before):
            numpy.testing.assert_array_equal(t.numpy(), b)
        out.backward(tg.ones_like(out))
        for t in small:
            assert t.grad is None or (t.grad.shape == t.shape and t.grad.dtype == numpy.float32)

    check()
