"""Learning-rate schedules: `StepLR`, `ExponentialLR`, `CosineAnnealingLR` (on a fixed
clock, sharing `LRScheduler`) and `ReduceLROnPlateau` (driven by a metric).

They follow torch.optim.lr_scheduler: a scheduler changes `group["lr"]` of its
optimizer's parameter groups when `step()` is called (once per epoch, after
`optimizer.step()`); `get_last_lr()` returns the rates it set last.  Construction
counts as the first step: `last_epoch` is 0 afterwards and each group remembers its
starting rate as `group["initial_lr"]`.
"""

import math

from .optimizer import Optimizer


class _Scheduler:
    """What every scheduler shares: its optimizer, the last rates, saving and loading."""

    __slots__ = ("optimizer", "last_epoch", "_last_lr")

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} needs a tinygrad_edu optimizer, got "
                f"{type(optimizer).__name__}"
            )
        self.optimizer = optimizer

    def get_last_lr(self):
        """The learning rate of each parameter group, as set by the last step()."""
        return list(self._last_lr)

    def _state_names(self):
        """Every slot of this scheduler but the optimizer, in class order."""
        names = []
        for cls in reversed(type(self).__mro__):
            names.extend(name for name in getattr(cls, "__slots__", ()) if name != "optimizer")
        return names

    def state_dict(self):
        """The scheduler's variables (not the optimizer) as a dict, PyTorch style."""
        return {
            name: list(value) if isinstance(value, list) else value
            for name, value in ((n, getattr(self, n)) for n in self._state_names())
        }

    def load_state_dict(self, state_dict):
        """Restore the variables saved by state_dict() (the optimizer's own learning
        rates come back with optimizer.load_state_dict)."""
        names = self._state_names()
        missing = [n for n in names if n not in state_dict]
        unexpected = [n for n in state_dict if n not in names]
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: missing keys {missing}, unexpected "
                f"keys {unexpected}; was the state dict saved from another scheduler class?"
            )
        for name in names:
            value = state_dict[name]
            setattr(self, name, list(value) if isinstance(value, list) else value)


class LRScheduler(_Scheduler):
    """Base of the schedules that depend only on the epoch count.

    Subclasses write `get_lr()`: the new rate of each group, computed (as PyTorch does)
    from the group's current rate, so schedulers can be chained.
    """

    __slots__ = ("base_lrs", "_step_count")

    def __init__(self, optimizer, last_epoch=-1):
        super().__init__(optimizer)
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param_groups[{i}] has no 'initial_lr': a scheduler resumed with "
                        f"last_epoch={last_epoch} needs the optimizer of the earlier run"
                    )
        self.base_lrs = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()  # epoch 0: the starting rates

    def get_lr(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def step(self):
        """Advance one epoch and set each group's learning rate."""
        self._step_count += 1
        self.last_epoch += 1
        new_lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, new_lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1): multiply the rate by gamma
    every step_size epochs, so lr(epoch) = base_lr * gamma ** (epoch // step_size)."""

    __slots__ = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if int(step_size) != step_size or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class ExponentialLR(LRScheduler):
    """ExponentialLR(optimizer, gamma, last_epoch=-1): multiply the rate by gamma every
    epoch, so lr(epoch) = base_lr * gamma ** epoch."""

    __slots__ = ("gamma",)

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class CosineAnnealingLR(LRScheduler):
    """CosineAnnealingLR(optimizer, T_max, eta_min=0, last_epoch=-1): the rate follows
    half a cosine from base_lr down to eta_min over T_max epochs (and back up after):

        lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    computed recursively from the previous rate as PyTorch does,
        lr(t) = eta_min + (lr(t-1) - eta_min) * (1 + cos(pi*t/T_max)) / (1 + cos(pi*(t-1)/T_max)),
    which is the closed form whenever nothing else changed the rate.  Where the
    denominator is 0 (t - 1 = T_max, 3 T_max, ...) it adds the closed form's increment.
    """

    __slots__ = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0, last_epoch=-1):
        if T_max <= 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        groups = self.optimizer.param_groups
        t, T_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:
            # resumed at epoch t (last_epoch given): no previous rate to recurse from
            return [
                eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2
                for base_lr in self.base_lrs
            ]
        if (t - 1 - T_max) % (2 * T_max) == 0:
            # lr(t-1) was eta_min, so the ratio below would be 0 / 0
            return [
                group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                for base_lr, group in zip(self.base_lrs, groups)
            ]
        ratio = (1 + math.cos(math.pi * t / T_max)) / (1 + math.cos(math.pi * (t - 1) / T_max))
        return [eta_min + (group["lr"] - eta_min) * ratio for group in groups]


class ReduceLROnPlateau(_Scheduler):
    """ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
    threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8): `step(metric)` once per
    epoch; when the metric has not improved for more than `patience` epochs in a row,
    every group's rate becomes max(lr * factor, min_lr) (a change smaller than eps is
    skipped), and then `cooldown` epochs pass before bad epochs count again.

    "Improved" means better than the best so far by the threshold:
        mode "min", "rel": metric < best * (1 - threshold)
        mode "min", "abs": metric < best - threshold
        mode "max", "rel": metric > best * (1 + threshold)
        mode "max", "abs": metric > best + threshold
    """

    __slots__ = (
        "mode",
        "factor",
        "patience",
        "threshold",
        "threshold_mode",
        "cooldown",
        "cooldown_counter",
        "min_lrs",
        "eps",
        "best",
        "num_bad_epochs",
        "mode_worse",
    )

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        super().__init__(optimizer)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(
                f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}"
            )
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(
                    f"ReduceLROnPlateau: expected {len(groups)} min_lrs (one per parameter "
                    f"group), got {len(min_lr)}"
                )
            self.min_lrs = list(min_lr)
        else:
            self.min_lrs = [min_lr] * len(groups)
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.eps = eps
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def step(self, metrics):
        """Record this epoch's metric (a number or one-element tensor); maybe lower the rates."""
        current = float(metrics)
        self.last_epoch += 1
        if self._is_better(current):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # bad epochs right after a reduction do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    def _is_better(self, current):
        best, threshold = self.best, self.threshold
        if self.mode == "min" and self.threshold_mode == "rel":
            return current < best * (1 - threshold)
        if self.mode == "min":
            return current < best - threshold
        if self.threshold_mode == "rel":
            return current > best * (1 + threshold)
        return current > best + threshold

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0
