"""Loss modules `MSELoss`, `CrossEntropyLoss`, `BCEWithLogitsLoss`.

Each holds only `reduction` ("mean", "sum" or "none") and calls the function of the
same name in nn/functional.py: `loss_fn = nn.CrossEntropyLoss(); loss_fn(logits, y)`.
"""

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


class CrossEntropyLoss(_Loss):
    """-log softmax(logits)[target]: logits (N, C), target (N,) integer classes."""

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits) against 0/1 (or soft) targets, computed
    from the logits so it never overflows."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
