"""A trained tinygrad_edu model loads into the equivalent torch.nn model.

API.md promises that `state_dict()` uses PyTorch's parameter names and shapes and that the
layers compute PyTorch's formulas, so that docs/tutorial/07_moving_to_pytorch.md's one line

    torch_model.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in
                                 model.state_dict().items()})

works.  Checked here for Linear, Conv2d, BatchNorm2d, LSTM and Sequential models:

1. the keys, their order and shapes equal lists written by hand from PyTorch's modules
   (no torch needed);
2. with random values loaded into our model, its output equals PyTorch's formula for
   that layer written out in NumPy (float64), also without torch;
3. when torch is importable, the same values are loaded into torch.nn with the line
   above and both models' outputs (and BatchNorm's running statistics after a training
   step) are compared.  torch is not a dependency: without it, (1) and (2) still run and
   test_torch_is_absent_or_agrees checks the state_dict is ready for torch.from_numpy.

The shape and indexing ops with PyTorch's names (flip, gather, scatter, sort, pad modes,
...) are compared with torch's values and gradients on registry-drawn inputs when torch
is importable (skipped otherwise; tests/test_ops_shape.py compares them with NumPy).
"""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn

try:
    import torch
except ImportError:  # torch is optional: the tests below then compare with NumPy only
    torch = None

# ---- the models and PyTorch's keys and shapes, written by hand -----------------------

LSTM_IN, LSTM_HIDDEN = 5, 7


def cnn():
    """A small CNN for 8x8 one-channel images: every layer kind in one Sequential."""
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )


def mlp():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


# name: (our model factory, [(key, shape)] as torch.nn's state_dict lists them, input shape)
CASES = {
    "Linear": (lambda: nn.Linear(3, 4), [("weight", (4, 3)), ("bias", (4,))], (6, 3)),
    "Conv2d": (
        lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1),
        [("weight", (4, 3, 3, 3)), ("bias", (4,))],
        (2, 3, 7, 7),
    ),
    "BatchNorm2d": (
        lambda: nn.BatchNorm2d(3),
        [
            ("weight", (3,)),
            ("bias", (3,)),
            ("running_mean", (3,)),
            ("running_var", (3,)),
            ("num_batches_tracked", ()),
        ],
        (4, 3, 5, 5),
    ),
    "LSTM": (
        lambda: nn.LSTM(LSTM_IN, LSTM_HIDDEN, num_layers=2),
        [
            ("weight_ih_l0", (4 * LSTM_HIDDEN, LSTM_IN)),
            ("weight_hh_l0", (4 * LSTM_HIDDEN, LSTM_HIDDEN)),
            ("bias_ih_l0", (4 * LSTM_HIDDEN,)),
            ("bias_hh_l0", (4 * LSTM_HIDDEN,)),
            ("weight_ih_l1", (4 * LSTM_HIDDEN, LSTM_HIDDEN)),
            ("weight_hh_l1", (4 * LSTM_HIDDEN, LSTM_HIDDEN)),
            ("bias_ih_l1", (4 * LSTM_HIDDEN,)),
            ("bias_hh_l1", (4 * LSTM_HIDDEN,)),
        ],
        (6, 2, LSTM_IN),  # (time, batch, features): PyTorch's default layout
    ),
    "Sequential": (
        mlp,
        [("0.weight", (8, 4)), ("0.bias", (8,)), ("2.weight", (3, 8)), ("2.bias", (3,))],
        (5, 4),
    ),
    "Sequential CNN": (
        cnn,
        [
            ("0.weight", (4, 1, 3, 3)),
            ("0.bias", (4,)),
            ("1.weight", (4,)),
            ("1.bias", (4,)),
            ("1.running_mean", (4,)),
            ("1.running_var", (4,)),
            ("1.num_batches_tracked", ()),
            ("5.weight", (10, 64)),
            ("5.bias", (10,)),
        ],
        (3, 1, 8, 8),
    ),
}


def torch_model(name):
    """The torch.nn twin of CASES[name]'s model (only called when torch is importable)."""
    tnn = torch.nn
    if name == "Linear":
        return tnn.Linear(3, 4)
    if name == "Conv2d":
        return tnn.Conv2d(3, 4, 3, stride=2, padding=1)
    if name == "BatchNorm2d":
        return tnn.BatchNorm2d(3)
    if name == "LSTM":
        return tnn.LSTM(LSTM_IN, LSTM_HIDDEN, num_layers=2)
    if name == "Sequential":
        return tnn.Sequential(tnn.Linear(4, 8), tnn.ReLU(), tnn.Linear(8, 3))
    return tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1),
        tnn.BatchNorm2d(4),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(4 * 4 * 4, 10),
    )


