"""Tests of nn.Module and nn.Parameter: registration, names, modes, devices, state_dict.

The expected state_dict keys and shapes are written out by hand from PyTorch's
documentation of each layer, so a state_dict saved here loads into `torch.nn`.
"""

from collections import OrderedDict

import numpy
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn


class Net(nn.Module):
    """A custom module with a nested Sequential, a parameter of its own (assigned after
    the children) and a buffer."""

    def __init__(self, device=None):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(2, 4, device=device), nn.ReLU(), nn.Linear(4, 3, device=device)
        )
        self.head = nn.Linear(3, 1, bias=False, device=device)
        self.scale = nn.Parameter(tg.ones(1, device=device))
        self.register_buffer("steps", tg.zeros((), device=device, dtype=tg.int64))

    def forward(self, x):
        return self.head(self.fc(x)) * self.scale


# ---- Parameter -------------------------------------------------------------------------


def test_parameter_is_a_tensor_that_requires_grad(device):
    p = nn.Parameter(tg.Tensor([[1.0, 2.0]], device=device))
    assert isinstance(p, tg.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p.device == device and p.shape == (1, 2) and p.dtype == numpy.float32
    assert repr(p).startswith("Parameter containing:\ntensor(")
    frozen = nn.Parameter(tg.zeros(2), requires_grad=False)
    assert not frozen.requires_grad
    out = p * 2  # ops make plain Tensors
    assert type(out) is tg.Tensor
    out.sum().backward()
    numpy.testing.assert_allclose(p.grad.numpy(), [[2.0, 2.0]])


def test_parameter_copies_its_data():
    t = tg.Tensor([1.0, 2.0])
    p = nn.Parameter(t)
    p.data[0] = 5.0
    assert t.numpy()[0] == 1.0


# ---- registration ----------------------------------------------------------------------


def test_assignment_sorts_parameters_modules_and_buffers():
    net = Net()
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["fc", "head"]
    assert list(net._buffers) == ["steps"]
    assert net.scale is net._parameters["scale"]  # a real attribute, the same object
    net.plain = tg.zeros(3)  # a plain Tensor is just an attribute, as in PyTorch
    assert "plain" not in net._buffers and "plain" not in net._parameters
    assert [n for n, _ in net.named_parameters()] == [
        "scale",
        "fc.0.weight",
        "fc.0.bias",
        "fc.2.weight",
        "fc.2.bias",
        "head.weight",
    ]


def test_reassignment_and_deletion_update_the_registries():
    net = Net()
    net.head = None
    assert net.head is None and net._modules["head"] is None
    assert "head.weight" not in dict(net.named_parameters())
    with pytest.raises(TypeError, match="parameter 'scale'"):
        net.scale = tg.ones(1)  # a plain Tensor cannot replace a Parameter
    net.scale = None
    assert net._parameters["scale"] is None and "scale" not in net.state_dict()
    net.scale = nn.Parameter(tg.ones(2))
    assert net.scale.shape == (2,)
    net.steps = tg.ones((), dtype=tg.int64)  # assigning to a buffer name replaces the buffer
    assert net._buffers["steps"] is net.steps
    with pytest.raises(TypeError, match="buffer"):
        net.steps = 3
    del net.fc
    assert "fc" not in net._modules and not hasattr(net, "fc")
    del net.steps
    assert "steps" not in net._buffers and not hasattr(net, "steps")
    net.fc = nn.Linear(1, 1)  # a former module name can be used again
    assert "fc.weight" in net.state_dict()


def test_registration_errors_are_clear():
    class NoInit(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"super\(\).__init__\(\)"):
        NoInit()
    m = nn.Module()
    with pytest.raises(KeyError, match="'.'"):
        m.register_parameter("a.b", nn.Parameter(tg.zeros(1)))
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("forward", tg.zeros(1))
    with pytest.raises(TypeError, match="nn.Parameter"):
        m.register_parameter("w", tg.zeros(1))
    with pytest.raises(TypeError, match="Tensor or None"):
        m.register_buffer("b", numpy.zeros(1))
    with pytest.raises(NotImplementedError, match="forward"):
        m(1)


def test_non_persistent_buffers_are_not_saved():
    m = nn.Module()
    m.register_buffer("kept", tg.zeros(2))
    m.register_buffer("cache", tg.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "cache"]


# ---- walking the tree -------------------------------------------------------------------


def test_modules_children_and_their_names():
    net = Net()
    assert [n for n, _ in net.named_children()] == ["fc", "head"]
    assert list(net.children()) == [net.fc, net.head]
    assert [n for n, _ in net.named_modules()] == ["", "fc", "fc.0", "fc.1", "fc.2", "head"]
    assert [type(m).__name__ for m in net.modules()] == [
        "Net",
        "Sequential",
        "Linear",
        "ReLU",
        "Linear",
        "Linear",
    ]
    assert [n for n, _ in net.named_buffers()] == ["steps"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.fc.named_parameters(prefix="fc")][:1] == ["fc.0.weight"]
    assert len(list(net.parameters())) == 6


def test_shared_modules_and_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(model.modules())) == 3
    # state_dict keeps every name, as PyTorch does (both point at the same values)
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    tied = nn.Module()
    tied.a = nn.Linear(2, 2)
    tied.b = nn.Linear(2, 2)
    tied.b.weight = tied.a.weight
    assert [n for n, _ in tied.named_parameters()] == ["a.weight", "a.bias", "b.bias"]


