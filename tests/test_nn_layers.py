"""Tests of the layers and losses: forward values against plain NumPy written here,
gradients with tg.gradcheck (parameters included), and PyTorch's default
initialisation of every layer.

Each NumPy reference is the textbook formula in loops, slow and obvious on purpose.
"""

import math

import numpy
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn

RNG = numpy.random.default_rng(1234)


def values(*shape, dtype=numpy.float32):
    return RNG.standard_normal(shape).astype(dtype)


def as_numpy(layer):
    """name -> NumPy array of every parameter and buffer of `layer`."""
    return {key: value.numpy() for key, value in layer.state_dict().items()}


def sigmoid(x):
    return 1 / (1 + numpy.exp(-x))


def check_layer_gradients(layer, inputs, flatten=None):
    """gradcheck `layer` with respect to `inputs` and to all its parameters.

    gradcheck calls fn with float64 copies of everything; the copies of the parameters
    are put in the parameters' place for the call (layers read `self.weight`)."""
    named = list(layer.named_parameters())
    modules = dict(layer.named_modules())
    # (module holding the parameter, its attribute name) for each dotted name
    owners = [(modules[name.rpartition(".")[0]], name.rpartition(".")[2]) for name, _ in named]
    count = len(inputs)

    def put(module, key, tensor):
        module._parameters[key] = tensor
        module.__dict__[key] = tensor

    def fn(*tensors):
        for (module, key), copy in zip(owners, tensors[count:]):
            put(module, key, copy)
        try:
            out = layer(*tensors[:count])
        finally:
            for (module, key), (_, param) in zip(owners, named):
                put(module, key, param)
        return flatten(out) if flatten else out

    # Guard against a vacuous pass: if the layer ignored the swapped-in copies, both
    # gradients would be zero.  Every parameter must get some gradient through fn.
    copies = [tg.Tensor(p.numpy(), device=p.device, requires_grad=True) for _, p in named]
    if copies:
        outs = fn(*inputs, *copies)
        outs = outs if isinstance(outs, tuple) else (outs,)
        total = sum((out * out).sum() for out in outs)
        for (name, _), grad in zip(named, tg.grad(total, copies)):
            assert grad.numpy().any(), f"no gradient reaches parameter {name}"
    return tg.gradcheck(fn, list(inputs) + [param for _, param in named])


def leaf(array, device):
    return tg.Tensor(array, device=device, dtype=tg.float64, requires_grad=True)


# ---- Linear ------------------------------------------------------------------------------


def test_linear_matches_numpy(device):
    layer = nn.Linear(4, 3, device=device)
    p = as_numpy(layer)
    x = values(2, 5, 4)  # any leading axes
    out = layer(tg.Tensor(x, device=device))
    assert out.shape == (2, 5, 3) and out.device == device
    numpy.testing.assert_allclose(out.numpy(), x @ p["weight"].T + p["bias"], rtol=1e-5, atol=1e-6)
    no_bias = nn.Linear(4, 3, bias=False, device=device)
    assert no_bias.bias is None
    numpy.testing.assert_allclose(
        no_bias(tg.Tensor(x, device=device)).numpy(),
        x @ no_bias.weight.numpy().T,
        rtol=1e-5,
        atol=1e-6,
    )


def test_linear_gradients(device):
    layer = nn.Linear(4, 3, device=device)
    assert check_layer_gradients(layer, [leaf(values(5, 4), device)])


# ---- Conv2d and pooling --------------------------------------------------------------------