def random_state(model, seed=0):
    """Random values for every entry of model.state_dict() (positive variances)."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            state[key] = np.array(3, dtype=np.int64)
        elif key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 2.0, value.shape).astype(np.float32)
        else:
            state[key] = (0.5 * rng.standard_normal(value.shape)).astype(np.float32)
    return state


def loaded_model(name, seed=0):
    model = CASES[name][0]()
    model.load_state_dict(random_state(model, seed))
    model.eval()  # BatchNorm normalises with its (loaded) running statistics
    return model


def make_input(name, seed=1):
    shape = CASES[name][2]
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ---- PyTorch's formulas, written out in NumPy (float64) ------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def linear_ref(x, weight, bias):
    return x @ weight.T + bias  # y = x A^T + b


def conv2d_ref(x, weight, bias, stride=1, padding=0):
    """Cross-correlation, as torch.nn.Conv2d: out[n, o, i, j] = b[o] + sum over c, k, l of
    w[o, c, k, l] * x_padded[n, c, i*stride + k, j*stride + l]."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_channels, _, kh, kw = weight.shape
    out_h = (x.shape[2] - kh) // stride + 1
    out_w = (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_channels, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.einsum("nckl,ockl->no", patch, weight)
    return out + bias[None, :, None, None]


def batch_norm_eval_ref(x, state, prefix="", eps=1e-5):
    def column(key):
        return state[prefix + key][None, :, None, None]

    normalised = (x - column("running_mean")) / np.sqrt(column("running_var") + eps)
    return normalised * column("weight") + column("bias")


def lstm_ref(x, state, num_layers, hidden):
    """PyTorch's LSTM equations, gates stacked i, f, g, o; zero initial state."""
    h_n, c_n = [], []
    for layer in range(num_layers):
        w_ih, w_hh = state[f"weight_ih_l{layer}"], state[f"weight_hh_l{layer}"]
        b_ih, b_hh = state[f"bias_ih_l{layer}"], state[f"bias_hh_l{layer}"]
        h = np.zeros((x.shape[1], hidden))
        c = np.zeros((x.shape[1], hidden))
        outputs = []
        for t in range(x.shape[0]):
            gates = x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            i, f, g, o = np.split(gates, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            outputs.append(h)
        x = np.stack(outputs)
        h_n.append(h)
        c_n.append(c)
    return x, np.stack(h_n), np.stack(c_n)


def reference(name, state, x):
    """PyTorch's output for CASES[name] with `state` loaded, in eval mode: a tuple."""
    state = {key: np.asarray(value, dtype=np.float64) for key, value in state.items()}
    x = x.astype(np.float64)
    if name == "Linear":
        return (linear_ref(x, state["weight"], state["bias"]),)
    if name == "Conv2d":
        return (conv2d_ref(x, state["weight"], state["bias"], stride=2, padding=1),)
    if name == "BatchNorm2d":
        return (batch_norm_eval_ref(x, state),)
    if name == "LSTM":
        return lstm_ref(x, state, 2, LSTM_HIDDEN)
    if name == "Sequential":
        hidden = np.maximum(linear_ref(x, state["0.weight"], state["0.bias"]), 0.0)
        return (linear_ref(hidden, state["2.weight"], state["2.bias"]),)
    h = conv2d_ref(x, state["0.weight"], state["0.bias"], padding=1)
    h = np.maximum(batch_norm_eval_ref(h, state, prefix="1."), 0.0)
    n, c, height, width = h.shape
    h = h.reshape(n, c, height // 2, 2, width // 2, 2).max(axis=(3, 5))  # MaxPool2d(2)
    return (linear_ref(h.reshape(n, -1), state["5.weight"], state["5.bias"]),)


def our_outputs(model, x):
    """The model's outputs as a tuple of NumPy arrays (LSTM: output, h_n, c_n)."""
    with tg.no_grad():
        out = model(tg.Tensor(x))
    if isinstance(out, tuple):  # LSTM: (output, (h_n, c_n))
        output, (h_n, c_n) = out
        return output.numpy(), h_n.numpy(), c_n.numpy()
    return (out.numpy(),)


def torch_outputs(module, x):
    with torch.no_grad():
        out = module(torch.from_numpy(x))
    if isinstance(out, tuple):
        output, (h_n, c_n) = out
        return output.numpy(), h_n.numpy(), c_n.numpy()
    return (out.numpy(),)


# ---- the tests ---------------------------------------------------------------------

NAMES = list(CASES)


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_keys_and_shapes_are_pytorchs(name):
    make, torch_keys, _ = CASES[name]
    ours = [(key, tuple(value.shape)) for key, value in make().state_dict().items()]
    assert ours == torch_keys  # same names, same order, same shapes


@pytest.mark.parametrize("name", NAMES)
def test_outputs_follow_pytorchs_formulas(name):
    model = loaded_model(name)
    x = make_input(name)
    state = {key: value.numpy() for key, value in model.state_dict().items()}
    expected = reference(name, state, x)
    got = our_outputs(model, x)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_torch_is_absent_or_agrees(name):
    model = loaded_model(name)
    x = make_input(name)
    if torch is None:
        # What the conversion line needs: host NumPy arrays of torch-compatible dtypes,
        # writable (torch.from_numpy warns on read-only arrays) and of PyTorch's shapes.
        for (key, value), (torch_key, shape) in zip(model.state_dict().items(), CASES[name][1]):
            array = value.numpy()
            assert key == torch_key
            assert isinstance(array, np.ndarray) and array.shape == shape
            assert array.dtype in (np.float32, np.int64)
            assert array.flags.writeable
        return
    module = torch_model(name)
    module.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    module.eval()
    for g, t in zip(our_outputs(model, x), torch_outputs(module, x)):
        np.testing.assert_allclose(g, t, rtol=1e-4, atol=1e-5)


def test_batch_norm_training_step_updates_running_stats_as_pytorch():
    model = loaded_model("BatchNorm2d")
    state = {key: value.numpy().copy() for key, value in model.state_dict().items()}
    x = make_input("BatchNorm2d")
    model.train()
    with tg.no_grad():
        out = model(tg.Tensor(x)).numpy()
    # PyTorch: normalise with the batch's biased variance; update the running variance
    # with the unbiased one, running = 0.9 * running + 0.1 * batch; count the batch.
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=(0, 2, 3))
    var = x64.var(axis=(0, 2, 3))
    count = x.size // x.shape[1]
    normalised = (x64 - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    expected = (
        normalised * state["weight"][None, :, None, None] + state["bias"][None, :, None, None]
    )
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)
    after = model.state_dict()
    np.testing.assert_allclose(
        after["running_mean"].numpy(), 0.9 * state["running_mean"] + 0.1 * mean, rtol=1e-5
    )
    np.testing.assert_allclose(
        after["running_var"].numpy(),
        0.9 * state["running_var"] + 0.1 * var * count / (count - 1),
        rtol=1e-5,
    )
    assert int(after["num_batches_tracked"].item()) == int(state["num_batches_tracked"]) + 1
    if torch is not None:
        module = torch_model("BatchNorm2d")
        module.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
        module.train()
        with torch.no_grad():
            torch_out = module(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(out, torch_out, rtol=1e-4, atol=1e-5)
        for key, value in module.state_dict().items():
            np.testing.assert_allclose(after[key].numpy(), value.numpy(), rtol=1e-5)


# ---- functions against torch.nn.functional (values and gradients), when torch is here ----

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
RNG = np.random.default_rng(7)


def _both(arrays):
    """The same float64 arrays as tinygrad_edu and torch leaves that require grad."""
    ours = [tg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _compare(ours_fn, torch_fn, arrays):
    """Outputs, and gradients under one random upstream gradient, agree."""
    ours, theirs = _both(arrays)
    out, ref = ours_fn(*ours), torch_fn(*theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-10)
    upstream = RNG.standard_normal(ref.shape)
    out.backward(tg.Tensor(upstream))
    ref.backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8, atol=1e-9)


CONV_CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=2, groups=2),
    dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=4),
    dict(stride=1, padding="same", dilation=2, groups=2),
    dict(stride=1, padding="valid", dilation=1, groups=1),
]