def test_parameter_names_are_the_dotted_names():
    net = Net()
    # names are right after construction, before any call (drawings use them) ...
    assert net.fc[0].weight.name == "fc.0.weight"
    assert net.head.weight.name == "head.weight"
    assert net.scale.name == "scale"
    # ... asking a submodule does not shorten them ...
    list(net.fc.named_parameters())
    assert net.fc[2].bias.name == "fc.2.bias"
    # ... a model built around an existing one lengthens them ...
    outer = nn.Sequential(net)
    list(outer.parameters())
    assert net.fc[0].weight.name == "0.fc.0.weight"
    # ... and a name the user chose is kept.
    p = nn.Parameter(tg.zeros(1))
    p.name = "my bias"
    m = nn.Module()
    m.b = p
    list(m.named_parameters())
    assert p.name == "my bias"


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Linear", "Net"]

    def init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.ones_(m.weight)

    net.apply(init_weights)
    assert all((p.numpy() == 1).all() for n, p in net.named_parameters() if "weight" in n)


# ---- modes and gradients ----------------------------------------------------------------


def test_train_and_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(2)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model[1].train(False)
    assert model.training and not model[1][0].training and not model[1][1].training
    with pytest.raises(ValueError):
        model.train("no")


def test_eval_changes_what_dropout_does():
    model = nn.Sequential(nn.Dropout(0.5))
    x = tg.ones(100)
    assert (model(x).numpy() == 0).any()
    model.eval()
    numpy.testing.assert_array_equal(model(x).numpy(), x.numpy())


