"""Optimizers: every update rule against a plain NumPy (float64) reference written here
from PyTorch's documented algorithm, plus in-place updates, parameter groups, state
dicts and L-BFGS.

References (the algorithm boxes of the PyTorch docs): torch.optim.SGD, Adam, AdamW,
RMSprop, Adagrad (https://pytorch.org/docs/stable/generated/torch.optim.<Name>.html).
Two places where PyTorch's docs and code differ follow the code, which current docs
match for Adam: AMSGrad keeps the max of the *uncorrected* second moment (pytorch
issue #142323, fixed in the docs by PR #142351), and SGD's `maximize` negates the
gradient before weight decay (the code since 2.0; the docs box adds lr * g at the end).
"""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import optim
from tinygrad_edu.optim.lbfgs import _cubic_interpolate, _strong_wolfe

# Values exactly representable in float32, so float32 and float64 runs see the same inputs.
P0 = np.array([0.5, -1.5, 2.0, 0.25])
GRADS = [
    np.array([0.5, -1.25, 3.0, 0.0]),
    np.array([0.25, -0.75, -2.0, 0.125]),
    np.array([-0.5, 0.5, 0.0625, 0.25]),
    np.array([1.0, -0.25, 0.03125, -0.5]),
    np.array([0.75, 1.5, -0.015625, 0.0]),
]


# ---- references: the documented algorithms, float64, no tinygrad ---------------------


def ref_sgd(
    p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    p, b, out = p.copy(), None, []
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        if momentum:
            b = g.copy() if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        out.append(p)
    return np.array(out)


def ref_adam(
    p,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
    max_of_corrected=False,  # the pre-2025 docs' AMSGrad (not PyTorch's code), for one check
):
    beta1, beta2 = betas
    p, out = p.copy(), []
    m, v, v_max = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad and max_of_corrected:
            v_max = np.maximum(v_max, v / (1 - beta2**t))
            v_hat = v_max
        elif amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return np.array(out)


def ref_rmsprop(
    p,
    grads,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    p, out = p.copy(), []
    v, g_ave, b = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        g = -g if maximize else g
        if weight_decay:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        v_tilde = v
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave**2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            p = p - lr * b
        else:
            p = p - lr * g / (np.sqrt(v_tilde) + eps)
        out.append(p)
    return np.array(out)


def ref_adagrad(
    p,
    grads,
    lr=1e-2,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
    maximize=False,
):
    p, out = p.copy(), []
    state_sum = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        lr_t = lr / (1 + (t - 1) * lr_decay)
        if weight_decay:
            g = g + weight_decay * p
        state_sum = state_sum + g**2
        p = p - lr_t * g / (np.sqrt(state_sum) + eps)
        out.append(p)
    return np.array(out)


# (id, optimizer class, keyword arguments, reference, reference keyword arguments)
CASES = [
    ("sgd", optim.SGD, dict(lr=0.1), ref_sgd, {}),
    ("sgd-momentum", optim.SGD, dict(lr=0.1, momentum=0.9), ref_sgd, {}),
    ("sgd-dampening", optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.3), ref_sgd, {}),
    ("sgd-nesterov", optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), ref_sgd, {}),
    ("sgd-weight-decay", optim.SGD, dict(lr=0.1, weight_decay=0.2), ref_sgd, {}),
    ("sgd-maximize", optim.SGD, dict(lr=0.1, maximize=True), ref_sgd, {}),
    (
        "sgd-all",
        optim.SGD,
        dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True, maximize=True),
        ref_sgd,
        {},
    ),
    ("adam", optim.Adam, dict(lr=0.1), ref_adam, {}),
    ("adam-amsgrad", optim.Adam, dict(lr=0.1, amsgrad=True), ref_adam, {}),
    ("adam-amsgrad-fast", optim.Adam, dict(lr=0.1, betas=(0.5, 0.7), amsgrad=True), ref_adam, {}),
    ("adam-weight-decay", optim.Adam, dict(lr=0.1, weight_decay=0.3), ref_adam, {}),
    (
        "adam-betas-eps-maximize",
        optim.Adam,
        dict(lr=0.1, betas=(0.5, 0.7), eps=1e-3, maximize=True, amsgrad=True),
        ref_adam,
        {},
    ),
    ("adamw", optim.AdamW, dict(lr=0.1), ref_adam, dict(decoupled=True, weight_decay=1e-2)),
    (
        "adamw-amsgrad",
        optim.AdamW,
        dict(lr=0.1, weight_decay=0.5, amsgrad=True),
        ref_adam,
        dict(decoupled=True),
    ),
    ("rmsprop", optim.RMSprop, dict(lr=0.01), ref_rmsprop, {}),
    ("rmsprop-momentum", optim.RMSprop, dict(lr=0.01, momentum=0.9), ref_rmsprop, {}),
    ("rmsprop-centered", optim.RMSprop, dict(lr=0.01, centered=True), ref_rmsprop, {}),
    (
        "rmsprop-all",
        optim.RMSprop,
        dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1, maximize=True),
        ref_rmsprop,
        {},
    ),
    ("adagrad", optim.Adagrad, dict(lr=0.1), ref_adagrad, {}),
    (
        "adagrad-decay-init",
        optim.Adagrad,
        dict(lr=0.1, lr_decay=0.5, initial_accumulator_value=0.25),
        ref_adagrad,
        {},
    ),
    (
        "adagrad-weight-decay-maximize",
        optim.Adagrad,
        dict(lr=0.1, weight_decay=0.2, eps=1e-3, maximize=True),
        ref_adagrad,
        {},
    ),
]