@needs_torch
@pytest.mark.parametrize("options", CONV_CASES)
def test_conv2d_agrees_with_torch(options):
    groups = options["groups"]
    arrays = [RNG.standard_normal(s) for s in [(2, 4, 7, 6), (4, 4 // groups, 3, 2), (4,)]]
    _compare(
        lambda x, w, b: tg.nn.functional.conv2d(x, w, b, **options),
        lambda x, w, b: torch.nn.functional.conv2d(x, w, b, **options),
        arrays,
    )


@needs_torch
def test_conv1d_agrees_with_torch():
    arrays = [RNG.standard_normal(s) for s in [(2, 4, 9), (6, 2, 3), (6,)]]
    options = dict(stride=2, padding=1, dilation=2, groups=2)
    _compare(
        lambda x, w, b: tg.nn.functional.conv1d(x, w, b, **options),
        lambda x, w, b: torch.nn.functional.conv1d(x, w, b, **options),
        arrays,
    )


@needs_torch
@pytest.mark.parametrize(
    "options",
    [
        dict(stride=1, padding=0, output_padding=0, groups=1, dilation=1),
        dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1),
        dict(stride=(3, 2), padding=(1, 0), output_padding=(2, 1), groups=1, dilation=(2, 1)),
    ],
)
def test_conv_transpose2d_agrees_with_torch(options):
    groups = options["groups"]
    arrays = [RNG.standard_normal(s) for s in [(2, 4, 3, 4), (4, 3, 3, 2), (3 * groups,)]]
    _compare(
        lambda x, w, b: tg.nn.functional.conv_transpose2d(x, w, b, **options),
        lambda x, w, b: torch.nn.functional.conv_transpose2d(x, w, b, **options),
        arrays,
    )


@needs_torch
@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), ((2, 3), 2, 1)])
@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pooling_agrees_with_torch(kernel, stride, padding, ceil_mode):
    x = [RNG.standard_normal((2, 3, 7, 6))]
    F, TF = tg.nn.functional, torch.nn.functional
    common = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    _compare(lambda t: F.max_pool2d(t, **common), lambda t: TF.max_pool2d(t, **common), x)
    for include in (True, False):
        options = dict(common, count_include_pad=include)
        _compare(
            lambda t, o=options: F.avg_pool2d(t, **o), lambda t, o=options: TF.avg_pool2d(t, **o), x
        )


@needs_torch
@pytest.mark.parametrize(
    "options",
    [
        dict(size=(7, 3)),
        dict(scale_factor=2),
        dict(scale_factor=1.5),
        dict(scale_factor=(0.5, 2.3)),
        dict(scale_factor=1.7, recompute_scale_factor=True),
    ],
)
@pytest.mark.parametrize("mode, align_corners", [("nearest", None), ("bilinear", False),
                                                 ("bilinear", True)])  # fmt: skip
def test_interpolate_agrees_with_torch(options, mode, align_corners):
    options = dict(options, mode=mode, align_corners=align_corners)
    _compare(
        lambda x: tg.nn.functional.interpolate(x, **options),
        lambda x: torch.nn.functional.interpolate(x, **options),
        [RNG.standard_normal((2, 3, 5, 4))],
    )


@needs_torch
@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
        ("i,j->ij", [(3,), (4,)]),
        ("ii", [(3, 3)]),
        ("ii->i", [(3, 3)]),
        ("ij->ji", [(2, 3)]),
        ("ij->", [(2, 3)]),
        ("ba,ca", [(2, 3), (4, 3)]),
        ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]),
        ("ijk,ikl,lm->jm", [(2, 3, 2), (2, 2, 3), (3, 2)]),
    ],
)
def test_einsum_agrees_with_torch(equation, shapes):
    _compare(
        lambda *xs: tg.einsum(equation, *xs),
        lambda *xs: torch.einsum(equation, *xs),
        [RNG.standard_normal(s) for s in shapes],
    )


