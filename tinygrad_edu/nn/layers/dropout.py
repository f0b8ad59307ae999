"""`Dropout`: zero random elements while training, the identity in eval mode."""

from .. import functional as F
from ..module import Module


class Dropout(Module):
    """While `self.training`: zero each element with probability p and scale the rest
    by 1 / (1 - p), so the expected value is unchanged; after `model.eval()`: x.
    The mask is drawn from the seeded generator (`tg.manual_seed` repeats it)."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be between 0 and 1, got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"
