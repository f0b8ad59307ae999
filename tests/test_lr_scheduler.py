"""Learning-rate schedulers: exact rate sequences against the documented formulas
(https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.<Name>.html),
ReduceLROnPlateau's patience / cooldown / min_lr rules, and state dicts."""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import optim
from tinygrad_edu.optim import lr_scheduler


def make_optimizer(device, lrs=(0.1, 0.02)):
    groups = [
        {"params": [tg.Tensor([1.0, 2.0], requires_grad=True, device=device)], "lr": lr}
        for lr in lrs
    ]
    return optim.SGD(groups, lr=lrs[0])


def lr_sequence(optimizer, scheduler, epochs, metrics=None):
    """Rates of every group after construction and after each of `epochs` steps."""
    rates = [[g["lr"] for g in optimizer.param_groups]]
    for epoch in range(epochs):
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[epoch])
        rates.append([g["lr"] for g in optimizer.param_groups])
        assert scheduler.get_last_lr() == rates[-1]
    return np.array(rates)


def test_step_lr(device):
    opt = make_optimizer(device)
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    assert sched.last_epoch == 0
    assert [g["initial_lr"] for g in opt.param_groups] == [0.1, 0.02]
    got = lr_sequence(opt, sched, 13)
    expected = [[base * 0.5 ** (epoch // 3) for base in (0.1, 0.02)] for epoch in range(14)]
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert sched.last_epoch == 13


def test_exponential_lr(device):
    opt = make_optimizer(device)
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.9)
    got = lr_sequence(opt, sched, 12)
    expected = [[base * 0.9**epoch for base in (0.1, 0.02)] for epoch in range(13)]
    np.testing.assert_allclose(got, expected, rtol=1e-13)


@pytest.mark.parametrize(
    "T_max, eta_min, epochs", [(10, 0.001, 12), (5, 0.0, 23), (100, 0.01, 100)]
)
def test_cosine_annealing_equals_the_closed_form(device, T_max, eta_min, epochs):
    """PyTorch's recursive update must reproduce eta_min + (base - eta_min)(1 + cos(pi t /
    T_max)) / 2, including reaching eta_min at T_max and rising again after it."""
    opt = make_optimizer(device)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    got = lr_sequence(opt, sched, epochs)
    expected = [
        [
            eta_min + (base - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
            for base in (0.1, 0.02)
        ]
        for t in range(epochs + 1)
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-15)
    if epochs >= T_max:
        np.testing.assert_allclose(got[T_max], [eta_min, eta_min], atol=1e-15)


def test_cosine_annealing_resumed_at_an_epoch(device):
    opt = make_optimizer(device)
    lr_scheduler.CosineAnnealingLR(opt, T_max=10)  # records initial_lr in the groups
    resumed = lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=3)
    assert resumed.last_epoch == 4
    expected = 0.1 * (1 + math.cos(math.pi * 4 / 10)) / 2
    assert resumed.get_last_lr()[0] == pytest.approx(expected, rel=1e-12)


def test_resuming_needs_initial_lr(device):
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(make_optimizer(device), step_size=2, last_epoch=4)


def test_scheduled_rate_is_used_by_the_optimizer(device):
    p = tg.Tensor([1.0], requires_grad=True, device=device)
    opt = optim.SGD([p], lr=1.0)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    values = []
    for _ in range(3):
        opt.zero_grad()
        p.sum().backward()  # gradient 1
        opt.step()
        sched.step()
        values.append(float(p.item()))
    np.testing.assert_allclose(values, [0.0, -0.5, -0.75])


# ---- ReduceLROnPlateau -----------------------------------------------------------------


def test_plateau_reduces_after_patience(device):
    opt = make_optimizer(device, lrs=(1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    # epoch:   1    2    3    4    5    6    7    8    9
    metrics = [5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.5, 3.5, 3.5]
    got = lr_sequence(opt, sched, len(metrics), metrics)[1:, 0]
    # epochs 3, 4 are the first two bad epochs (tolerated), 5 the third: reduce there;
    # 6 improves; 7, 8, 9 bad: reduce at 9
    np.testing.assert_array_equal(got, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25])
    assert sched.best == 3.0 and sched.last_epoch == 9


def test_plateau_threshold_must_be_beaten(device):
    opt = make_optimizer(device, lrs=(1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, threshold=0.1)
    # rel mode: better means below best * 0.9
    got = lr_sequence(opt, sched, 3, [10.0, 9.5, 8.9])[1:, 0]
    np.testing.assert_allclose(got, [1.0, 0.1, 0.1])
    assert sched.best == 8.9


def test_plateau_max_mode_with_absolute_threshold(device):
    opt = make_optimizer(device, lrs=(1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(
        opt, mode="max", patience=1, threshold=0.5, threshold_mode="abs"
    )
    # better means above best + 0.5: 1.0 (from -inf), 1.4 no, 1.6 yes, 1.7 no, 1.8 no
    got = lr_sequence(opt, sched, 5, [1.0, 1.4, 1.6, 1.7, 1.8])[1:, 0]
    np.testing.assert_allclose(got, [1.0, 1.0, 1.0, 1.0, 0.1])


def test_plateau_cooldown(device):
    opt = make_optimizer(device, lrs=(1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, cooldown=2, factor=0.5)
    got = lr_sequence(opt, sched, 7, [1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0])[1:, 0]
    # reduce at epoch 2; epochs 3 and 4 are cooldown; epoch 5 reduces again; 6, 7 cool down
    np.testing.assert_array_equal(got, [1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25])


def test_plateau_min_lr_per_group_and_eps(device):
    opt = make_optimizer(device, lrs=(1.0, 0.1))
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.1, min_lr=[0.05, 0.0])
    got = lr_sequence(opt, sched, 4, [1.0, 1.0, 1.0, 1.0])[1:]
    np.testing.assert_allclose(got, [[1.0, 0.1], [0.1, 0.01], [0.05, 0.001], [0.05, 1e-4]])
    # a change smaller than eps is skipped
    opt = make_optimizer(device, lrs=(1e-8,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    got = lr_sequence(opt, sched, 2, [1.0, 1.0])[1:, 0]
    np.testing.assert_array_equal(got, [1e-8, 1e-8])


def test_plateau_accepts_a_tensor_metric(device):
    opt = make_optimizer(device, lrs=(1.0,))
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(tg.Tensor(2.0, device=device))
    sched.step(tg.Tensor(3.0, device=device))
    assert sched.get_last_lr() == [pytest.approx(0.1)]


def test_plateau_argument_errors(device):
    opt = make_optimizer(device)
    with pytest.raises(ValueError, match="factor"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="threshold_mode"):
        lr_scheduler.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        lr_scheduler.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(TypeError, match="optimizer"):
        lr_scheduler.StepLR("not an optimizer", step_size=1)


# ---- state dicts -----------------------------------------------------------------------

SCHEDULERS = {
    "StepLR": lambda opt: lr_scheduler.StepLR(opt, step_size=2, gamma=0.3),
    "ExponentialLR": lambda opt: lr_scheduler.ExponentialLR(opt, gamma=0.7),
    "CosineAnnealingLR": lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=6, eta_min=1e-3),
    "ReduceLROnPlateau": lambda opt: lr_scheduler.ReduceLROnPlateau(
        opt, patience=1, cooldown=1, factor=0.5
    ),
}
METRICS = [3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5]


def _advance(sched, epochs, start=0):
    for epoch in range(start, start + epochs):
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(METRICS[epoch])
        else:
            sched.step()


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_round_trip(device, name):
    make = SCHEDULERS[name]
    opt = make_optimizer(device)
    sched = make(opt)
    _advance(sched, 12)
    whole = sched.get_last_lr()

    opt1 = make_optimizer(device)
    sched1 = make(opt1)
    _advance(sched1, 5)
    saved_sched, saved_opt = sched1.state_dict(), opt1.state_dict()
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 5
    _advance(sched1, 2, start=5)  # must not change what was saved
    assert saved_sched["last_epoch"] == 5

    opt2 = make_optimizer(device)
    sched2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    assert sched2.last_epoch == 5
    _advance(sched2, 7, start=5)
    assert sched2.get_last_lr() == whole
    assert [g["lr"] for g in opt2.param_groups] == whole


def test_load_state_dict_of_another_scheduler_fails(device):
    opt = make_optimizer(device)
    step = lr_scheduler.StepLR(opt, step_size=2)
    cosine = lr_scheduler.CosineAnnealingLR(opt, T_max=3)
    with pytest.raises(ValueError, match="missing keys .*T_max.*unexpected keys .*step_size"):
        cosine.load_state_dict(step.state_dict())
