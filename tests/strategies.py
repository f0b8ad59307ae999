"""The Hypothesis strategies our tests use: the public ones from `tinygrad_edu.testing`."""

from tinygrad_edu.testing import (  # noqa: F401
    axes,
    broadcastable_shapes,
    op_inputs,
    second_order,
    shapes,
    values,
)