def conv2d_reference(x, weight, bias, stride, padding):
    (sh, sw), (ph, pw) = stride, padding
    x = numpy.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, w = x.shape
    out_channels, _, kh, kw = weight.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = numpy.zeros((n, out_channels, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
            for o in range(out_channels):
                out[:, o, i, j] = (patch * weight[o]).sum(axis=(1, 2, 3))
    if bias is not None:
        out += bias[None, :, None, None]
    return out


@pytest.mark.parametrize(
    "kernel, stride, padding, bias",
    [(3, 1, 0, True), ((2, 3), 2, 1, True), (3, (2, 1), (1, 0), False)],
)
def test_conv2d_matches_numpy(device, kernel, stride, padding, bias):
    layer = nn.Conv2d(3, 4, kernel, stride=stride, padding=padding, bias=bias, device=device)
    x = values(2, 3, 7, 6)
    out = layer(tg.Tensor(x, device=device))
    expected = conv2d_reference(
        x,
        layer.weight.numpy(),
        None if layer.bias is None else layer.bias.numpy(),
        layer.stride,
        layer.padding,
    )
    assert out.shape == expected.shape
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_conv2d_gradients(device):
    layer = nn.Conv2d(2, 3, (3, 2), stride=2, padding=1, device=device)
    assert check_layer_gradients(layer, [leaf(values(2, 2, 5, 4), device)])


def pool_reference(x, kernel, stride, padding, reduce, pad_value):
    x = numpy.pad(
        x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=pad_value
    )
    n, c, h, w = x.shape
    oh, ow = (h - kernel) // stride + 1, (w - kernel) // stride + 1
    out = numpy.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride : i * stride + kernel, j * stride : j * stride + kernel]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


@pytest.mark.parametrize("kernel, stride, padding", [(2, None, 0), (3, 2, 1), (2, 1, 1)])
def test_pools_match_numpy(device, kernel, stride, padding):
    x = values(2, 3, 6, 5)
    t = tg.Tensor(x, device=device)
    step = kernel if stride is None else stride
    expected_max = pool_reference(x, kernel, step, padding, numpy.max, -numpy.inf)
    expected_avg = pool_reference(x, kernel, step, padding, numpy.mean, 0.0)
    max_out = nn.MaxPool2d(kernel, stride, padding)(t)
    avg_out = nn.AvgPool2d(kernel, stride, padding)(t)
    numpy.testing.assert_allclose(max_out.numpy(), expected_max, rtol=1e-6)
    numpy.testing.assert_allclose(avg_out.numpy(), expected_avg, rtol=1e-5, atol=1e-6)
    assert nn.MaxPool2d(kernel, stride).stride == step


def test_pool_gradients(device):
    x = leaf(values(1, 2, 5, 5), device)
    assert check_layer_gradients(nn.MaxPool2d(3, 2, 1), [x])
    assert check_layer_gradients(nn.AvgPool2d(2, 1, 1), [x])


# ---- normalisation -----------------------------------------------------------------------


def batch_norm_reference(x, weight, bias, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    normalized = (x - mean.reshape(shape)) / numpy.sqrt(var.reshape(shape) + eps)
    count = x.size // x.shape[1]
    unbiased = var * count / (count - 1)
    return normalized * weight.reshape(shape) + bias.reshape(shape), mean, unbiased


@pytest.mark.parametrize("kind, shape", [("1d", (8, 3)), ("1d", (4, 3, 5)), ("2d", (4, 3, 2, 3))])
def test_batch_norm_training_eval_and_running_stats(device, kind, shape):
    make = nn.BatchNorm1d if kind == "1d" else nn.BatchNorm2d
    layer = make(3, momentum=0.2, device=device)
    nn.init.uniform_(layer.weight, 0.5, 1.5)
    nn.init.uniform_(layer.bias, -0.5, 0.5)
    weight, bias = layer.weight.numpy(), layer.bias.numpy()
    running_mean, running_var = numpy.zeros(3), numpy.ones(3)
    for _ in range(2):
        x = values(*shape) * 2 + 1
        out = layer(tg.Tensor(x, device=device))
        expected, mean, unbiased = batch_norm_reference(x, weight, bias)
        numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
        running_mean = 0.8 * running_mean + 0.2 * mean
        running_var = 0.8 * running_var + 0.2 * unbiased
    numpy.testing.assert_allclose(layer.running_mean.numpy(), running_mean, rtol=1e-5)
    numpy.testing.assert_allclose(layer.running_var.numpy(), running_var, rtol=1e-5)
    assert layer.num_batches_tracked.item() == 2
    assert layer.num_batches_tracked.dtype == numpy.int64

    layer.eval()
    x = values(*shape)
    out = layer(tg.Tensor(x, device=device))
    stat_shape = (1, 3) + (1,) * (len(shape) - 2)
    expected = (x - running_mean.reshape(stat_shape)) / numpy.sqrt(
        running_var.reshape(stat_shape) + 1e-5
    ) * weight.reshape(stat_shape) + bias.reshape(stat_shape)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    assert layer.num_batches_tracked.item() == 2  # eval changes no statistics
    numpy.testing.assert_allclose(layer.running_mean.numpy(), running_mean, rtol=1e-5)


def test_batch_norm_momentum_none_averages_all_batches(device):
    layer = nn.BatchNorm1d(2, momentum=None, device=device)
    batches = [values(6, 2) + i for i in range(3)]
    for x in batches:
        layer(tg.Tensor(x, device=device))
    means = [x.mean(axis=0) for x in batches]
    variances = [x.var(axis=0, ddof=1) for x in batches]
    numpy.testing.assert_allclose(layer.running_mean.numpy(), numpy.mean(means, axis=0), rtol=1e-5)
    numpy.testing.assert_allclose(
        layer.running_var.numpy(), numpy.mean(variances, axis=0), rtol=1e-5
    )


def test_batch_norm_without_running_stats_or_affine(device):
    x = values(5, 3)
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False, device=device)
    assert plain.running_mean is None and list(plain.parameters()) == []
    expected, _, _ = batch_norm_reference(x, numpy.ones(3), numpy.zeros(3))
    plain.eval()  # no running statistics: batch statistics even in eval mode
    numpy.testing.assert_allclose(
        plain(tg.Tensor(x, device=device)).numpy(), expected, rtol=1e-4, atol=1e-5
    )


def test_batch_norm_input_errors():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        nn.BatchNorm2d(3)(tg.zeros(4, 3))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm1d(3)(tg.zeros(4, 2))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients(device, training):
    layer = nn.BatchNorm2d(2, device=device)
    nn.init.uniform_(layer.weight, 0.5, 1.5)
    nn.init.uniform_(layer.running_var, 0.5, 1.5)
    layer.train(training)
    assert check_layer_gradients(layer, [leaf(values(3, 2, 2, 2), device)])


def test_layer_norm_matches_numpy(device):
    layer = nn.LayerNorm((3, 4), device=device)
    nn.init.normal_(layer.weight)
    nn.init.normal_(layer.bias)
    x = values(2, 5, 3, 4)
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    expected = (x - mean) / numpy.sqrt(var + 1e-5) * layer.weight.numpy() + layer.bias.numpy()
    for mode in (True, False):  # no difference between training and eval
        layer.train(mode)
        out = layer(tg.Tensor(x, device=device))
        numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    bare = nn.LayerNorm(4, elementwise_affine=False, device=device)
    out = bare(tg.Tensor(x, device=device))
    numpy.testing.assert_allclose(
        out.numpy(),
        (x - x.mean(-1, keepdims=True)) / numpy.sqrt(x.var(-1, keepdims=True) + 1e-5),
        rtol=1e-4,
        atol=1e-5,
    )


def test_layer_norm_gradients(device):
    layer = nn.LayerNorm(4, device=device)
    nn.init.normal_(layer.weight)
    assert check_layer_gradients(layer, [leaf(values(3, 4), device)])


# ---- Embedding ---------------------------------------------------------------------------


def test_embedding_matches_numpy(device):
    layer = nn.Embedding(10, 3, device=device)
    indices = numpy.array([[1, 2, 1], [9, 0, 4]])
    out = layer(tg.Tensor(indices, device=device))
    assert out.shape == (2, 3, 3)
    numpy.testing.assert_array_equal(out.numpy(), layer.weight.numpy()[indices])
    out.sum().backward()
    counts = numpy.bincount(indices.ravel(), minlength=10)[:, None] * numpy.ones((1, 3))
    numpy.testing.assert_array_equal(layer.weight.grad.numpy(), counts)  # repeats add up


def test_embedding_gradients(device):
    layer = nn.Embedding(5, 2, device=device)
    indices = tg.Tensor(numpy.array([0, 3, 3, 1]), device=device)
    assert check_layer_gradients(layer, [indices])


# ---- RNN and LSTM ------------------------------------------------------------------------


def rnn_reference(x, p, num_layers, h0, nonlinearity, bias=True):
    """x (L, N, I); p: the layer's state_dict as NumPy.  Returns (output, h_n)."""
    activation = numpy.tanh if nonlinearity == "tanh" else (lambda v: numpy.maximum(v, 0))
    last = []
    for k in range(num_layers):
        h = h0[k]
        outputs = []
        for x_t in x:
            pre = x_t @ p[f"weight_ih_l{k}"].T + h @ p[f"weight_hh_l{k}"].T
            if bias:
                pre = pre + p[f"bias_ih_l{k}"] + p[f"bias_hh_l{k}"]
            h = activation(pre)
            outputs.append(h)
        x = numpy.stack(outputs)
        last.append(h)
    return x, numpy.stack(last)


def lstm_reference(x, p, num_layers, h0, c0):
    """PyTorch's documented LSTM equations, gates stacked i, f, g, o."""
    last_h, last_c = [], []
    for k in range(num_layers):
        h, c = h0[k], c0[k]
        outputs = []
        for x_t in x:
            gates = (
                x_t @ p[f"weight_ih_l{k}"].T
                + p[f"bias_ih_l{k}"]
                + h @ p[f"weight_hh_l{k}"].T
                + p[f"bias_hh_l{k}"]
            )
            i, f, g, o = numpy.split(gates, 4, axis=-1)
            i, f, g, o = sigmoid(i), sigmoid(f), numpy.tanh(g), sigmoid(o)
            c = f * c + i * g
            h = o * numpy.tanh(c)
            outputs.append(h)
        x = numpy.stack(outputs)
        last_h.append(h)
        last_c.append(c)
    return x, numpy.stack(last_h), numpy.stack(last_c)


@pytest.mark.parametrize("nonlinearity, bias", [("tanh", True), ("relu", True), ("tanh", False)])
def test_rnn_matches_numpy(device, nonlinearity, bias):
    layer = nn.RNN(3, 4, num_layers=2, nonlinearity=nonlinearity, bias=bias, device=device)
    p = as_numpy(layer)
    x, h0 = values(5, 2, 3), values(2, 2, 4)
    out, h_n = layer(tg.Tensor(x, device=device), tg.Tensor(h0, device=device))
    expected, expected_h = rnn_reference(x, p, 2, h0, nonlinearity, bias)
    assert out.shape == (5, 2, 4) and h_n.shape == (2, 2, 4)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    numpy.testing.assert_allclose(h_n.numpy(), expected_h, rtol=1e-4, atol=1e-5)
    # without an initial state: zeros
    out, h_n = layer(tg.Tensor(x, device=device))
    expected, expected_h = rnn_reference(x, p, 2, numpy.zeros((2, 2, 4)), nonlinearity, bias)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)