@needs_torch
@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 4, 3, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_class_losses_agree_with_torch(shape, reduction):
    classes = shape[0] if len(shape) == 1 else shape[1]
    target = RNG.integers(0, classes, () if len(shape) == 1 else shape[:1] + shape[2:])
    if target.size > 1:
        target.reshape(-1)[:2] = (1, 2)
    weight = RNG.uniform(0.5, 2.0, classes)
    logits = [RNG.standard_normal(shape)]
    t = torch.tensor(target)
    F, TF = tg.nn.functional, torch.nn.functional
    for w, ignore, smoothing in [(None, -100, 0.0), (weight, 2, 0.0), (weight, 1, 0.25)]:
        options = dict(ignore_index=ignore, reduction=reduction)
        ours = dict(options, weight=w)
        theirs = dict(options, weight=None if w is None else torch.tensor(w))
        _compare(
            lambda x, o=ours, s=smoothing: F.cross_entropy(x, target, label_smoothing=s, **o),
            lambda x, o=theirs, s=smoothing: TF.cross_entropy(x, t, label_smoothing=s, **o),
            logits,
        )
        _compare(
            lambda x, o=ours: F.nll_loss(x, target, **o),
            lambda x, o=theirs: TF.nll_loss(x, t, **o),
            logits,
        )


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_agrees_with_torch(reduction):
    arrays = [RNG.uniform(0.02, 0.98, (3, 4)), RNG.uniform(0, 1, (3, 4))]
    weight = RNG.uniform(0.5, 2.0, 4)
    for w in (None, weight):
        tw = None if w is None else torch.tensor(w)
        _compare(
            lambda p, y, w=w: tg.nn.functional.binary_cross_entropy(p, y, w, reduction=reduction),
            lambda p, y, w=tw: torch.nn.functional.binary_cross_entropy(
                p, y, w, reduction=reduction
            ),
            arrays,
        )


@needs_torch
@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (lambda: nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2),
         lambda: torch.nn.Conv1d(4, 6, 3, stride=2, padding=1, groups=2), (2, 4, 9)),
        (lambda: nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2),
         lambda: torch.nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2), (2, 4, 5, 5)),
        (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
         lambda: torch.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                          groups=2), (2, 4, 5, 5)),
    ],
)  # fmt: skip
def test_new_conv_layers_load_into_torch(ours, theirs, shape):
    model, module = ours(), theirs()
    module.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.state_dict().items()})
    x = RNG.standard_normal(shape).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(tg.Tensor(x)).numpy(), expected, rtol=1e-4, atol=1e-5)


# ---- shape and indexing ops: the same values and gradients as torch (when installed) ---


def _torch_pad(t, pad_width, mode, value):
    if mode != "constant":  # torch pads these modes only on (batch,) channel, spatial layouts
        return None
    flat = [w for pair in reversed(pad_width) for w in pair]
    return torch.nn.functional.pad(t, flat, mode="constant", value=value)


def _torch_pieces(pieces, dim):
    return torch.cat([p * (i + 1) for i, p in enumerate(pieces)], dim)


def _torch_repeats(repeats):
    return repeats if isinstance(repeats, int) else torch.tensor(repeats, dtype=torch.int64)


def _torch_block(src, index):
    # torch's scatter backward fails for a src larger than index ("invalid gradient"),
    # so torch gets the block scatter reads; the slice's backward pads its gradient back
    return src[tuple(slice(0, n) for n in index.shape)]


# registry name -> the same call in torch (inputs: torch tensors; index arrays: NumPy)
TORCH_SHAPE_OPS = {
    "flip": lambda t, dims: torch.flip(t, (dims,) if isinstance(dims, int) else dims),
    "repeat": lambda t, sizes: t.repeat(*sizes) if sizes else t * 1.0,  # torch needs a size
    "repeat_interleave": lambda t, repeats, dim: torch.repeat_interleave(
        t, _torch_repeats(repeats), dim=dim
    ),
    "split": lambda t, split_size_or_sections, dim: _torch_pieces(
        torch.split(t, split_size_or_sections, dim), dim
    ),
    "chunk": lambda t, chunks, dim: _torch_pieces(torch.chunk(t, chunks, dim), dim),
    "roll": lambda t, shifts, dims: torch.roll(t, shifts, dims),
    "tril": lambda t, diagonal: torch.tril(t, diagonal),
    "triu": lambda t, diagonal: torch.triu(t, diagonal),
    "diagonal": lambda t, offset, dim1, dim2: torch.diagonal(t, offset, dim1, dim2),
    "unflatten": lambda t, dim, sizes: torch.unflatten(t, dim, sizes),
    "gather": lambda t, dim, index: torch.gather(t, dim, torch.from_numpy(index)),
    "scatter": lambda t, src, dim, index: t.scatter(
        dim, torch.from_numpy(index), _torch_block(src, index)
    ),
    "scatter_value": lambda t, dim, index, value: t.scatter(dim, torch.from_numpy(index), value),
    "scatter_add": lambda t, src, dim, index: t.scatter_add(
        dim, torch.from_numpy(index), _torch_block(src, index)
    ),
    "masked_fill": lambda t, mask, value: t.masked_fill(torch.from_numpy(mask), value),
    "masked_fill_tensor_value": lambda t, v, mask: t.masked_fill(torch.from_numpy(mask), v),
    "sort": lambda t, dim, descending: torch.sort(t, dim, descending).values,
    "topk": lambda t, k, dim, largest: torch.topk(t, k, dim, largest).values,
    "pad_modes": _torch_pad,
    "F.pad": _torch_pad,
}


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", sorted(TORCH_SHAPE_OPS))
def test_shape_ops_agree_with_torch(name):
    from hypothesis import given
    from hypothesis import strategies as st
    from strategies import op_inputs

    op = tg.registry.BY_NAME[name]

    @given(st.data())
    def check(data):
        tensors, params = data.draw(op_inputs(op, "cpu"))
        twins = [torch.tensor(t.numpy(), requires_grad=True) for t in tensors]
        theirs = TORCH_SHAPE_OPS[name](*twins, **params)
        if theirs is None:
            return
        ours = op.call(*tensors, **params)
        np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)
        weight = np.random.default_rng(0).standard_normal(ours.shape)
        ours.backward(tg.Tensor(weight, dtype=tg.float64))
        theirs.backward(torch.from_numpy(weight))
        for t, twin in zip(tensors, twins):
            np.testing.assert_allclose(t.grad.numpy(), twin.grad.numpy(), rtol=1e-12)

    check()