def run_optimizer(device, make, grads=GRADS, p0=P0, dtype=np.float32):
    """Steps of `make([p])` with the given gradients; the parameter after each step."""
    p = tg.Tensor(p0.astype(dtype), requires_grad=True, device=device)
    opt = make([p])
    array = p.data
    trajectory = []
    for g in grads:
        p.grad = tg.Tensor(g.astype(dtype), device=device)
        opt.step()
        assert p.data is array  # updated in place, never replaced
        trajectory.append(p.numpy().astype(np.float64))
    return np.array(trajectory), p, opt


@pytest.mark.parametrize("name, cls, kwargs, ref, ref_extra", CASES, ids=[c[0] for c in CASES])
def test_matches_documented_algorithm(device, name, cls, kwargs, ref, ref_extra):
    ours, p, opt = run_optimizer(device, lambda params: cls(params, **kwargs))
    expected = ref(P0, GRADS, **kwargs, **ref_extra)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-7)
    for value in opt.state[p].values():  # buffers live on the parameter's device
        assert type(value) is type(p.data)


@pytest.mark.parametrize("name, cls, kwargs, ref, ref_extra", CASES, ids=[c[0] for c in CASES])
def test_float64_parameters_match_tightly(name, cls, kwargs, ref, ref_extra):
    ours, _, _ = run_optimizer("cpu", lambda params: cls(params, **kwargs), dtype=np.float64)
    np.testing.assert_allclose(ours, ref(P0, GRADS, **kwargs, **ref_extra), rtol=1e-12)


def test_options_change_the_reference():
    """The gradient sequence is chosen so that each option matters (else the
    comparisons above could not tell an option from its absence)."""
    fast = dict(lr=0.1, betas=(0.5, 0.7))  # v falls quickly, so its maximum matters
    plain_adam = ref_adam(P0, GRADS, **fast)
    amsgrad = ref_adam(P0, GRADS, amsgrad=True, **fast)
    assert np.abs(amsgrad - plain_adam).max() > 1e-3
    other = ref_adam(P0, GRADS, amsgrad=True, max_of_corrected=True, **fast)
    assert np.abs(amsgrad - other).max() > 1e-3
    plain_rms = ref_rmsprop(P0, GRADS)
    assert np.abs(ref_rmsprop(P0, GRADS, centered=True) - plain_rms).max() > 1e-3
    momentum = ref_sgd(P0, GRADS, lr=0.1, momentum=0.9)
    assert np.abs(ref_sgd(P0, GRADS, lr=0.1, momentum=0.9, dampening=0.3) - momentum).max() > 1e-3
    assert np.abs(ref_sgd(P0, GRADS, lr=0.1, momentum=0.9, nesterov=True) - momentum).max() > 1e-3
    adagrad = ref_adagrad(P0, GRADS, lr=0.1)
    assert np.abs(ref_adagrad(P0, GRADS, lr=0.1, lr_decay=0.5) - adagrad).max() > 1e-3


