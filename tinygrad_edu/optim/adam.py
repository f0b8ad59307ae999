"""`Adam` and `AdamW`: adaptive moment estimation, with L2 or decoupled weight decay.

AdamW is Adam with one line changed (how weight decay enters), so it subclasses Adam
and sets `_decoupled_weight_decay`.
"""

import math

import numpy

from ..autograd import host_function
from .optimizer import Optimizer


@host_function
def _bias_corrections(step_count, beta1, beta2, lr, device, dtype):
    """sqrt(1 - beta2**t) and lr / (1 - beta1**t) for step t = float(step_count) (a device
    sync on a GPU, as in PyTorch), as 0-d arrays of the parameter's dtype.

    Computed in Python floats and then rounded to the parameter's dtype, which is what
    NumPy does with a Python float in `denom / x`: the same numbers as that spelling.
    A function of its own so that tg.jit records it as one step and calls it again on
    every replay (its float() reads the step count of that replay).  The parameters of
    one step share their step count, so the latest result is kept and handed out again
    (the arrays are only read)."""
    step = float(step_count)
    key = (step, beta1, beta2, lr, device.name, dtype)
    if _latest[0] != key:
        correction2 = device.xp.asarray(math.sqrt(1 - beta2**step), dtype=dtype)
        _latest[:] = key, (correction2, device.xp.asarray(lr / (1 - beta1**step), dtype=dtype))
    return _latest[1]


_latest = [None, None]  # (arguments, result) of the latest _bias_corrections


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
    *, maximize=False), the update of torch.optim.Adam.

    For each parameter p with gradient g, at step t = 1, 2, ...:
        g = -g                                     if maximize
        g = g + weight_decay * p                   if weight_decay != 0 (L2 penalty)
        m = beta1 * m + (1 - beta1) * g            (exp_avg, starts at 0)
        v = beta2 * v + (1 - beta2) * g * g        (exp_avg_sq, starts at 0)
        v_max = max(v_max, v)                      if amsgrad (max_exp_avg_sq)
        denom = sqrt(v_max or v) / sqrt(1 - beta2**t) + eps
        p = p - lr / (1 - beta1**t) * m / denom

    That is p - lr * m_hat / (sqrt(v_hat) + eps) with the bias-corrected moments
    m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t); AMSGrad takes the maximum
    of the uncorrected v, then corrects it (PyTorch's code and current docs).
    State: "step" (a 0-d float32 array), "exp_avg", "exp_avg_sq", "max_exp_avg_sq".
    """

    __slots__ = ()
    _per_element_state = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled_weight_decay = False  # AdamW: p = p * (1 - lr * weight_decay) instead

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
    ):
        name = type(self).__name__
        if lr < 0:
            raise ValueError(f"{name}: invalid learning rate {lr}; it must be >= 0")
        if eps < 0:
            raise ValueError(f"{name}: invalid eps {eps}; it must be >= 0")
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{name}: invalid betas {betas}; each must be in [0, 1)")
        if weight_decay < 0:
            raise ValueError(f"{name}: invalid weight_decay {weight_decay}; it must be >= 0")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate(closure)
        decoupled = self._decoupled_weight_decay
        for group in self.param_groups:
            lr = float(group["lr"])
            beta1, beta2 = (float(b) for b in group["betas"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p.xp
                grad = p.grad.data
                state = self.state[p]
                if not state:
                    state["step"] = xp.zeros((), dtype=numpy.float32)
                    state["exp_avg"] = xp.zeros_like(p.data)
                    state["exp_avg_sq"] = xp.zeros_like(p.data)
                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    if decoupled:
                        p.data *= 1 - lr * weight_decay
                    else:
                        grad = grad + weight_decay * p.data
                step_count = state["step"]
                step_count += 1
                correction2, step_size = _bias_corrections(
                    step_count, beta1, beta2, lr, p.device, p.dtype
                )
                exp_avg = state["exp_avg"]
                exp_avg *= beta1
                exp_avg += (1 - beta1) * grad
                exp_avg_sq = state["exp_avg_sq"]
                exp_avg_sq *= beta2
                exp_avg_sq += (1 - beta2) * (grad * grad)
                if amsgrad:
                    max_exp_avg_sq = state.get("max_exp_avg_sq")
                    if max_exp_avg_sq is None:
                        max_exp_avg_sq = state["max_exp_avg_sq"] = xp.zeros_like(p.data)
                    xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                    denom = xp.sqrt(max_exp_avg_sq)
                else:
                    denom = xp.sqrt(exp_avg_sq)
                denom /= correction2
                denom += eps
                p.data -= step_size * (exp_avg / denom)
                p._bump_version()
        return loss


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False), the update of torch.optim.AdamW.

    Adam with decoupled weight decay: the decay shrinks the parameter directly instead
    of being added to the gradient (so it never enters m and v).  At step t:
        g = -g                                     if maximize
        p = p * (1 - lr * weight_decay)
        m, v, v_max, denom as in Adam (with this g)
        p = p - lr / (1 - beta1**t) * m / denom
    """

    __slots__ = ()
    _decoupled_weight_decay = True

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
