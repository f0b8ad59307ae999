"""`RMSprop`: divide the gradient by a running root mean square of recent gradients."""

import numpy

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, *, maximize=False), the update of torch.optim.RMSprop.

    For each parameter p with gradient g:
        g = -g                                     if maximize
        g = g + weight_decay * p                   if weight_decay != 0
        v = alpha * v + (1 - alpha) * g * g        (square_avg, starts at 0)
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g    (grad_avg, starts at 0)
            avg = sqrt(v - g_avg * g_avg) + eps
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg             (momentum_buffer, starts at 0)
            p = p - lr * b
        else:
            p = p - lr * g / avg

    eps is added after the square root (TensorFlow adds it inside).
    State: "step", "square_avg", "momentum_buffer" (momentum > 0), "grad_avg" (centered).
    """

    __slots__ = ()
    _per_element_state = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        *,
        maximize=False,
    ):
        if lr < 0:
            raise ValueError(f"RMSprop: invalid learning rate {lr}; it must be >= 0")
        if eps < 0:
            raise ValueError(f"RMSprop: invalid eps {eps}; it must be >= 0")
        if momentum < 0:
            raise ValueError(f"RMSprop: invalid momentum {momentum}; it must be >= 0")
        if weight_decay < 0:
            raise ValueError(f"RMSprop: invalid weight_decay {weight_decay}; it must be >= 0")
        if alpha < 0:
            raise ValueError(f"RMSprop: invalid alpha {alpha}; it must be >= 0")
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(group["weight_decay"])
            momentum = float(group["momentum"])
            centered = group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                xp = p.xp
                grad = p.grad.data
                state = self.state[p]
                if not state:
                    state["step"] = xp.zeros((), dtype=numpy.float32)
                    state["square_avg"] = xp.zeros_like(p.data)
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = xp.zeros_like(p.data)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = xp.zeros_like(p.data)
                state["step"] += 1
                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * (grad * grad)
                if centered:
                    grad_avg = state["grad_avg"]
                    grad_avg *= alpha
                    grad_avg += (1 - alpha) * grad
                    avg = xp.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = xp.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += grad / avg
                    p.data -= lr * buf
                else:
                    p.data -= lr * (grad / avg)
                p._bump_version()
        return loss