def test_first_steps_by_hand(device):
    """Step 1 of each rule worked out on paper (bias corrections cancel for Adam)."""
    g, eps = GRADS[0], 1e-8

    def first(make):
        return run_optimizer(device, make, grads=[g])[0][0]

    np.testing.assert_allclose(first(lambda ps: optim.SGD(ps, lr=0.1)), P0 - 0.1 * g, rtol=1e-6)
    # Adam: m_hat = g, v_hat = g*g, so p - lr * g / (|g| + eps)
    adam = P0 - 0.1 * g / (np.abs(g) + eps)
    np.testing.assert_allclose(first(lambda ps: optim.Adam(ps, lr=0.1)), adam, rtol=1e-6)
    adamw = P0 * (1 - 0.1 * 0.5) - 0.1 * g / (np.abs(g) + eps)
    got = first(lambda ps: optim.AdamW(ps, lr=0.1, weight_decay=0.5))
    np.testing.assert_allclose(got, adamw, rtol=1e-6)
    # RMSprop: v = (1 - alpha) g*g
    rms = P0 - 0.01 * g / (math.sqrt(0.01) * np.abs(g) + eps)
    np.testing.assert_allclose(first(lambda ps: optim.RMSprop(ps, lr=0.01)), rms, rtol=1e-6)
    # Adagrad: sum = g*g
    ada = P0 - 0.1 * g / (np.abs(g) + 1e-10)
    np.testing.assert_allclose(first(lambda ps: optim.Adagrad(ps, lr=0.1)), ada, rtol=1e-6)


# ---- in place, versions, gradients -----------------------------------------------------

ALL = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.1, centered=True, momentum=0.5),
    lambda ps: optim.Adagrad(ps, lr=0.1),
]
ALL_IDS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_step_is_in_place_and_invalidates_saved_graphs(device, make):
    p = tg.Tensor([1.0, -2.0, 3.0], requires_grad=True, device=device)
    opt = make([p])
    saved = (p * p).sum()  # Mul saves p for its backward
    (p * 3.0).sum().backward()
    array, array_id = p.data, id(p.data)
    opt.step()
    assert p.data is array and id(p.data) == array_id
    assert not np.allclose(p.numpy(), [1.0, -2.0, 3.0])
    with pytest.raises(RuntimeError, match="in place"):
        saved.backward()


def test_graph_built_after_step_is_fine(device):
    p = tg.Tensor([1.0, -2.0], requires_grad=True, device=device)
    opt = optim.SGD([p], lr=0.5)
    (p * p).sum().backward()
    opt.step()  # p = [0, 0]
    opt.zero_grad()
    loss = ((p - 1.0) * (p - 1.0)).sum()
    loss.backward()
    np.testing.assert_allclose(p.grad.numpy(), [-2.0, -2.0])


def test_zero_grad(device):
    a = tg.Tensor([1.0, 2.0], requires_grad=True, device=device)
    b = tg.Tensor([[3.0]], requires_grad=True, device=device)
    opt = optim.SGD([a, b], lr=0.1)
    opt.zero_grad()  # no gradients yet: nothing to do
    ((a * a).sum() + (b * 2.0).sum()).backward()
    grad_b = b.grad
    opt.zero_grad(set_to_none=False)
    assert b.grad is grad_b  # zeroed in place, as PyTorch
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [[0.0]])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_zero_grad_drops_a_recorded_gradient(device):
    p = tg.Tensor([2.0], requires_grad=True, device=device)
    (p * p * p).sum().backward(create_graph=True)
    assert p.grad.grad_fn is not None
    optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    assert p.grad.grad_fn is None
    np.testing.assert_array_equal(p.grad.numpy(), [0.0])


