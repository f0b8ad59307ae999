"""`cnn-digits`: a small convolutional network, one minibatch SGD step on 8x8 images.

Data (no scikit-learn, no download): one minibatch of 64 "images" of shape (1, 8, 8),
pixels uniform in [0, 1), and 64 labels uniform in 0..9, from a fixed seed: the shapes
and the work per step of training on the 8x8 digits (examples/digits_cnn.py).
Model: Conv2d(1, 8, 3, padding=1) - ReLU - MaxPool2d(2) - Flatten - Linear(128, 10).
Conv weight (8, 1, 3, 3) as PyTorch's, He-normal (fan_in 9); linear weight (128, 10) in
(in, out) layout (h @ W + b), He-normal; zero biases; float32.
Loss: softmax cross-entropy averaged over the batch (`tg.cross_entropy`).
One step: forward, backward, p -= 0.01 * dp.

tinygrad_edu side: `nn.functional.conv2d` (im2col + one matrix product) and
`nn.functional.max_pool2d` (im2col of 2x2 windows + max), ops recorded one by one.
NumPy side, by hand, the same algorithm:
- im2col by kernel position: for each of the 3x3 offsets (i, j), one strided slice of
  the padded images fills column (i, j) of every patch; the convolution is then
  patches (N*8*8, 9) @ weights (9, 8).
- Max-pooling as a reshape of the (N, 8, 8, C) activations into 2x2 blocks and a max;
  its backward sends each block's gradient to the elements equal to the maximum, split
  evenly among ties (the subgradient tinygrad_edu's `max` uses).
- No gradient for the images: they do not require one, so neither side computes it
  (no col2im).  A second convolution layer would need col2im on both sides.
"""

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.nn import functional as F

from ._common import as_tg_params, he_normal, np_sgd, tg_sgd

BATCH = 64
IMAGE = 8  # images are IMAGE x IMAGE, one channel
CHANNELS = 8  # filters of the convolution
KERNEL = 3  # 3x3 filters, padding 1: the output stays 8x8
POOLED = IMAGE // 2  # 2x2 max-pooling halves each side
CLASSES = 10
LR = 0.01
DTYPE = np.float32
TARGET = 1.3  # tinygrad_edu time / NumPy time we aim for (README.md)
MEMORY_TARGET = 1.15  # tinygrad_edu peak memory / NumPy peak memory, one step (README.md)


def setup(seed):
    rng = np.random.default_rng(seed)
    images = rng.random((BATCH, 1, IMAGE, IMAGE)).astype(DTYPE)
    labels = rng.integers(0, CLASSES, BATCH)
    conv_w = he_normal(rng, KERNEL * KERNEL, CHANNELS, DTYPE).T.reshape(CHANNELS, 1, KERNEL, KERNEL)
    params = [
        np.ascontiguousarray(conv_w),
        np.zeros(CHANNELS, dtype=DTYPE),
        he_normal(rng, CHANNELS * POOLED * POOLED, CLASSES, DTYPE),
        np.zeros(CLASSES, dtype=DTYPE),
    ]
    return {
        "X": images,
        "labels": labels,
        "rows": np.arange(BATCH),
        "np_params": params,
        # A data loader hands out tensors, so the conversion is not part of the step.
        "tg_X": tg.Tensor(images),
        "tg_labels": tg.Tensor(labels),
        "tg_params": as_tg_params(params),
    }


def im2col(x):
    """(N, C, H, W) images -> (N*H*W, C*3*3) patches for a 3x3 kernel with padding 1.

    Row (n, i, j) holds the 3x3 neighbourhood of pixel (i, j) in every channel, in the
    order of the weights' (C, kh, kw) axes.  One strided slice per kernel position.
    """
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, h, w, c, KERNEL, KERNEL), dtype=x.dtype)
    for i in range(KERNEL):
        for j in range(KERNEL):
            cols[:, :, :, :, i, j] = padded[:, :, i : i + h, j : j + w].transpose(0, 2, 3, 1)
    return cols.reshape(n * h * w, c * KERNEL * KERNEL)


def numpy_step(state):
    """Forward, backward by hand, update.  Each `del` frees arrays right after backward's
    last read of them: this side is the floor for `run.py --memory` too."""
    X, labels, rows = state["X"], state["labels"], state["rows"]
    conv_w, conv_b, w, b = params = state["np_params"]
    n = X.shape[0]

    # -- forward --
    cols = im2col(X)  # (N*8*8, 9)
    z = cols @ conv_w.reshape(CHANNELS, -1).T + conv_b  # (N*8*8, C): rows are (n, i, j)
    a = np.maximum(z, 0)
    blocks = a.reshape(n, POOLED, 2, POOLED, 2, CHANNELS)  # 2x2 blocks of (n, i, j, c)
    pooled = blocks.max(axis=(2, 4))  # (N, 4, 4, C)
    flat = pooled.transpose(0, 3, 1, 2).reshape(n, -1)  # flattened as (C, 4, 4), as Flatten
    logits = flat @ w + b
    # Stable softmax cross-entropy: shifting by the row maximum keeps exp from overflowing.
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    log_probs = shifted - np.log(total)
    loss = -log_probs[rows, labels].mean()

    # -- backward --
    g = exp / total  # d loss / d logits = (softmax - one_hot) / batch
    del logits, shifted, exp, total, log_probs
    g[rows, labels] -= 1
    g /= n
    grad_w = flat.T @ g
    grad_b = g.sum(axis=0)
    del flat
    g = (g @ w.T).reshape(n, CHANNELS, POOLED, POOLED).transpose(0, 2, 3, 1)  # (N, 4, 4, C)
    # Max-pool: the gradient goes to the maxima of each block, split among ties.
    hit = blocks == pooled[:, :, None, :, None, :]
    del a, blocks, pooled
    share = g / hit.sum(axis=(2, 4), dtype=g.dtype)  # a float count keeps float32
    g = (hit * share[:, :, None, :, None, :]).reshape(n * IMAGE * IMAGE, CHANNELS)
    del hit, share
    g = g * (z > 0)  # ReLU's derivative
    del z
    grad_conv_w = (g.T @ cols).reshape(conv_w.shape)
    grad_conv_b = g.sum(axis=0)
    del cols, g
    grads = [grad_conv_w, grad_conv_b, grad_w, grad_b]
    np_sgd(params, grads, LR)
    return loss, grads


def tg_step(state):
    params = state["tg_params"]
    conv_w, conv_b, w, b = params
    h = F.conv2d(state["tg_X"], conv_w, conv_b, padding=1).relu()
    h = F.max_pool2d(h, 2)
    logits = h.flatten(1) @ w + b
    loss = tg.cross_entropy(logits, state["tg_labels"])
    loss.backward()
    grads = tg_sgd(params, LR)
    return loss.data, grads