def test_zero_grad(device):
    net = Net(device=device)
    net(tg.randn(5, 2, device=device)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    for p in net.parameters():
        assert p.grad.shape == p.shape and p.grad.device == device
        assert (p.grad.numpy() == 0).all()
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_requires_grad_freezes_parameters():
    net = Net()
    net.fc.requires_grad_(False)
    assert [p.requires_grad for p in net.parameters()] == [True, False, False, False, False, True]


# ---- state_dict: PyTorch's keys and shapes -------------------------------------------------

# (layer factory, [(key, shape), ...]) written from PyTorch's documentation.
EXPECTED_STATE = [
    (lambda: nn.Linear(3, 5), [("weight", (5, 3)), ("bias", (5,))]),
    (lambda: nn.Linear(3, 5, bias=False), [("weight", (5, 3))]),
    (
        lambda: nn.Conv2d(3, 8, kernel_size=(3, 2)),
        [("weight", (8, 3, 3, 2)), ("bias", (8,))],
    ),
    (lambda: nn.Conv2d(1, 4, 5, bias=False), [("weight", (4, 1, 5, 5))]),
    (
        lambda: nn.BatchNorm2d(4),
        [
            ("weight", (4,)),
            ("bias", (4,)),
            ("running_mean", (4,)),
            ("running_var", (4,)),
            ("num_batches_tracked", ()),
        ],
    ),
    (
        lambda: nn.BatchNorm1d(6, affine=False),
        [("running_mean", (6,)), ("running_var", (6,)), ("num_batches_tracked", ())],
    ),
    (
        lambda: nn.BatchNorm1d(6, track_running_stats=False),
        [("weight", (6,)), ("bias", (6,))],
    ),
    (lambda: nn.LayerNorm((4, 5)), [("weight", (4, 5)), ("bias", (4, 5))]),
    (lambda: nn.LayerNorm(4, elementwise_affine=False), []),
    (lambda: nn.Embedding(10, 3), [("weight", (10, 3))]),
    (
        lambda: nn.RNN(3, 5),
        [
            ("weight_ih_l0", (5, 3)),
            ("weight_hh_l0", (5, 5)),
            ("bias_ih_l0", (5,)),
            ("bias_hh_l0", (5,)),
        ],
    ),
    (
        lambda: nn.RNN(3, 5, num_layers=2, bias=False),
        [
            ("weight_ih_l0", (5, 3)),
            ("weight_hh_l0", (5, 5)),
            ("weight_ih_l1", (5, 5)),
            ("weight_hh_l1", (5, 5)),
        ],
    ),
    (
        lambda: nn.LSTM(3, 5, num_layers=2),
        [
            ("weight_ih_l0", (20, 3)),
            ("weight_hh_l0", (20, 5)),
            ("bias_ih_l0", (20,)),
            ("bias_hh_l0", (20,)),
            ("weight_ih_l1", (20, 5)),
            ("weight_hh_l1", (20, 5)),
            ("bias_ih_l1", (20,)),
            ("bias_hh_l1", (20,)),
        ],
    ),
    (
        lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)),
        [("0.weight", (2, 1, 3, 3)), ("0.bias", (2,)), ("3.weight", (2, 8)), ("3.bias", (2,))],
    ),
    (
        lambda: nn.ModuleList([nn.Linear(2, 2), nn.BatchNorm1d(2)]),
        [
            ("0.weight", (2, 2)),
            ("0.bias", (2,)),
            ("1.weight", (2,)),
            ("1.bias", (2,)),
            ("1.running_mean", (2,)),
            ("1.running_var", (2,)),
            ("1.num_batches_tracked", ()),
        ],
    ),
    (
        Net,
        [
            ("scale", (1,)),
            ("steps", ()),
            ("fc.0.weight", (4, 2)),
            ("fc.0.bias", (4,)),
            ("fc.2.weight", (3, 4)),
            ("fc.2.bias", (3,)),
            ("head.weight", (1, 3)),
        ],
    ),
]


@pytest.mark.parametrize("make, expected", EXPECTED_STATE)
def test_state_dict_keys_and_shapes_match_pytorch(make, expected):
    state = make().state_dict()
    assert isinstance(state, OrderedDict)
    assert [(key, value.shape) for key, value in state.items()] == expected


def test_state_dict_dtypes_and_detached_values():
    bn = nn.BatchNorm2d(2)
    state = bn.state_dict()
    assert state["num_batches_tracked"].dtype == numpy.int64
    assert state["running_mean"].dtype == numpy.float32
    for value in state.values():
        assert type(value) is tg.Tensor and not value.requires_grad and value.grad_fn is None
    assert bn.state_dict(keep_vars=True)["weight"] is bn.weight
    # shares memory with the model, as PyTorch's does
    bn.weight.data[0] = 7.0
    assert state["weight"].numpy()[0] == 7.0
    assert list(nn.Linear(1, 1).state_dict(prefix="enc.")) == ["enc.weight", "enc.bias"]


# ---- load_state_dict ---------------------------------------------------------------------


def test_load_state_dict_round_trip_in_place(device):
    tg.manual_seed(0)
    source = Net(device=device)
    source.steps += 5
    tg.manual_seed(1)
    target = Net(device=device)
    params_before = list(target.parameters())
    data_before = target.fc[0].weight.data
    stale = (target.fc[0].weight ** 2).sum()  # Pow saves the old weights
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(target.parameters()) == params_before  # the same objects ...
    assert target.fc[0].weight.data is data_before  # ... and the same arrays
    with pytest.raises(RuntimeError, match="modified in place"):
        stale.backward()
    for (key, a), (_, b) in zip(source.state_dict().items(), target.state_dict().items()):
        numpy.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=key)
        assert b.device == device
    assert target.steps.item() == 5 and target.steps.dtype == numpy.int64
    x = tg.randn(3, 2, device=device)
    numpy.testing.assert_array_equal(source(x).numpy(), target(x).numpy())
    # later changes to the source do not reach the target
    source.fc[0].weight.data[...] = 0 * source.fc[0].weight.data
    assert target.fc[0].weight.numpy().any()


def test_load_state_dict_accepts_numpy_arrays_and_casts():
    lin = nn.Linear(2, 3)
    weights = numpy.arange(6, dtype=numpy.float64).reshape(3, 2)
    lin.load_state_dict({"weight": weights, "bias": numpy.ones(3)})
    assert lin.weight.dtype == numpy.float32
    numpy.testing.assert_array_equal(lin.weight.numpy(), weights)
    numpy.testing.assert_array_equal(lin.bias.numpy(), numpy.ones(3))