@pytest.mark.parametrize("make", ALL, ids=ALL_IDS)
def test_parameters_without_gradient_are_skipped(device, make):
    a = tg.Tensor([1.0, 2.0], requires_grad=True, device=device)
    b = tg.Tensor([3.0, 4.0], requires_grad=True, device=device)
    opt = make([a, b])
    (a * a).sum().backward()
    opt.step()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), [3.0, 4.0])
    assert float(opt.state[b].get("step", 0)) == 0  # no buffers advanced for b
    assert not np.allclose(a.numpy(), [1.0, 2.0])


def test_momentum_buffer_survives_zero_grad_in_place(device):
    """zero_grad(set_to_none=False) zeroes gradients in place; the momentum buffer must be
    the optimizer's own array, not the first gradient's."""
    p = tg.Tensor(P0.astype(np.float32), requires_grad=True, device=device)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    for g in GRADS:
        opt.zero_grad(set_to_none=False)
        (p * tg.Tensor(g.astype(np.float32), device=device)).sum().backward()
        opt.step()
    expected = ref_sgd(P0, GRADS, lr=0.1, momentum=0.9)[-1]
    np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_closure_is_evaluated_and_its_loss_returned(device):
    p = tg.Tensor([3.0], requires_grad=True, device=device)
    opt = optim.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss) == 9.0
    np.testing.assert_allclose(p.numpy(), [3.0 - 0.25 * 6.0])
    assert opt.step() is None


def test_param_groups_with_different_hyper_parameters(device):
    a = tg.Tensor([1.0, 1.0], requires_grad=True, device=device)
    b = tg.Tensor([1.0], requires_grad=True, device=device)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    for _ in range(2):
        opt.zero_grad()
        ((a * 2.0).sum() + (b * 4.0).sum()).backward()
        opt.step()
    np.testing.assert_allclose(a.numpy(), ref_sgd(np.ones(2), [np.full(2, 2.0)] * 2, 0.1)[-1])
    expected_b = ref_sgd(np.ones(1), [np.full(1, 4.0)] * 2, 0.5, momentum=0.9)[-1]
    np.testing.assert_allclose(b.numpy(), expected_b, rtol=1e-6)
    assert "momentum_buffer" not in opt.state[a] and "momentum_buffer" in opt.state[b]


# ---- construction errors ---------------------------------------------------------------


def test_construction_errors(device):
    p = tg.Tensor([1.0], requires_grad=True, device=device)
    with pytest.raises(TypeError, match="floating-point"):
        optim.SGD([tg.Tensor([1, 2], device=device)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.Adam([p * 2.0])
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.Adam(p)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.Adam([np.zeros(2)])
    with pytest.raises(ValueError, match="twice"):
        optim.Adam([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([p], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optim.Adagrad([p], initial_accumulator_value=-1)


# ---- state_dict ------------------------------------------------------------------------

ROUND_TRIP = [
    lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, weight_decay=0.1),
    lambda ps: optim.AdamW(ps, lr=0.1),
    lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
    lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.3),
]


def _two_params(device, values=None):
    values = values or (P0, np.array([[0.5, -0.25], [1.0, 2.0]]))
    return [tg.Tensor(v.astype(np.float32), requires_grad=True, device=device) for v in values]


def _train(opt, params, steps, start=0):
    for k in range(start, start + steps):
        opt.zero_grad()
        loss = (params[0] * params[0] * (k + 1.0)).sum() + (params[1] * params[1] * params[1]).sum()
        loss.backward()
        opt.step()


@pytest.mark.parametrize("make", ROUND_TRIP, ids=ALL_IDS)
def test_state_dict_round_trip_continues_the_same_trajectory(device, make):
    uninterrupted = _two_params(device)
    _train(make(uninterrupted), uninterrupted, 6)

    first = _two_params(device)
    opt1 = make(first)
    _train(opt1, first, 3)
    saved = opt1.state_dict()
    halfway = [p.numpy().copy() for p in first]
    for values in saved["state"].values():
        for value in values.values():
            assert isinstance(value, np.ndarray)  # host arrays, even from the strict device
    _train(opt1, first, 2, start=3)  # later steps must not change what was saved

    resumed = _two_params(device, halfway)
    opt2 = make(resumed)
    opt2.param_groups[0]["lr"] = 123.0  # overwritten by the loaded hyper-parameters
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt1.param_groups[0]["lr"]
    _train(opt2, resumed, 3, start=3)
    for p, q in zip(resumed, uninterrupted):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    for values in opt2.state.values():
        for value in values.values():
            assert type(value) is type(resumed[0].data)


def test_state_dict_layout(device):
    a, b = _two_params(device)
    c = tg.Tensor([1.0], requires_grad=True, device=device)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1)
    ((a * a).sum() + (c * c).sum()).backward()
    opt.step()
    saved = opt.state_dict()
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2]]
    assert saved["param_groups"][1]["lr"] == 0.5 and saved["param_groups"][0]["betas"] == (
        0.9,
        0.999,
    )
    assert sorted(saved["state"]) == [0, 2]  # b had no gradient: no state
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert float(saved["state"][2]["step"]) == 1.0
    np.testing.assert_allclose(saved["state"][2]["exp_avg"], [0.1 * 2.0])


