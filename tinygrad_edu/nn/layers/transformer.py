"""`MultiheadAttention` and `TransformerEncoderLayer`, as PyTorch's (same arguments,
parameter names, initialisation and numbers, so a state_dict moves between the two).

Both are written with tinygrad_edu.nn.functional's `scaled_dot_product_attention` (its
helper `_attention`, which also returns the weights), `linear`, `layer_norm` and
`dropout`; they add no op of their own.  docs/attention.md explains attention's backward.
"""

from ... import creation
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..module import Module, Parameter
from .dropout import Dropout
from .linear import Linear
from .normalization import LayerNorm


def _float_mask(mask, name, device, dtype):
    """A PyTorch-style mask (bool: True = NOT allowed; float: added) as a float Tensor."""
    if not isinstance(mask, Tensor):
        mask = Tensor(mask, device=device)
    if mask.dtype == bool:
        xp = mask.xp
        blocked = xp.where(mask.data, xp.asarray(float("-inf"), dtype=dtype), 0.0)
        return Tensor._wrap(blocked.astype(dtype), mask.device)
    if mask.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: {name} must be bool or float, got {mask.dtype}")
    return mask if mask.dtype == dtype else mask.astype(dtype)


class MultiheadAttention(Module):
    """Attention with num_heads heads: each head attends with its own slice of the
    projected query, key and value; the heads' outputs are joined and projected again.

    MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None, dtype=None)

    Parameters (PyTorch's names): in_proj_weight (3*embed_dim, embed_dim) holding the
    query, key and value projections stacked (xavier_uniform_), or q_proj_weight,
    k_proj_weight, v_proj_weight when kdim/vdim differ from embed_dim; in_proj_bias
    (3*embed_dim,) zeros; out_proj, a Linear(embed_dim, embed_dim) with zero bias.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output, weights or None).
    query (L, N, E) (or (N, L, E) with batch_first, or (L, E) unbatched), key and value
    (S, N, kdim/vdim).  Masks follow PyTorch's convention for this module, which is the
    opposite of scaled_dot_product_attention's: a boolean True means "may NOT attend".
    key_padding_mask (N, S); attn_mask (L, S) or (N * num_heads, L, S); float masks are
    added to the scores.  is_causal is only a hint that attn_mask is causal (PyTorch
    requires attn_mask with it).  weights: (N, L, S) averaged over heads, or
    (N, num_heads, L, S); after dropout, as PyTorch.  A query whose keys are all masked
    gets zeros (PyTorch's need_weights path gives NaN there).
    """

    def __init__(
        self,
        embed_dim,
        num_heads,
        dropout=0.0,
        bias=True,
        add_bias_kv=False,
        add_zero_attn=False,
        kdim=None,
        vdim=None,
        batch_first=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of "
                f"num_heads ({num_heads})"
            )
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv and add_zero_attn are not supported"
            )
        self.embed_dim = embed_dim
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads

        def weight(columns):
            return Parameter(creation.zeros((embed_dim, columns), device=device, dtype=dtype))

        if self._qkv_same_embed_dim:
            shape = (3 * embed_dim, embed_dim)
            self.in_proj_weight = Parameter(creation.zeros(shape, device=device, dtype=dtype))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = weight(embed_dim)
            self.k_proj_weight = weight(self.kdim)
            self.v_proj_weight = weight(self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            zeros = creation.zeros(3 * embed_dim, device=device, dtype=dtype)
            self.in_proj_bias = Parameter(zeros)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _projections(self):
        """The (weight, bias) of the query, key and value projections."""
        e = self.embed_dim
        bias = self.in_proj_bias
        biases = (None, None, None) if bias is None else (bias[:e], bias[e : 2 * e], bias[2 * e :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            weights = (w[:e], w[e : 2 * e], w[2 * e :])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        return tuple(zip(weights, biases))

    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights=True,
        attn_mask=None,
        average_attn_weights=True,
        is_causal=False,
    ):
        batched = query.ndim == 3
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(
                f"MultiheadAttention: expected query, key and value all (L, N, E) (or (L, E) "
                f"unbatched), got {query.shape}, {key.shape}, {value.shape}"
            )
        if is_causal and attn_mask is None:
            raise ValueError(
                "MultiheadAttention: is_causal=True is a hint that attn_mask is causal; "
                "give the causal attn_mask too (as PyTorch)"
            )
        if not batched:  # one sequence: a batch of one
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = _as_mask(key_padding_mask, query).reshape(1, -1)
        if self.batch_first and batched:
            batch_axis = 0
        else:
            batch_axis = 1
        # work in (N, L, E)
        if batch_axis == 1:
            query, key, value = (t.swapaxes(0, 1) for t in (query, key, value))
        n, length, e = query.shape
        source = key.shape[1]
        if e != self.embed_dim or key.shape[-1] != self.kdim or value.shape[-1] != self.vdim:
            raise ValueError(
                f"MultiheadAttention(embed_dim={self.embed_dim}, kdim={self.kdim}, "
                f"vdim={self.vdim}) got query {query.shape}, key {key.shape}, value {value.shape}"
            )
        if key.shape[:2] != value.shape[:2] or key.shape[0] != n:
            raise ValueError(
                f"MultiheadAttention: key and value need the same batch and length, and the "
                f"query's batch; got query {query.shape}, key {key.shape}, value {value.shape}"
            )
        h, d = self.num_heads, self.head_dim
        (wq, bq), (wk, bk), (wv, bv) = self._projections()
        # (N, L, E) -> (N, H, L, head_dim): head i owns columns i*d .. (i+1)*d
        q = F.linear(query, wq, bq).reshape(n, length, h, d).swapaxes(1, 2)
        k = F.linear(key, wk, bk).reshape(n, source, h, d).swapaxes(1, 2)
        v = F.linear(value, wv, bv).reshape(n, source, h, d).swapaxes(1, 2)
        mask = self._merged_mask(attn_mask, key_padding_mask, n, length, source, q)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = F._attention(q, k, v, mask, dropout_p, False, None)
        out = out.swapaxes(1, 2).reshape(n, length, e)
        out = self.out_proj(out)
        if not (self.batch_first and batched):
            out = out.swapaxes(0, 1)
        if not batched:
            out = out.reshape(length, e)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        if not batched:
            weights = weights.reshape(weights.shape[1:])
        return out, weights

    def _merged_mask(self, attn_mask, key_padding_mask, n, length, source, like):
        """attn_mask and key_padding_mask as one float Tensor broadcasting to
        (N, H, L, S), or None."""
        merged = None
        if attn_mask is not None:
            mask = _float_mask(attn_mask, "attn_mask", like.device, like.dtype)
            if mask.shape == (length, source):
                merged = mask
            elif mask.shape == (n * self.num_heads, length, source):
                merged = mask.reshape(n, self.num_heads, length, source)
            else:
                raise ValueError(
                    f"MultiheadAttention: attn_mask must be (L, S) = {(length, source)} or "
                    f"(N * num_heads, L, S) = {(n * self.num_heads, length, source)}, "
                    f"got {mask.shape}"
                )
        if key_padding_mask is not None:
            pad = _float_mask(key_padding_mask, "key_padding_mask", like.device, like.dtype)
            if pad.shape != (n, source):
                raise ValueError(
                    f"MultiheadAttention: key_padding_mask must be (N, S) = {(n, source)}, "
                    f"got {pad.shape}"
                )
            pad = pad.reshape(n, 1, 1, source)
            merged = pad if merged is None else merged + pad
        return merged

    def extra_repr(self):
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"batch_first={self.batch_first}"
        )


def _as_mask(mask, like):
    return mask if isinstance(mask, Tensor) else Tensor(mask, device=like.device)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward network, each wrapped in a residual connection
    and a LayerNorm, as PyTorch's layer of that name (same submodule names).

    TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1,
    activation="relu", layer_norm_eps=1e-5, batch_first=False, norm_first=False,
    bias=True, device=None, dtype=None); activation is "relu", "gelu" or a callable.

    norm_first=False (post-norm): x = norm1(x + sa(x)); x = norm2(x + ff(x)).
    norm_first=True (pre-norm):   x = x + sa(norm1(x)); x = x + ff(norm2(x)).
    sa(x) = dropout1(self_attn(x, x, x)[0]); ff(x) = dropout2(linear2(dropout(act(linear1(x))))).
    forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False), masks as in
    MultiheadAttention.
    """

    def __init__(
        self,
        d_model,
        nhead,
        dim_feedforward=2048,
        dropout=0.1,
        activation="relu",
        layer_norm_eps=1e-5,
        batch_first=False,
        norm_first=False,
        bias=True,
        device=None,
        dtype=None,
    ):
        super().__init__()
        where_ = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **where_
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **where_)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **where_)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **where_)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **where_)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if activation == "relu":
            activation = F.relu
        elif activation == "gelu":
            activation = F.gelu
        elif not callable(activation):
            raise ValueError(
                f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable, "
                f"got {activation!r}"
            )
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)