def test_rnn_batch_first_and_unbatched_layouts(device):
    layer = nn.RNN(3, 4, batch_first=True, device=device)
    p = as_numpy(layer)
    x = values(2, 5, 3)  # (N, L, I)
    out, h_n = layer(tg.Tensor(x, device=device))
    expected, expected_h = rnn_reference(x.swapaxes(0, 1), p, 1, numpy.zeros((1, 2, 4)), "tanh")
    assert out.shape == (2, 5, 4) and h_n.shape == (1, 2, 4)
    numpy.testing.assert_allclose(out.numpy(), expected.swapaxes(0, 1), rtol=1e-4, atol=1e-5)
    single, h_single = layer(tg.Tensor(x[0], device=device))  # (L, I): one sequence
    assert single.shape == (5, 4) and h_single.shape == (1, 4)
    numpy.testing.assert_allclose(single.numpy(), expected[:, 0], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="hx must have shape"):
        layer(tg.Tensor(x, device=device), tg.zeros(2, 2, 4, device=device))
    with pytest.raises(ValueError, match="expected input"):
        layer(tg.Tensor(values(2, 5, 4), device=device))


def test_lstm_matches_numpy(device):
    layer = nn.LSTM(3, 4, num_layers=2, device=device)
    p = as_numpy(layer)
    x, h0, c0 = values(6, 2, 3), values(2, 2, 4), values(2, 2, 4)
    out, (h_n, c_n) = layer(
        tg.Tensor(x, device=device), (tg.Tensor(h0, device=device), tg.Tensor(c0, device=device))
    )
    expected, expected_h, expected_c = lstm_reference(x, p, 2, h0, c0)
    assert out.shape == (6, 2, 4) and h_n.shape == (2, 2, 4) and c_n.shape == (2, 2, 4)
    numpy.testing.assert_allclose(out.numpy(), expected, rtol=1e-4, atol=1e-5)
    numpy.testing.assert_allclose(h_n.numpy(), expected_h, rtol=1e-4, atol=1e-5)
    numpy.testing.assert_allclose(c_n.numpy(), expected_c, rtol=1e-4, atol=1e-5)

    first = nn.LSTM(3, 4, batch_first=True, device=device)
    first.load_state_dict({k: v for k, v in p.items() if k.endswith("l0")})
    out, (h_n, c_n) = first(tg.Tensor(x.swapaxes(0, 1), device=device))
    zeros = numpy.zeros((1, 2, 4))
    expected, expected_h, expected_c = lstm_reference(x, p, 1, zeros, zeros)
    numpy.testing.assert_allclose(out.numpy(), expected.swapaxes(0, 1), rtol=1e-4, atol=1e-5)
    numpy.testing.assert_allclose(c_n.numpy(), expected_c, rtol=1e-4, atol=1e-5)