def test_load_state_dict_errors(device):
    a, b = _two_params(device)
    opt = optim.Adam([a, b], lr=0.1)
    ((a * a).sum() + (b * b).sum()).backward()
    opt.step()
    saved = opt.state_dict()

    with pytest.raises(ValueError, match="2 parameter\\(s\\) in the state dict but 1"):
        optim.Adam([tg.Tensor(P0, requires_grad=True, device=device)]).load_state_dict(saved)
    x, y = _two_params(device)
    with pytest.raises(ValueError, match="1 parameter group\\(s\\) but this optimizer has 2"):
        optim.Adam([{"params": [x]}, {"params": [y]}]).load_state_dict(saved)
    swapped = [y, x]  # same count, wrong shapes
    with pytest.raises(ValueError, match="shape"):
        optim.Adam(swapped).load_state_dict(saved)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        optim.Adam([x, y]).load_state_dict({"exp_avg": 1})
    target = optim.Adam([x, y], lr=0.7)
    bad = {"state": {5: {}}, "param_groups": saved["param_groups"]}
    with pytest.raises(ValueError, match="parameter 5"):
        target.load_state_dict(bad)
    assert target.param_groups[0]["lr"] == 0.7  # a failed load changes nothing


# ---- L-BFGS ----------------------------------------------------------------------------


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def rosenbrock_grad(x):
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def _rosenbrock_closure(opt, x, calls):
    def closure():
        calls.append(1)
        opt.zero_grad()
        a, b = x[0], x[1]
        loss = (1.0 - a) * (1.0 - a) + 100.0 * (b - a * a) * (b - a * a)
        loss.backward()
        return loss

    return closure


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_minimises_rosenbrock(device, line_search_fn):
    x = tg.Tensor([-1.5, 2.0], requires_grad=True, device=device)
    opt = optim.LBFGS([x], line_search_fn=line_search_fn)
    calls = []
    closure = _rosenbrock_closure(opt, x, calls)
    array = x.data
    first = opt.step(closure)
    assert float(first) == pytest.approx(rosenbrock([-1.5, 2.0]))
    for _ in range(14):
        opt.step(closure)
    assert x.data is array
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], atol=1e-4)
    assert opt.state[x]["func_evals"] == len(calls)
    assert opt.state[x]["n_iter"] >= 10