def test_load_state_dict_reports_every_problem_and_copies_nothing():
    lin = nn.Linear(2, 3)
    before = lin.bias.numpy().copy()
    bad = {"weight": numpy.zeros((2, 3)), "bais": numpy.zeros(3)}
    with pytest.raises(RuntimeError) as info:
        lin.load_state_dict(bad)
    message = str(info.value)
    assert "Error(s) in loading state_dict for Linear" in message
    assert "Missing key(s) in state_dict: 'bias'" in message
    assert "Unexpected key(s) in state_dict: 'bais'" in message
    assert "size mismatch for 'weight'" in message and "(2, 3)" in message and "(3, 2)" in message
    numpy.testing.assert_array_equal(lin.bias.numpy(), before)
    with pytest.raises(RuntimeError, match="expected a Tensor or a NumPy array"):
        lin.load_state_dict({"weight": [[0.0, 0.0]] * 3, "bias": numpy.zeros(3)})


def test_load_state_dict_not_strict():
    lin = nn.Linear(2, 3)
    result = lin.load_state_dict({"bias": numpy.zeros(3), "extra": numpy.zeros(1)}, strict=False)
    assert result.missing_keys == ["weight"] and result.unexpected_keys == ["extra"]
    assert (lin.bias.numpy() == 0).all()
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are always checked
        lin.load_state_dict({"bias": numpy.zeros(4)}, strict=False)


def test_load_state_dict_across_devices(device):
    source = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    target = nn.Sequential(nn.Linear(2, 2, device=device), nn.BatchNorm1d(2, device=device))
    target.load_state_dict(source.state_dict())
    for a, b in zip(source.state_dict().values(), target.state_dict().values()):
        assert b.device == device
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())


# ---- repr ----------------------------------------------------------------------------------


def test_repr_matches_pytorch_layout():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Tanh(), nn.Dropout(0.1)))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Tanh()\n"
        "    (1): Dropout(p=0.1)\n"
        "  )\n"
        ")"
    )
    assert repr(Net()) == (
        "Net(\n"
        "  (fc): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=4, bias=True)\n"
        "    (1): ReLU()\n"
        "    (2): Linear(in_features=4, out_features=3, bias=True)\n"
        "  )\n"
        "  (head): Linear(in_features=3, out_features=1, bias=False)\n"
        ")"
    )


@pytest.mark.parametrize(
    "layer, text",
    [
        (nn.Conv2d(1, 6, 3), "Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))"),
        (
            nn.Conv2d(2, 4, (3, 5), stride=2, padding=1, bias=False),
            "Conv2d(2, 4, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), bias=False)",
        ),
        (
            nn.BatchNorm2d(4),
            "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
        ),
        (nn.LayerNorm(8), "LayerNorm((8,), eps=1e-05, elementwise_affine=True)"),
        (nn.Embedding(10, 3), "Embedding(10, 3)"),
        (
            nn.LSTM(3, 5, num_layers=2, batch_first=True),
            "LSTM(3, 5, num_layers=2, batch_first=True)",
        ),
        (nn.RNN(3, 5), "RNN(3, 5)"),
        (nn.LeakyReLU(0.2), "LeakyReLU(negative_slope=0.2)"),
        (nn.GELU(), "GELU(approximate='none')"),
        (nn.Softmax(dim=1), "Softmax(dim=1)"),
        (nn.Flatten(), "Flatten(start_dim=1, end_dim=-1)"),
        (nn.MaxPool2d(2), "MaxPool2d(kernel_size=2, stride=2, padding=0)"),
        (nn.MSELoss(), "MSELoss()"),
    ],
)
def test_layer_repr(layer, text):
    assert repr(layer) == text


# ---- devices and dtypes ---------------------------------------------------------------------