def test_rnn_dropout_between_layers_only_while_training():
    tg.manual_seed(0)
    layer = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = tg.Tensor(values(4, 2, 3))
    layer.eval()
    out_eval = layer(x)[0].numpy()
    p = as_numpy(layer)
    zeros = numpy.zeros((2, 2, 4))
    expected, _, _ = lstm_reference(x.numpy(), p, 2, zeros, zeros)
    numpy.testing.assert_allclose(out_eval, expected, rtol=1e-4, atol=1e-5)
    layer.train()
    assert not numpy.allclose(layer(x)[0].numpy(), out_eval)


def test_rnn_gradients(device):
    layer = nn.RNN(2, 3, num_layers=2, device=device)
    x, h0 = leaf(values(3, 2, 2), device), leaf(values(2, 2, 3), device)
    assert check_layer_gradients(layer, [x, h0])


def test_lstm_gradients(device):
    class WithState(nn.Module):  # gradcheck passes tensors one by one, not an (h0, c0) pair
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(2, 2, num_layers=2, device=device)

        def forward(self, x, h0, c0):
            out, (h_n, c_n) = self.lstm(x, (h0, c0))
            return out, h_n, c_n

    x = leaf(values(3, 2, 2), device)
    h0, c0 = leaf(values(2, 2, 2), device), leaf(values(2, 2, 2), device)
    assert check_layer_gradients(WithState(), [x, h0, c0])


