"""`SGD`: stochastic gradient descent with optional momentum, Nesterov and weight decay."""

from .optimizer import Optimizer


class SGD(Optimizer):
    """SGD(params, lr, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False), the update of torch.optim.SGD.

    For each parameter p with gradient g, at step t:
        g = -g                               if maximize
        g = g + weight_decay * p             if weight_decay != 0
        if momentum != 0:
            b = g                            at the first step (t = 1)
            b = momentum * b + (1 - dampening) * g   afterwards
            g = g + momentum * b             if nesterov
            g = b                            otherwise
        p = p - lr * g

    `maximize` negates the gradient first, as PyTorch's code does since 2.0 (so weight
    decay still pulls weights towards 0); PyTorch's docs write it as `p + lr * g` at the end,
    which is the same without weight decay.
    State: "momentum_buffer" (b), only when momentum != 0.
    """

    __slots__ = ()
    _per_element_state = ("momentum_buffer",)

    def __init__(
        self,
        params,
        lr,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
    ):
        if lr < 0:
            raise ValueError(f"SGD: invalid learning rate {lr}; it must be >= 0")
        if momentum < 0:
            raise ValueError(f"SGD: invalid momentum {momentum}; it must be >= 0")
        if weight_decay < 0:
            raise ValueError(f"SGD: invalid weight_decay {weight_decay}; it must be >= 0")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr = float(group["lr"])
            momentum = float(group["momentum"])
            dampening = float(group["dampening"])
            weight_decay = float(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if maximize:
                    grad = -grad
                if weight_decay != 0:
                    grad = grad + weight_decay * p.data
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = grad.astype(p.dtype, copy=True)  # own copy: updated in place
                        state["momentum_buffer"] = buf
                    else:
                        buf *= momentum
                        buf += (1 - dampening) * grad
                    grad = grad + momentum * buf if nesterov else buf
                p.data -= lr * grad
                p._bump_version()
        return loss
