"""Normalisation layers: `BatchNorm1d`, `BatchNorm2d` and `LayerNorm`.

BatchNorm normalises each channel over the batch; it keeps running estimates of the
mean and variance (buffers, saved in state_dict) that replace the batch statistics in
eval mode.  LayerNorm normalises each sample over its last axes and keeps no state.
"""

import numpy

from ... import creation
from ...autograd import no_grad
from .. import functional as F
from .. import init
from ..module import Module, Parameter


class _BatchNorm(Module):
    """Shared by BatchNorm1d and BatchNorm2d; they differ only in the input shapes.

    Parameters weight (ones) and bias (zeros) of shape (num_features,) when affine.
    Buffers when track_running_stats: running_mean (zeros), running_var (ones) and
    num_batches_tracked (an int64 count), the names and order PyTorch saves.
    Training: normalise with the batch's mean and (biased) variance and update
    running = (1 - momentum) * running + momentum * batch (unbiased variance);
    momentum=None uses the plain average of all batches so far.
    """

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(creation.ones(num_features, device=device, dtype=dtype))
            self.bias = Parameter(creation.zeros(num_features, device=device, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            mean = creation.zeros(num_features, device=device, dtype=dtype)
            var = creation.ones(num_features, device=device, dtype=dtype)
            count = creation.zeros((), device=device, dtype=numpy.int64)
            self.register_buffer("running_mean", mean)
            self.register_buffer("running_var", var)
            self.register_buffer("num_batches_tracked", count)
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input_dim(self, x):
        raise NotImplementedError

    def forward(self, x):
        self._check_input_dim(x)
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) got {x.shape[1]} channels "
                f"(axis 1 of input shape {x.shape})"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked += 1
            if self.momentum is None:  # a cumulative average: weight 1/n for batch n
                momentum = 1.0 / self.num_batches_tracked.item()
        # Batch statistics while training, and also in eval mode when no running
        # estimates are kept (there is nothing else to normalise with).
        use_batch_stats = self.training or self.running_mean is None
        # Hand over the running estimates to be read (eval) or updated (training while
        # tracking); training without tracking leaves them alone.
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            training=use_batch_stats,
            momentum=momentum,
            eps=self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C."""

    def _check_input_dim(self, x):
        if x.ndim not in (2, 3):
            raise ValueError(f"BatchNorm1d expects (N, C) or (N, C, L) input, got {x.shape}")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs, per channel C."""

    def _check_input_dim(self, x):
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d expects (N, C, H, W) input, got {x.shape}")


class LayerNorm(Module):
    """Normalise over the last len(normalized_shape) axes of each sample, then scale by
    weight (ones) and shift by bias (zeros), both of shape normalized_shape.

    LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
    device=None, dtype=None).  Same in training and eval; no running statistics.
    """

    def __init__(
        self,
        normalized_shape,
        eps=1e-5,
        elementwise_affine=True,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            shape = self.normalized_shape
            self.weight = Parameter(creation.ones(shape, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(creation.zeros(shape, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