def test_to_moves_everything_in_place_and_training_still_works(device):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
    reference = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
    reference.load_state_dict(model.state_dict())
    x_host = numpy.random.default_rng(0).standard_normal((16, 2)).astype(numpy.float32)
    y_host = numpy.sin(x_host.sum(axis=1, keepdims=True))
    model(tg.Tensor(x_host)).sum().backward()  # a gradient that must move too
    params = list(model.parameters())
    assert model.to(device) is model
    assert list(model.parameters()) == params  # same objects: optimizers keep working
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        assert t.device == device, name
        assert type(t.data) is t.device.array_type, name
    assert all(p.grad.device == device for p in params)
    assert model[1].num_batches_tracked.dtype == numpy.int64
    model.zero_grad()

    x, y = tg.Tensor(x_host, device=device), tg.Tensor(y_host, device=device)
    losses = []
    for _ in range(30):
        loss = nn.MSELoss()(model(x), y)
        model.zero_grad()
        loss.backward()
        with tg.no_grad():
            for p in model.parameters():
                p -= p.grad * 0.1
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]

    # the same steps on the CPU give the same numbers: nothing was lost in the move
    x_cpu, y_cpu = tg.Tensor(x_host), tg.Tensor(y_host)
    for _ in range(30):
        loss = nn.MSELoss()(reference(x_cpu), y_cpu)
        reference.zero_grad()
        loss.backward()
        with tg.no_grad():
            for p in reference.parameters():
                p -= p.grad * 0.1
    numpy.testing.assert_allclose(loss.item(), losses[-1], rtol=1e-4)
    model.to("cpu")
    assert all(p.device == "cpu" for p in model.parameters())


def test_to_refuses_inputs_on_another_device():
    model = nn.Linear(2, 2).to("strict")
    with pytest.raises(RuntimeError, match="one device"):
        model(tg.zeros(1, 2))


def test_to_dtype_casts_floating_tensors_only():
    bn = nn.BatchNorm1d(3)
    bn.to(tg.float64)
    assert bn.weight.dtype == numpy.float64 and bn.running_var.dtype == numpy.float64
    assert bn.num_batches_tracked.dtype == numpy.int64
    lin = nn.Linear(2, 2).double()
    assert lin(tg.zeros(1, 2, dtype=tg.float64)).dtype == numpy.float64
    assert lin.float().weight.dtype == numpy.float32


def test_sequential_and_modulelist_behave_like_lists():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(seq) == 3 and isinstance(seq[-1], nn.Linear) and seq[0] is list(seq)[0]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh) and list(seq._modules) == ["0", "1", "2"]
    seq.append(nn.Sigmoid())
    assert [n for n, _ in seq.named_children()] == ["0", "1", "2", "3"]
    with pytest.raises(IndexError):
        seq[4]
    named = nn.Sequential(OrderedDict([("enc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias"]

    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.Linear(2, 1))
    layers.insert(0, nn.Identity())
    assert len(layers) == 4 and isinstance(layers[0], nn.Identity)
    assert [n for n, _ in layers.named_parameters()][:2] == ["1.weight", "1.bias"]
    assert len(layers[1:]) == 3 and len(list(iter(layers))) == 4


def test_optimizer_made_before_the_move_keeps_working(device):
    from tinygrad_edu import optim

    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    opt = optim.SGD(model.parameters(), lr=0.1)  # before to(): holds the same Parameters
    model.to(device)
    x = tg.Tensor(numpy.random.default_rng(1).standard_normal((32, 3)), device=device)
    y = (x * x).sum(axis=1, keepdims=True) * 0.1
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = nn.MSELoss()(model(x.astype(tg.float32)), y.astype(tg.float32))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_state_dict_survives_save_and_load(tmp_path, device):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 2))
    model(tg.randn(3, 1, 4, 4))  # running statistics and the batch count change
    path = tmp_path / "model.npz"
    tg.save(model.state_dict(), path)
    fresh = nn.Sequential(
        nn.Conv2d(1, 2, 3, device=device),
        nn.BatchNorm2d(2, device=device),
        nn.Flatten(),
        nn.Linear(8, 2, device=device),
    )
    fresh.load_state_dict(tg.load(path))
    assert fresh[1].num_batches_tracked.item() == 1
    model.eval()
    fresh.eval()
    x = tg.randn(2, 1, 4, 4)
    numpy.testing.assert_allclose(
        fresh(x.to(device)).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-7
    )


def test_module_calls_are_logged_for_drawings_only_when_a_graph_is_made():
    from tinygrad_edu import autograd

    model = tg.nn.Sequential(tg.nn.Linear(2, 2), tg.nn.Tanh())
    x = tg.ones(3, 2)

    def last():
        return autograd.SCOPES[-1] if autograd.SCOPES else None

    before = last()
    with tg.no_grad():
        model(x)
    assert last() is before  # no graph, nothing to box: the call costs no log entry
    model(x)
    assert last()[0]() is model  # the outer call ends last