def test_lbfgs_first_iteration_by_hand(device):
    """First iteration: d = -g, t = min(1, 1/sum|g|) * lr; with max_iter=1 and no line
    search the closure runs once."""
    w = np.array([1.0, 3.0, 0.5])
    c = np.array([0.25, -0.5, 2.0])
    x0 = np.array([2.0, 1.0, -1.0])
    x = tg.Tensor(x0, requires_grad=True, device=device)
    opt = optim.LBFGS([x], lr=0.8, max_iter=1)
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = ((x - tg.Tensor(c, device=device)) ** 2 * tg.Tensor(w, device=device)).sum()
        loss.backward()
        return loss

    opt.step(closure)
    g = 2 * w * (x0 - c)
    np.testing.assert_allclose(x.numpy(), x0 - min(1.0, 1.0 / np.abs(g).sum()) * 0.8 * g)
    assert len(calls) == 1 and opt.state[x]["func_evals"] == 1


def lbfgs_reference(grad, x, lr, iterations, history_size):
    """Fixed-step L-BFGS written from its definition: the inverse-Hessian estimate H is
    built explicitly by BFGS updates H = V^T H V + rho s s^T (V = I - rho y s^T) over the
    last `history_size` pairs with positive curvature, from H0 = (y.s / y.y) I; no
    two-loop recursion."""
    n = len(x)
    pairs, gamma, trajectory = [], 1.0, []
    g = grad(x)
    g_prev = step = None  # the previous gradient and step, from iteration 2 on
    for k in range(iterations):
        if k == 0:
            d, t = -g, min(1.0, 1.0 / np.abs(g).sum()) * lr
        else:
            y, s = g - g_prev, step
            if y @ s > 1e-10:
                pairs = (pairs + [(s, y)])[-history_size:]
                gamma = (y @ s) / (y @ y)
            H = gamma * np.eye(n)
            for s_i, y_i in pairs:
                rho = 1.0 / (y_i @ s_i)
                V = np.eye(n) - rho * np.outer(y_i, s_i)
                H = V.T @ H @ V + rho * np.outer(s_i, s_i)
            d, t = -H @ g, lr
        step = t * d
        x = x + step
        g_prev, g = g, grad(x)
        trajectory.append(x)
    return np.array(trajectory)


