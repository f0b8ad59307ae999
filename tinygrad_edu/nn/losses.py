"""Loss modules `MSELoss`, `CrossEntropyLoss`, `NLLLoss`, `BCELoss`, `BCEWithLogitsLoss`.

Each holds `reduction` ("mean", "sum" or "none") and its options (a class `weight`,
kept as a buffer as PyTorch does, `ignore_index`, `label_smoothing`) and calls the
function of the same name in nn/functional.py:
`loss_fn = nn.CrossEntropyLoss(); loss_fn(logits, y)`.
"""

from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(
                f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', "
                f"got {reduction!r}"
            )
        self.reduction = reduction


class MSELoss(_Loss):
    """(input - target)**2, averaged (or summed) over every element."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class _WeightedLoss(_Loss):
    """A loss with an optional constant `weight` (a buffer: saved and moved, not trained).
    The other options are keyword-only: PyTorch's deprecated size_average and reduce sit
    between them, so a positional call could silently mean something else."""

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(weight)
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """-log softmax(logits)[target]: logits (N, C) (or (N, C, d1, ...)), target (N,) (or
    (N, d1, ...)) integer classes; weight (one per class), ignore_index and
    label_smoothing as F.cross_entropy."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        if isinstance(weight, str):  # the first positional argument used to be `reduction`
            weight, reduction = None, weight
        super().__init__(weight, reduction=reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """-weight[target] * log_probs[target] for log-probabilities (N, C) (a LogSoftmax
    output) and integer targets (N,); ignore_index as F.nll_loss."""

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction=reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(
            input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction
        )


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] against 0/1 (or soft) targets, logs
    clamped at -100 as PyTorch; weight rescales each element (it broadcasts)."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits) against 0/1 (or soft) targets, computed
    from the logits so it never overflows."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