@pytest.mark.skipif(torch is None, reason="torch is not installed")
def test_one_hot_and_argsort_agree_with_torch():
    classes = np.array([[3, 0], [1, 1]])
    np.testing.assert_array_equal(
        tg.nn.functional.one_hot(tg.Tensor(classes)).numpy(),
        torch.nn.functional.one_hot(torch.from_numpy(classes)).numpy(),
    )
    values = np.array([[0.5, -1.0, 2.0, 0.0]])
    for descending in (False, True):
        np.testing.assert_array_equal(
            tg.Tensor(values).argsort(descending=descending).numpy(),
            torch.argsort(torch.from_numpy(values), descending=descending).numpy(),
        )


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", [(1, 2), (2, 1, 0, 1)])
def test_pad_modes_agree_with_torch(mode, pad):
    """torch pads these modes on (N, C, W) for a 1-D pad and (N, C, H, W) for a 2-D one."""
    shape = (2, 2, 3) if len(pad) == 2 else (1, 2, 3, 4)
    values = np.random.default_rng(1).standard_normal(shape)
    ours = tg.Tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    out = tg.nn.functional.pad(ours, pad, mode=mode)
    torch_out = torch.nn.functional.pad(theirs, pad, mode=mode)
    np.testing.assert_allclose(out.numpy(), torch_out.detach().numpy(), rtol=1e-12)
    weight = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(tg.Tensor(weight, dtype=tg.float64))
    torch_out.backward(torch.from_numpy(weight))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


# ---- attention: nn.MultiheadAttention and nn.TransformerEncoderLayer ------------------
# Same three checks: PyTorch's keys and shapes written by hand, PyTorch's formulas in
# NumPy (float64, loops over batch and head), and torch itself where installed.

E_MODEL, HEADS, FF = 8, 2, 16

MHA_KEYS = [
    ("in_proj_weight", (3 * E_MODEL, E_MODEL)),
    ("in_proj_bias", (3 * E_MODEL,)),
    ("out_proj.weight", (E_MODEL, E_MODEL)),
    ("out_proj.bias", (E_MODEL,)),
]
ENCODER_KEYS = [("self_attn." + key, shape) for key, shape in MHA_KEYS] + [
    ("linear1.weight", (FF, E_MODEL)),
    ("linear1.bias", (FF,)),
    ("linear2.weight", (E_MODEL, FF)),
    ("linear2.bias", (E_MODEL,)),
    ("norm1.weight", (E_MODEL,)),
    ("norm1.bias", (E_MODEL,)),
    ("norm2.weight", (E_MODEL,)),
    ("norm2.bias", (E_MODEL,)),
]


def softmax_ref(scores):
    """Row softmax; a row that is all -inf gives zeros (what our layers return)."""
    out = np.zeros_like(scores)
    alive = ~np.isneginf(scores).all(axis=-1)
    shifted = scores[alive] - scores[alive].max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    out[alive] = e / e.sum(axis=-1, keepdims=True)
    return out


def mha_ref(query, key, value, state, heads, attn_block=None, key_padding=None):
    """torch.nn.MultiheadAttention's forward for (L, N, E) inputs: per batch and head,
    softmax(q_h k_h^T / sqrt(d) + masks) v_h, heads joined, then out_proj.  Boolean masks
    are True where attending is NOT allowed.  Returns (output, head-averaged weights)."""
    e = query.shape[-1]
    w, b = state["in_proj_weight"], state["in_proj_bias"]
    q = query @ w[:e].T + b[:e]
    k = key @ w[e : 2 * e].T + b[e : 2 * e]
    v = value @ w[2 * e :].T + b[2 * e :]
    length, n, _ = q.shape
    source = k.shape[0]
    d = e // heads
    joined = np.zeros((length, n, e))
    weights = np.zeros((n, length, source))
    for i in range(n):
        for h in range(heads):
            cols = slice(h * d, (h + 1) * d)
            scores = q[:, i, cols] @ k[:, i, cols].T / np.sqrt(d)
            if attn_block is not None:
                scores = np.where(attn_block, -np.inf, scores)
            if key_padding is not None:
                scores = np.where(key_padding[i][None, :], -np.inf, scores)
            probs = softmax_ref(scores)
            joined[:, i, cols] = probs @ v[:, i, cols]
            weights[i] += probs / heads
    out = joined @ state["out_proj.weight"].T + state["out_proj.bias"]
    return out, weights


def layer_norm_ref(x, weight, bias, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu_ref(x):
    from math import erf

    return 0.5 * x * (1.0 + np.vectorize(erf)(x / np.sqrt(2.0)))


def encoder_ref(x, state, norm_first, activation):
    """torch.nn.TransformerEncoderLayer's forward in eval mode (dropout is the identity)."""

    def sub(prefix):
        return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}

    def sa(h):
        return mha_ref(h, h, h, sub("self_attn."), HEADS)[0]

    def ff(h):
        hidden = linear_ref(h, state["linear1.weight"], state["linear1.bias"])
        hidden = np.maximum(hidden, 0.0) if activation == "relu" else gelu_ref(hidden)
        return linear_ref(hidden, state["linear2.weight"], state["linear2.bias"])

    def norm(i, h):
        return layer_norm_ref(h, state[f"norm{i}.weight"], state[f"norm{i}.bias"])

    if norm_first:
        x = x + sa(norm(1, x))
        return x + ff(norm(2, x))
    x = norm(1, x + sa(x))
    return norm(2, x + ff(x))


