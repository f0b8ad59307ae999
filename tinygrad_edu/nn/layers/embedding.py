"""`Embedding`: a lookup table of learned vectors, one row per index."""

from ... import creation
from .. import functional as F
from .. import init
from ..module import Module, Parameter


class Embedding(Module):
    """weight: (num_embeddings, embedding_dim), drawn from N(0, 1) as in PyTorch.

    Embedding(num_embeddings, embedding_dim, device=None, dtype=None)
    Input: integer indices of any shape; output: indices.shape + (embedding_dim,).
    Gradients of repeated indices add up in the same row.
    """

    def __init__(self, num_embeddings, embedding_dim, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        shape = (num_embeddings, embedding_dim)
        self.weight = Parameter(creation.zeros(shape, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