# ---- Dropout, activations, Flatten ------------------------------------------------------------


def test_dropout_in_eval_mode_is_the_identity(device):
    layer = nn.Dropout(0.5).eval()
    x = tg.Tensor(values(50), device=device)
    numpy.testing.assert_array_equal(layer(x).numpy(), x.numpy())


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_zeroes_about_p_and_rescales(device, p):
    layer = nn.Dropout(p)
    out = layer(tg.ones(20000, device=device)).numpy()
    zero_fraction = (out == 0).mean()
    assert abs(zero_fraction - p) < 0.02
    numpy.testing.assert_allclose(out[out != 0], 1 / (1 - p), rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.05  # the expected value is kept


def test_dropout_edge_cases_and_errors(device):
    x = tg.Tensor(values(10), device=device)
    numpy.testing.assert_array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())
    assert (nn.Dropout(1.0)(x).numpy() == 0).all()
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_dropout_is_reproducible_under_manual_seed(device):
    layer = nn.Dropout(0.5)
    x = tg.ones(200, device=device)
    tg.manual_seed(7)
    first = layer(x).numpy()
    second = layer(x).numpy()
    tg.manual_seed(7)
    again = layer(x).numpy()
    numpy.testing.assert_array_equal(first, again)
    assert not numpy.array_equal(first, second)  # a fresh mask on each call
    tg.manual_seed(7)
    on_cpu = layer(tg.ones(200)).numpy()
    numpy.testing.assert_array_equal(first, on_cpu)  # and the same mask on every device


