"""`Optimizer`, the base class of every optimizer in optim/.

It holds what all optimizers share, in PyTorch's layout: `param_groups` (a list of
dicts, each with "params" and its hyper-parameters), `state` (a dict per parameter
with the optimizer's buffers), `zero_grad`, `state_dict` and `load_state_dict`.
The update rules themselves live one per file (sgd.py, adam.py, ...): each subclass
writes only `step`.

Parameters are changed in place (`p.data -= ...`, never `p.data = ...`): a model,
another optimizer or a saved graph that holds the parameter sees the new values,
and `p._bump_version()` tells autograd that saved copies of `p` are now stale.
"""

from collections import defaultdict

import numpy

from .. import backend
from ..autograd import STATE, enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class: Optimizer(params, defaults).

    `params`: an iterable of Tensors, or of dicts (parameter groups) such as
    {"params": [w, b], "lr": 0.01}; a group's missing hyper-parameters come from
    `defaults`.  Subclasses implement `step`.
    """

    __slots__ = ("defaults", "param_groups", "state")

    # Names of state buffers shaped like their parameter (checked on load).
    _per_element_state = ()

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = defaultdict(dict)  # Tensor -> {"exp_avg": array, ...}, as PyTorch
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts "
                "(parameter groups), got a single Tensor; pass [tensor] or "
                "model.parameters()"
            )
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(
                f"{type(self).__name__}: got the model ({type(params).__name__}) itself; "
                "pass its parameters: model.parameters()"
            )
        try:
            groups = list(params)
        except TypeError:
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Tensors or of dicts "
                f"(parameter groups), got {type(params).__name__}; pass model.parameters()"
            ) from None
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group {"params": [...], hyper-parameter: value, ...} to optimize."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(
                f"{name}: a parameter group must be a dict, got {type(param_group).__name__}"
            )
        group = dict(param_group)
        params = group.get("params")
        if params is None:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            _check_param(p, name)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        ids = [id(p) for p in group["params"]]
        if len(set(ids)) != len(ids) or seen.intersection(ids):
            raise ValueError(
                f"{name}: a parameter appears twice (in one group or in two groups); "
                "each parameter may be optimized once"
            )
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: `p.grad = None` (default), or fill them with zeros."""
        if STATE.recording is not None:  # tg.jit is tracing: it keeps our state
            STATE.recording.adopt_optimizer(self)
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif grad.grad_fn is not None:
                    # A recorded gradient (create_graph=True): drop its graph, as
                    # PyTorch detaches it, by putting plain zeros in its place.
                    p.grad = Tensor._wrap(p.xp.zeros_like(p.data), p.device)
                else:
                    grad.data[...] = 0
                    grad._bump_version()

    def step(self, closure=None):
        """Update every parameter that has a gradient (subclasses implement this)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _evaluate(self, closure):
        """Run `closure` (zero_grad, forward, backward, return loss) with grad enabled.
        Every step() calls it first, so tg.jit learns here which optimizers a step uses."""
        if STATE.recording is not None:  # tg.jit is tracing: it keeps our state
            STATE.recording.adopt_optimizer(self)
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ---- saving and loading ---------------------------------------------------------

    def state_dict(self):
        """PyTorch's layout: {"state": {index: {name: value}}, "param_groups": [...]}.

        Parameters are named by their position over all groups (0, 1, 2, ...).  Arrays
        are copied to the host as NumPy arrays, so the dict can be saved anywhere and
        later steps do not change it.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            packed["params"] = []
            for p in group["params"]:
                index[id(p)] = len(index)
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for p, values in self.state.items():
            if values and id(p) in index:
                state[index[id(p)]] = {key: _to_host(v) for key, v in values.items()}
        return {"state": dict(sorted(state.items())), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take over the state and hyper-parameters of `state_dict()` from an optimizer
        of the same class over parameters of the same shapes, in the same groups.

        Arrays go onto each parameter's device; floating buffers take the parameter's
        dtype (except "step", as PyTorch).
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with keys 'state' and "
                "'param_groups' (from optimizer.state_dict())"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"group(s) but this optimizer has {len(self.param_groups)}"
            )
        by_index = {}
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {i} has "
                    f"{len(saved['params'])} parameter(s) in the state dict but "
                    f"{len(group['params'])} in this optimizer"
                )
            for index, p in zip(saved["params"], group["params"]):
                by_index[index] = p
        new_state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            p = by_index.get(index)
            if p is None:
                raise ValueError(
                    f"{name}.load_state_dict: the state dict has state for parameter "
                    f"{index}, which is in none of its parameter groups"
                )
            new_state[p] = {key: self._load_value(key, v, p, index) for key, v in values.items()}
        # Only now, when everything was checked, change this optimizer.
        for group, saved in zip(self.param_groups, saved_groups):
            for key, value in saved.items():
                if key != "params":
                    group[key] = value
        self.state = new_state

    def _load_value(self, key, value, p, index):
        """A saved state value as this optimizer keeps it: arrays on `p`'s device."""
        if isinstance(value, (list, tuple)):
            return type(value)(self._load_value(key, v, p, index) for v in value)
        if not isinstance(value, numpy.ndarray):
            return value  # Python numbers (LBFGS keeps some)
        if key in self._per_element_state and value.shape != p.shape:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: state {key!r} of parameter "
                f"{index} has shape {value.shape} but the parameter has shape {p.shape}"
            )
        dtype = value.dtype if key == "step" or value.dtype.kind != "f" else p.dtype
        return p.device.from_host(numpy.array(value, dtype=dtype))  # a copy of its own

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _check_param(p, optimizer_name):
    """A clear error at construction for what cannot be optimized."""
    if not isinstance(p, Tensor):
        raise TypeError(f"{optimizer_name} can only optimize Tensors, got {type(p).__name__}")
    if p.dtype.kind != "f":
        raise TypeError(
            f"{optimizer_name} can only optimize floating-point tensors, got a tensor of "
            f"shape {p.shape} with dtype {p.dtype}"
        )
    if p.grad_fn is not None:
        raise ValueError(
            f"{optimizer_name} can't optimize a non-leaf tensor (shape {p.shape}, made by "
            f"{type(p.grad_fn).__name__}); optimize the leaf tensors it was computed from"
        )


def _to_host(value):
    """State values for state_dict(): arrays become host NumPy copies, lists recurse."""
    if isinstance(value, (list, tuple)):
        return type(value)(_to_host(v) for v in value)
    if isinstance(value, (bool, int, float, str, numpy.generic)) or value is None:
        return value
    host = backend.to_numpy(value)
    return host.copy() if host is value else host