def random_state64(model, seed=0):
    """Random float64 values for every entry of model.state_dict(), loaded into it."""
    model.double()
    rng = np.random.default_rng(seed)
    state = {k: 0.5 * rng.standard_normal(v.shape) for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    return state


def attention_inputs(seed=1, length=3, source=5, batch=2):
    rng = np.random.default_rng(seed)
    query = rng.standard_normal((length, batch, E_MODEL))
    key = rng.standard_normal((source, batch, E_MODEL))
    value = rng.standard_normal((source, batch, E_MODEL))
    attn_block = np.triu(np.ones((length, source), bool), 1)  # a causal mask, PyTorch's way
    key_padding = np.zeros((batch, source), bool)
    key_padding[0, -2:] = True
    return query, key, value, attn_block, key_padding


def to_torch(state):
    return {k: torch.from_numpy(np.array(v)) for k, v in state.items()}


def test_attention_state_dict_keys_are_pytorchs():
    ours = nn.MultiheadAttention(E_MODEL, HEADS).state_dict()
    assert [(k, tuple(v.shape)) for k, v in ours.items()] == MHA_KEYS
    layer = nn.TransformerEncoderLayer(E_MODEL, HEADS, FF)
    assert [(k, tuple(v.shape)) for k, v in layer.state_dict().items()] == ENCODER_KEYS


@pytest.mark.parametrize("masks", ["none", "attn_mask", "key_padding_mask", "both"])
def test_multihead_attention_follows_pytorchs_formula(masks):
    model = nn.MultiheadAttention(E_MODEL, HEADS)
    state = random_state64(model)
    query, key, value, attn_block, key_padding = attention_inputs()
    kwargs = {}
    if masks in ("attn_mask", "both"):
        kwargs["attn_mask"] = attn_block
    if masks in ("key_padding_mask", "both"):
        kwargs["key_padding_mask"] = key_padding
    out, weights = model(tg.Tensor(query), tg.Tensor(key), tg.Tensor(value), **kwargs)
    expected_out, expected_weights = mha_ref(
        query, key, value, state, HEADS, kwargs.get("attn_mask"), kwargs.get("key_padding_mask")
    )
    np.testing.assert_allclose(out.numpy(), expected_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected_weights, rtol=1e-10, atol=1e-12)
    if torch is not None:
        module = torch.nn.MultiheadAttention(E_MODEL, HEADS).double()
        module.load_state_dict(to_torch(state))
        torch_kwargs = {k: torch.from_numpy(v) for k, v in kwargs.items()}
        t_out, t_weights = module(*map(torch.from_numpy, (query, key, value)), **torch_kwargs)
        np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(weights.numpy(), t_weights.detach().numpy(), atol=1e-12)


def test_multihead_attention_layouts_and_per_head_weights():
    """batch_first, unbatched input and average_attn_weights=False give the same numbers
    rearranged."""
    model = nn.MultiheadAttention(E_MODEL, HEADS, batch_first=True)
    state = random_state64(model)
    query, key, value, _, key_padding = attention_inputs()
    expected_out, expected_weights = mha_ref(query, key, value, state, HEADS, None, key_padding)
    first = [tg.Tensor(a.swapaxes(0, 1)) for a in (query, key, value)]
    out, per_head = model(*first, key_padding_mask=key_padding, average_attn_weights=False)
    np.testing.assert_allclose(out.numpy(), expected_out.swapaxes(0, 1), atol=1e-12)
    assert per_head.shape == (2, HEADS, 3, 5)
    np.testing.assert_allclose(per_head.numpy().mean(axis=1), expected_weights, atol=1e-12)
    one = [tg.Tensor(a[:, 1]) for a in (query, key, value)]
    out, weights = model(*one, key_padding_mask=key_padding[1])
    np.testing.assert_allclose(out.numpy(), expected_out[:, 1], atol=1e-12)
    np.testing.assert_allclose(weights.numpy(), expected_weights[1], atol=1e-12)
    out, weights = model(*first, need_weights=False)
    assert weights is None


def test_multihead_attention_with_kdim_vdim_agrees_with_torch():
    model = nn.MultiheadAttention(E_MODEL, HEADS, kdim=4, vdim=6)
    keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items()]
    assert keys == [
        ("q_proj_weight", (E_MODEL, E_MODEL)),
        ("k_proj_weight", (E_MODEL, 4)),
        ("v_proj_weight", (E_MODEL, 6)),
        ("in_proj_bias", (3 * E_MODEL,)),
        ("out_proj.weight", (E_MODEL, E_MODEL)),
        ("out_proj.bias", (E_MODEL,)),
    ]
    if torch is None:
        pytest.skip("torch is not installed")
    state = random_state64(model)
    rng = np.random.default_rng(2)
    query, key, value = (rng.standard_normal((s, 2, d)) for s, d in ((3, E_MODEL), (5, 4), (5, 6)))
    module = torch.nn.MultiheadAttention(E_MODEL, HEADS, kdim=4, vdim=6).double()
    module.load_state_dict(to_torch(state))
    out, _ = model(tg.Tensor(query), tg.Tensor(key), tg.Tensor(value))
    t_out, _ = module(*map(torch.from_numpy, (query, key, value)))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("norm_first,activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder_layer_follows_pytorch(norm_first, activation):
    layer = nn.TransformerEncoderLayer(
        E_MODEL, HEADS, FF, activation=activation, norm_first=norm_first
    )
    state = random_state64(layer)
    layer.eval()
    x = attention_inputs()[0]
    out = layer(tg.Tensor(x)).numpy()
    np.testing.assert_allclose(out, encoder_ref(x, state, norm_first, activation), atol=1e-10)
    if torch is not None:
        module = torch.nn.TransformerEncoderLayer(
            E_MODEL, HEADS, FF, activation=activation, norm_first=norm_first
        ).double()
        module.load_state_dict(to_torch(state))
        module.eval()
        with torch.no_grad():
            np.testing.assert_allclose(out, module(torch.from_numpy(x)).numpy(), atol=1e-10)


def test_attention_gradients_agree_with_torch():
    if torch is None:
        pytest.skip("torch is not installed")
    layer = nn.TransformerEncoderLayer(E_MODEL, HEADS, FF, dropout=0.0, norm_first=True)
    state = random_state64(layer)
    module = torch.nn.TransformerEncoderLayer(E_MODEL, HEADS, FF, dropout=0.0, norm_first=True)
    module = module.double()
    module.load_state_dict(to_torch(state))
    x, _, _, attn_block, key_padding = attention_inputs(length=5)
    ours = tg.Tensor(x, requires_grad=True)
    theirs = torch.from_numpy(x).requires_grad_()
    upstream = np.random.default_rng(3).standard_normal(x.shape)
    layer(ours, src_mask=attn_block[:, :5], src_key_padding_mask=key_padding).backward(
        tg.Tensor(upstream)
    )
    t_out = module(
        theirs,
        src_mask=torch.from_numpy(attn_block[:, :5]),
        src_key_padding_mask=torch.from_numpy(key_padding),
    )
    t_out.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), atol=1e-10)
    t_params = dict(module.named_parameters())
    for name, param in layer.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), t_params[name].grad.numpy(), atol=1e-10)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"attn_mask": np.zeros((2, 2), bool)}, "attn_mask must be"),
        ({"key_padding_mask": np.zeros((2, 4), bool)}, "key_padding_mask must be"),
        ({"attn_mask": np.zeros((3, 5), int)}, "bool or float"),
        ({"is_causal": True}, "is_causal"),
    ],
)
def test_multihead_attention_bad_input_is_named(kwargs, message):
    model = nn.MultiheadAttention(E_MODEL, HEADS)
    query, key, value, _, _ = attention_inputs()
    tensors = [tg.Tensor(a.astype(np.float32)) for a in (query, key, value)]
    with pytest.raises((ValueError, TypeError), match=message):
        model(*tensors, **kwargs)
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="MultiheadAttention"):
        model(tensors[0], tensors[1][:, :1], tensors[2][:, :1])


