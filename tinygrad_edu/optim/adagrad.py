"""`Adagrad`: per-element learning rates from the sum of all squared gradients so far."""

import numpy

from ..autograd import host_function
from .optimizer import Optimizer


@host_function
def _decayed_lr(step_count, lr, lr_decay, device, dtype):
    """lr / (1 + (t - 1) * lr_decay) for step t = float(step_count) (a device sync on a GPU,
    as in PyTorch), rounded to the parameter's dtype as NumPy rounds a Python float in
    `clr * x`.  A function of its own so that tg.jit records it as one step and calls it
    again on every replay.  The parameters of one step share their step count, so the
    latest result is kept and handed out again (the array is only read)."""
    step = float(step_count)
    key = (step, lr, lr_decay, device.name, dtype)
    if _latest[0] != key:
        _latest[:] = key, device.xp.asarray(lr / (1 + (step - 1) * lr_decay), dtype=dtype)
    return _latest[1]


_latest = [None, None]  # (arguments, result) of the latest _decayed_lr


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False), the update of torch.optim.Adagrad.

    For each parameter p with gradient g, at step t = 1, 2, ...:
        g = -g                                     if maximize
        g = g + weight_decay * p                   if weight_decay != 0
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                 (sum, starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    State: "step" (a 0-d float32 array) and "sum", made at construction as PyTorch does.
    """

    __slots__ = ()
    _per_element_state = ("sum",)

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        if lr < 0:
            raise ValueError(f"Adagrad: invalid learning rate {lr}; it must be >= 0")
        if lr_decay < 0:
            raise ValueError(f"Adagrad: invalid lr_decay {lr_decay}; it must be >= 0")
        if weight_decay < 0:
            raise ValueError(f"Adagrad: invalid weight_decay {weight_decay}; it must be >= 0")
        if initial_accumulator_value < 0:
            raise ValueError(
                f"Adagrad: invalid initial_accumulator_value {initial_accumulator_value}; "
                "it must be >= 0"
            )
        if eps < 0:
            raise ValueError(f"Adagrad: invalid eps {eps}; it must be >= 0")
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        state["step"] = p.xp.zeros((), dtype=numpy.float32)
        state["sum"] = p.xp.full_like(p.data, group["initial_accumulator_value"])
        return state

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            lr_decay = float(group["lr_decay"])
            weight_decay = float(group["weight_decay"])
            eps = float(group["eps"])
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p.xp
                grad = p.grad.data
                state = self.state[p]
                if not state:  # a group added after construction
                    state = self._init_state(p, group)
                step_count = state["step"]
                step_count += 1
                clr = _decayed_lr(step_count, lr, lr_decay, p.device, p.dtype)
                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data
                state_sum = state["sum"]
                state_sum += grad * grad
                std = xp.sqrt(state_sum)
                std += eps
                p.data -= clr * (grad / std)
                p._bump_version()
        return loss