def test_dropout_gradients(device):
    layer = nn.Dropout(0.4)

    def fixed_mask(x):  # the same mask on every gradcheck call
        tg.manual_seed(3)
        return layer(x)

    assert tg.gradcheck(fixed_mask, [leaf(values(4, 5), device)])


def erf(x):
    return numpy.vectorize(math.erf)(x)


ACTIVATIONS = [
    (nn.ReLU(), lambda x: numpy.maximum(x, 0)),
    (nn.Tanh(), numpy.tanh),
    (nn.Sigmoid(), sigmoid),
    (nn.LeakyReLU(), lambda x: numpy.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.3), lambda x: numpy.where(x > 0, x, 0.3 * x)),
    (nn.GELU(), lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2)))),
    (
        nn.GELU(approximate="tanh"),
        lambda x: 0.5 * x * (1 + numpy.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    (nn.Softmax(), lambda x: numpy.exp(x) / numpy.exp(x).sum(-1, keepdims=True)),
    (nn.Softmax(dim=0), lambda x: numpy.exp(x) / numpy.exp(x).sum(0, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - numpy.log(numpy.exp(x).sum(1, keepdims=True))),
    (nn.Identity(), lambda x: x),
]


@pytest.mark.parametrize(
    "layer, reference",
    ACTIVATIONS,
    ids=[f"{i}-{layer!r}" for i, (layer, _) in enumerate(ACTIVATIONS)],
)
def test_activations_match_numpy_and_gradcheck(device, layer, reference):
    x = values(3, 4, dtype=numpy.float64)
    out = layer(tg.Tensor(x, device=device))
    numpy.testing.assert_allclose(out.numpy(), reference(x), rtol=1e-6, atol=1e-7)
    assert check_layer_gradients(layer, [leaf(x, device)])


def test_flatten(device):
    x = tg.Tensor(values(2, 3, 4, 5), device=device)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(start_dim=1, end_dim=2)(x).shape == (2, 12, 5)
    numpy.testing.assert_array_equal(nn.Flatten()(x).numpy(), x.numpy().reshape(2, 60))
    assert check_layer_gradients(nn.Flatten(), [leaf(values(2, 3, 2), device)])


# ---- losses ------------------------------------------------------------------------------


def test_losses_match_numpy(device):
    prediction, target = values(4, 3), values(4, 3)
    logits, classes = values(5, 4), numpy.array([0, 3, 1, 1, 2])
    bits = (values(4, 3) > 0).astype(numpy.float32)
    log_probs = logits - numpy.log(numpy.exp(logits).sum(axis=1, keepdims=True))
    expected = {
        "mse": (prediction - target) ** 2,
        "ce": -log_probs[numpy.arange(5), classes],
        "bce": numpy.logaddexp(0, prediction) - prediction * bits,
    }
    for reduction, reduce in (("none", lambda v: v), ("sum", numpy.sum), ("mean", numpy.mean)):
        results = {
            "mse": nn.MSELoss(reduction)(
                tg.Tensor(prediction, device=device), tg.Tensor(target, device=device)
            ),
            "ce": nn.CrossEntropyLoss(reduction=reduction)(
                tg.Tensor(logits, device=device), tg.Tensor(classes, device=device)
            ),
            "bce": nn.BCEWithLogitsLoss(reduction=reduction)(
                tg.Tensor(prediction, device=device), tg.Tensor(bits, device=device)
            ),
        }
        for name, result in results.items():
            numpy.testing.assert_allclose(
                result.numpy(), reduce(expected[name]), rtol=1e-5, atol=1e-6, err_msg=name
            )
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")


def test_loss_gradients(device):
    classes = tg.Tensor(numpy.array([2, 0, 1]), device=device)
    assert check_layer_gradients(nn.CrossEntropyLoss(), [leaf(values(3, 4), device), classes])
    target = tg.Tensor(values(3, 4), device=device, dtype=tg.float64)
    assert check_layer_gradients(nn.MSELoss(reduction="sum"), [leaf(values(3, 4), device), target])
    assert check_layer_gradients(nn.BCEWithLogitsLoss(), [leaf(values(3, 4), device), target])


# ---- default initialisation (PyTorch's) --------------------------------------------------------


def assert_uniform(array, bound):
    """Values inside [-bound, bound], spread over it, with a uniform's mean and std."""
    assert numpy.abs(array).max() <= bound * (1 + 1e-6)
    assert numpy.abs(array).max() > 0.95 * bound
    assert abs(array.mean()) < 0.05 * bound
    assert abs(array.std() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3)
    counts, _ = numpy.histogram(array, bins=5, range=(-bound, bound))  # flat, not bell-shaped
    assert counts.min() > 0.8 * counts.mean()


def test_linear_and_conv_default_init(device):
    tg.manual_seed(0)
    linear = nn.Linear(100, 50, device=device)
    assert_uniform(linear.weight.numpy(), 1 / math.sqrt(100))
    assert numpy.abs(linear.bias.numpy()).max() <= 1 / math.sqrt(100)
    conv = nn.Conv2d(4, 64, 3, device=device)  # fan_in = 4 * 3 * 3
    assert_uniform(conv.weight.numpy(), 1 / math.sqrt(36))
    assert numpy.abs(conv.bias.numpy()).max() <= 1 / math.sqrt(36)
    assert numpy.abs(conv.bias.numpy()).max() > 0.5 / math.sqrt(36)


def test_recurrent_default_init(device):
    tg.manual_seed(0)
    for layer in (nn.RNN(10, 25, num_layers=2, device=device), nn.LSTM(10, 25, device=device)):
        everything = numpy.concatenate([p.numpy().ravel() for p in layer.parameters()])
        assert_uniform(everything, 1 / math.sqrt(25))


def test_embedding_and_normalization_default_init(device):
    tg.manual_seed(0)
    weight = nn.Embedding(1000, 30, device=device).weight.numpy()
    assert abs(weight.mean()) < 0.02 and abs(weight.std() - 1) < 0.02
    for layer in (nn.BatchNorm2d(5, device=device), nn.LayerNorm((2, 5), device=device)):
        numpy.testing.assert_array_equal(layer.weight.numpy(), numpy.ones(layer.weight.shape))
        numpy.testing.assert_array_equal(layer.bias.numpy(), numpy.zeros(layer.bias.shape))
    bn = nn.BatchNorm1d(5, device=device)
    numpy.testing.assert_array_equal(bn.running_mean.numpy(), numpy.zeros(5))
    numpy.testing.assert_array_equal(bn.running_var.numpy(), numpy.ones(5))
    assert bn.num_batches_tracked.item() == 0


def test_initialisation_is_reproducible_under_manual_seed(device):
    def build():
        return nn.Sequential(nn.Linear(3, 4), nn.LSTM(4, 2), nn.Embedding(5, 2))

    tg.manual_seed(11)
    first = as_numpy(build())
    tg.manual_seed(11)
    second = as_numpy(build())
    tg.manual_seed(12)
    third = as_numpy(build())
    for key in first:
        numpy.testing.assert_array_equal(first[key], second[key], err_msg=key)
    assert not numpy.array_equal(first["0.weight"], third["0.weight"])
    tg.manual_seed(11)
    on_device = nn.Linear(3, 4, device=device)
    numpy.testing.assert_array_equal(on_device.weight.numpy(), first["0.weight"])


def test_layers_accept_dtype(device):
    layer = nn.Linear(2, 3, device=device, dtype=tg.float64)
    assert layer.weight.dtype == numpy.float64 and layer.weight.device == device
    bn = nn.BatchNorm1d(2, dtype=tg.float64)
    assert bn.running_mean.dtype == numpy.float64 and bn.num_batches_tracked.dtype == numpy.int64


def test_max_pool_with_padding_on_integer_tensors(device):
    # padding must never win the max: the smallest integer, not -inf (which no integer
    # dtype can hold)
    for dtype in (numpy.int64, numpy.int32, numpy.uint8):
        x = numpy.arange(16).reshape(1, 1, 4, 4).astype(dtype)
        if dtype is not numpy.uint8:
            x = x - 8
        out = tg.nn.functional.max_pool2d(tg.Tensor(x, device=device), 2, padding=1)
        expected = pool_reference(x.astype(numpy.float64), 2, 2, 1, numpy.max, -numpy.inf)
        assert out.dtype == dtype
        numpy.testing.assert_array_equal(out.numpy(), expected.astype(dtype))