# ---- examples/tiny_gpt.py's model and its PyTorch twin ------------------------------


def load_tiny_gpt():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "tiny_gpt.py"
    spec = importlib.util.spec_from_file_location("example_tiny_gpt", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("weight_tying", [True, False])
def test_tiny_gpt_state_dict_loads_into_its_torch_twin(weight_tying):
    example = load_tiny_gpt()
    sizes = dict(vocab_size=11, block_size=8, n_embd=16, n_head=4, n_layer=2)
    tg.manual_seed(0)
    model = example.TinyGPT(**sizes, dropout=0.0, weight_tying=weight_tying)
    state = model.state_dict()
    assert ("head.weight" in state) and ("head.bias" not in state)
    if torch is None:
        pytest.skip("torch is not installed")
    twin = example.torch_twin(**sizes, weight_tying=weight_tying)
    assert [(k, tuple(v.shape)) for k, v in state.items()] == [
        (k, tuple(v.shape)) for k, v in twin.state_dict().items()
    ]
    twin.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in state.items()})
    model.eval()
    twin.eval()
    ids = np.random.default_rng(0).integers(0, 11, size=(3, 8))
    with tg.no_grad():
        ours = model(tg.Tensor(ids)).numpy()
    with torch.no_grad():
        theirs = twin(torch.from_numpy(ids)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


# ---- math ops and activations against torch, where installed ----------------------------

# name: (our function, torch's function, input values); float64, one input unless a tuple
_RNG = np.random.default_rng(11)
_X = _RNG.uniform(-3, 3, (3, 4))
_ZEROS = np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 1.5, 0.0, 2.0], [1.0, -2.0, 0.5, 3.0]])
MATH_CASES = {
    "std": (lambda x: x.std(dim=1, correction=1), lambda x: x.std(dim=1, correction=1), _X),
    "prod": (lambda x: x.prod(dim=1), lambda x: x.prod(dim=1), _ZEROS),
    "prod_all": (lambda x: x.prod(), lambda x: x.prod(), _ZEROS[0]),
    "cumsum": (lambda x: x.cumsum(dim=0), lambda x: x.cumsum(dim=0), _X),
    "cumprod": (lambda x: x.cumprod(dim=1), lambda x: x.cumprod(dim=1), _ZEROS),
    "logcumsumexp": (
        lambda x: x.logcumsumexp(dim=1),
        lambda x: x.logcumsumexp(dim=1),
        np.array([[-1000.0, 0.0, 1000.0, 999.0], [1.0, 2.0, -3.0, 0.5]]),
    ),
    "floor": (lambda x: x.floor(), torch.floor if torch else None, _X),
    "round": (lambda x: x.round(), torch.round if torch else None, np.array([0.5, 1.5, -2.5])),
    "rsqrt": (lambda x: x.rsqrt(), torch.rsqrt if torch else None, np.abs(_X) + 0.1),
    "exp2": (lambda x: x.exp2(), torch.exp2 if torch else None, _X),
    "log2": (lambda x: x.log2(), torch.log2 if torch else None, np.abs(_X) + 0.1),
    "log10": (lambda x: x.log10(), torch.log10 if torch else None, np.abs(_X) + 0.1),
    "tan": (lambda x: x.tan(), torch.tan if torch else None, _X / 3),
    "asin": (lambda x: x.asin(), torch.asin if torch else None, _X / 3.5),
    "acos": (lambda x: x.acos(), torch.acos if torch else None, _X / 3.5),
    "atan": (lambda x: x.atan(), torch.atan if torch else None, _X),
    "sinh": (lambda x: x.sinh(), torch.sinh if torch else None, _X),
    "cosh": (lambda x: x.cosh(), torch.cosh if torch else None, _X),
    "asinh": (lambda x: x.asinh(), torch.asinh if torch else None, _X),
    "acosh": (lambda x: x.acosh(), torch.acosh if torch else None, np.abs(_X) + 1.1),
    "atanh": (lambda x: x.atanh(), torch.atanh if torch else None, _X / 3.5),
    "logaddexp": (
        lambda x, y: x.logaddexp(y),
        lambda x, y: torch.logaddexp(x, y),
        (_X, np.array([1000.0, -2.0, 0.5, 3.0])),
    ),
    "lerp": (
        lambda x, y, w: x.lerp(y, w),
        lambda x, y, w: torch.lerp(x, y, w),
        (_X, _X[::-1].copy(), _RNG.uniform(0, 1, (3, 4))),
    ),
    "remainder": (
        lambda x, y: x % y,
        lambda x, y: x % y,
        (_X, np.array([[1.25], [-0.75], [2.0]])),
    ),
    "silu": (tg.nn.functional.silu, torch.nn.functional.silu if torch else None, _X),
    "elu": (
        lambda x: tg.nn.functional.elu(x, 0.5),
        lambda x: torch.nn.functional.elu(x, 0.5),
        _X,
    ),
    "selu": (tg.nn.functional.selu, torch.nn.functional.selu if torch else None, _X),
    "celu": (
        lambda x: tg.nn.functional.celu(x, 2.0),
        lambda x: torch.nn.functional.celu(x, 2.0),
        _X,
    ),
    "relu6": (tg.nn.functional.relu6, torch.nn.functional.relu6 if torch else None, _X * 3),
    "hardtanh": (
        lambda x: tg.nn.functional.hardtanh(x, -0.5, 2.0),
        lambda x: torch.nn.functional.hardtanh(x, -0.5, 2.0),
        _X,
    ),
    "hardsigmoid": (
        tg.nn.functional.hardsigmoid,
        torch.nn.functional.hardsigmoid if torch else None,
        _X * 2,
    ),
    "hardswish": (
        tg.nn.functional.hardswish,
        torch.nn.functional.hardswish if torch else None,
        _X * 2,
    ),
    "mish": (tg.nn.functional.mish, torch.nn.functional.mish if torch else None, _X),
    "softsign": (tg.nn.functional.softsign, torch.nn.functional.softsign if torch else None, _X),
    "logsigmoid": (
        tg.nn.functional.logsigmoid,
        torch.nn.functional.logsigmoid if torch else None,
        _X * 300,
    ),
    "softmin": (
        lambda x: tg.nn.functional.softmin(x, dim=0),
        lambda x: torch.nn.functional.softmin(x, dim=0),
        _X,
    ),
    "normalize": (
        lambda x: tg.nn.functional.normalize(x, p=3.0, dim=1),
        lambda x: torch.nn.functional.normalize(x, p=3.0, dim=1),
        _X,
    ),
    "softplus": (
        lambda x: tg.nn.functional.softplus(x, beta=2.0, threshold=3.0),
        lambda x: torch.nn.functional.softplus(x, beta=2.0, threshold=3.0),
        _X,
    ),
}


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", sorted(MATH_CASES))
def test_math_ops_forward_and_backward_agree_with_torch(name):
    ours, theirs, values = MATH_CASES[name]
    values = values if isinstance(values, tuple) else (values,)
    xs = [tg.Tensor(v, dtype=np.float64, requires_grad=True) for v in values]
    ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    out, torch_out = ours(*xs), theirs(*ts)
    np.testing.assert_allclose(out.numpy(), torch_out.detach().numpy(), rtol=1e-10, atol=1e-12)
    weight = _RNG.standard_normal(out.shape)
    out.backward(tg.Tensor(weight, dtype=np.float64))
    torch_out.backward(torch.tensor(weight))
    for x, t in zip(xs, ts):
        # rtol 1e-7: torch's hardsigmoid backward multiplies by a float32 1/6
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.skipif(torch is None, reason="torch is not installed")
@pytest.mark.parametrize("name", ["prod", "cumprod", "logcumsumexp"])
def test_second_derivatives_at_zeros_and_huge_values_agree_with_torch(name):
    ours, theirs, values = MATH_CASES[name]
    x = tg.Tensor(values, dtype=np.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    weight = _RNG.standard_normal(ours(x).shape)
    direction = _RNG.standard_normal(values.shape)
    (g,) = tg.grad(ours(x), [x], tg.Tensor(weight, dtype=np.float64), create_graph=True)
    (h,) = tg.grad(g, [x], tg.Tensor(direction, dtype=np.float64))
    (torch_g,) = torch.autograd.grad(theirs(t), [t], torch.tensor(weight), create_graph=True)
    (torch_h,) = torch.autograd.grad(torch_g, [t], torch.tensor(direction))
    np.testing.assert_allclose(h.numpy(), torch_h.numpy(), rtol=1e-9, atol=1e-12)