def test_lbfgs_matches_explicit_bfgs_reference(device):
    """Several steps over two parameters (a matrix and a vector, one flat view) on an
    ill-conditioned quadratic, with a history shorter than the run."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    A = q @ np.diag([1.0, 2.0, 5.0, 10.0, 30.0]) @ q.T
    b = rng.normal(size=5)
    z0 = rng.normal(size=5)
    W = tg.Tensor(z0[:4].reshape(2, 2), requires_grad=True, device=device)
    v = tg.Tensor(z0[4:], requires_grad=True, device=device)
    A_t, b_t = tg.Tensor(A, device=device), tg.Tensor(b, device=device)
    # max_eval above its default (3 * 5 // 4 = 3, which would end each step after 2 iterations)
    opt = optim.LBFGS([W, v], lr=0.5, max_iter=3, max_eval=10, history_size=2)

    def closure():
        opt.zero_grad()
        z = tg.concatenate([W.reshape(-1), v])
        loss = 0.5 * (z * (A_t @ z)).sum() - (b_t * z).sum()
        loss.backward()
        return loss

    ours = []
    for _ in range(3):
        opt.step(closure)
        ours.append(np.concatenate([W.numpy().ravel(), v.numpy()]))
    expected = lbfgs_reference(lambda z: A @ z - b, z0, 0.5, 9, 2)[2::3]
    np.testing.assert_allclose(np.array(ours), expected, rtol=1e-9, atol=1e-12)
    assert opt.state[W]["n_iter"] == 9
    assert len(opt.state[W]["old_dirs"]) == 2  # the history was cut to history_size


SCALES = np.array([1.0, 4.0])

WOLFE_PROBLEMS = {
    # from (-1.5, 2) the first trial step is too long: the zoom phase runs
    "rosenbrock": ([-1.5, 2.0], rosenbrock, rosenbrock_grad, None),
    # from far away the first trial step (t = 1 / sum|g|) is too short: t must grow
    "quadratic": (
        [100.0, -50.0],
        lambda x: 0.5 * (SCALES * x**2).sum(),
        lambda x: SCALES * x,
        lambda x: 0.5 * (x * x * tg.Tensor(SCALES, device=x.device)).sum(),
    ),
}


@pytest.mark.parametrize("problem", list(WOLFE_PROBLEMS))
def test_lbfgs_strong_wolfe_step_satisfies_the_wolfe_conditions(device, problem):
    x_start, f, grad, tg_f = WOLFE_PROBLEMS[problem]
    x = tg.Tensor(np.array(x_start), requires_grad=True, device=device)
    opt = optim.LBFGS([x], max_iter=1, line_search_fn="strong_wolfe")
    if tg_f is None:
        closure = _rosenbrock_closure(opt, x, [])
    else:

        def closure():
            opt.zero_grad()
            loss = tg_f(x)
            loss.backward()
            return loss

    for _ in range(4):
        x0 = x.numpy().copy()
        g0 = grad(x0)
        opt.step(closure)
        state = opt.state_dict()["state"][0]
        t, d = state["t"], state["d"]
        x1 = x.numpy()
        np.testing.assert_allclose(x1, x0 + t * d, rtol=1e-12)
        assert g0 @ d < 0
        assert f(x1) <= f(x0) + 1e-4 * t * (g0 @ d)  # sufficient decrease
        assert abs(grad(x1) @ d) <= 0.9 * abs(g0 @ d)  # curvature


def test_lbfgs_strong_wolfe_extrapolates_a_short_first_step(device):
    """On 0.5 * (x0^2 + 4 x1^2) from (100, -50): g = (100, -200), d = -g, g.d = -50000,
    so the first trial step is t = 1 / sum|g| = 1/300.  There |g(t).d| = 49433 > 0.9 * 50000
    (too short); the exact line minimum t* = g.g / g.Sg = 0.29 lies beyond the largest
    allowed extrapolation 10 t = 1/30, and at 1/30 |g.d| = 44333 <= 45000: accepted."""
    _, _, _, tg_f = WOLFE_PROBLEMS["quadratic"]
    x = tg.Tensor(np.array([100.0, -50.0]), requires_grad=True, device=device)
    opt = optim.LBFGS([x], max_iter=1, line_search_fn="strong_wolfe")
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = tg_f(x)
        loss.backward()
        return loss

    opt.step(closure)
    assert opt.state[x]["t"] == pytest.approx(1 / 30, rel=1e-12)
    np.testing.assert_allclose(x.numpy(), [100.0 - 100.0 / 30, -50.0 + 200.0 / 30])
    assert len(calls) == 3 == opt.state[x]["func_evals"]  # start, t = 1/300, t = 1/30


def test_strong_wolfe_line_search_on_wiggly_functions():
    """phi(x) = x^2 / 2 + A sin(k x) + x / 10 has many local minima; from each start and
    first trial step the search must return a point meeting both strong Wolfe conditions."""
    checked = 0
    for k in (3.0, 7.0, 13.0, 29.0):
        for amplitude in (0.1, 0.5, 2.0):

            def f(x, k=k, a=amplitude):
                return float(0.5 * x[0] ** 2 + a * np.sin(k * x[0]) + 0.1 * x[0])

            def grad(x, k=k, a=amplitude):
                return np.array([x[0] + a * k * np.cos(k * x[0]) + 0.1])

            def evaluate(x, t, d, f=f, grad=grad):
                return f(x + t * d), grad(x + t * d)

            for x0 in (3.0, -2.0, 5.5):
                x = np.array([x0])
                g = grad(x)
                d = -g
                gtd = float(g @ d)
                for t0 in (0.01, 0.1, 1.0, 5.0, 20.0):
                    f_new, g_new, t, evals = _strong_wolfe(evaluate, x, t0, d, f(x), g, gtd)
                    assert f_new == f(x + t * d) and 1 <= evals <= 26
                    assert f_new <= f(x) + 1e-4 * t * gtd, (k, amplitude, x0, t0)
                    assert abs(float(g_new @ d)) <= -0.9 * gtd, (k, amplitude, x0, t0)
                    checked += 1
    assert checked == 180


def test_lbfgs_step_invalidates_saved_graphs(device):
    x = tg.Tensor([-1.5, 2.0], requires_grad=True, device=device)
    opt = optim.LBFGS([x], max_iter=2)
    saved = (x * x).sum()
    opt.step(_rosenbrock_closure(opt, x, []))
    with pytest.raises(RuntimeError, match="in place"):
        saved.backward()


def test_lbfgs_respects_max_iter_and_max_eval(device):
    x = tg.Tensor([-1.5, 2.0], requires_grad=True, device=device)
    opt = optim.LBFGS([x], max_iter=100, max_eval=7)
    calls = []
    opt.step(_rosenbrock_closure(opt, x, calls))
    assert len(calls) == 7 and opt.state[x]["n_iter"] == 6
    y = tg.Tensor([-1.5, 2.0], requires_grad=True, device=device)
    opt = optim.LBFGS([y], max_iter=4)
    calls = []
    opt.step(_rosenbrock_closure(opt, y, calls))
    # 4 iterations; no evaluation after the last one
    assert len(calls) == 4 and opt.state[y]["n_iter"] == 4


def test_lbfgs_stops_at_once_at_an_optimum(device):
    x = tg.Tensor([1.0, 1.0], requires_grad=True, device=device)
    opt = optim.LBFGS([x])
    calls = []
    assert float(opt.step(_rosenbrock_closure(opt, x, calls))) == 0.0
    assert len(calls) == 1
    np.testing.assert_array_equal(x.numpy(), [1.0, 1.0])


def test_lbfgs_state_dict_round_trip(device):
    def run(steps, start=(-1.5, 2.0), saved=None):
        x = tg.Tensor(np.array(start), requires_grad=True, device=device)
        opt = optim.LBFGS([x], max_iter=3, history_size=4, line_search_fn="strong_wolfe")
        if saved is not None:
            opt.load_state_dict(saved)
        closure = _rosenbrock_closure(opt, x, [])
        for _ in range(steps):
            opt.step(closure)
        return x, opt

    whole, _ = run(6)
    half, opt = run(3)
    saved = opt.state_dict()
    assert isinstance(saved["state"][0]["old_dirs"][0], np.ndarray)
    resumed, opt2 = run(3, start=half.numpy().copy(), saved=saved)
    np.testing.assert_array_equal(resumed.numpy(), whole.numpy())
    assert opt2.state[resumed]["func_evals"] > saved["state"][0]["func_evals"]


def test_lbfgs_errors(device):
    x = tg.Tensor([1.0], requires_grad=True, device=device)
    y = tg.Tensor([2.0], requires_grad=True, device=device)
    with pytest.raises(TypeError, match="closure"):
        optim.LBFGS([x]).step()
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [x]}, {"params": [y]}])
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS([x], line_search_fn="armijo")


def test_cubic_interpolation_finds_the_minimum_of_a_cubic():
    # f(x) = x^3 - 3x: local minimum at x = 1; f'(x) = 3x^2 - 3
    def f(x):
        return x**3 - 3 * x

    def df(x):
        return 3 * x**2 - 3

    assert _cubic_interpolate(0.0, f(0.0), df(0.0), 3.0, f(3.0), df(3.0)) == pytest.approx(1.0)
    assert _cubic_interpolate(3.0, f(3.0), df(3.0), 0.5, f(0.5), df(0.5)) == pytest.approx(1.0)
    # clipped to the bounds
    assert _cubic_interpolate(0.0, f(0.0), df(0.0), 3.0, f(3.0), df(3.0), (1.5, 2.0)) == 1.5
    # x^3 + x has no minimum: the middle of the bounds
    assert _cubic_interpolate(0.0, 0.0, 1.0, 1.0, 2.0, 4.0) == 0.5


def test_passing_the_model_instead_of_its_parameters_says_so():
    model = tg.nn.Linear(2, 3)
    with pytest.raises(TypeError, match=r"got the model \(Linear\) itself.*model\.parameters\(\)"):
        optim.SGD(model, lr=0.1)
    with pytest.raises(TypeError, match=r"got int; pass model\.parameters\(\)"):
        optim.Adam(3, lr=0.1)
