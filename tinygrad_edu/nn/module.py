"""`Parameter` and `Module`: the containers every layer and model is built from.

A `Module` holds three registries, filled by plain attribute assignment in `__init__`:
parameters (`nn.Parameter`, trained), buffers (`register_buffer`, saved but not
trained, like BatchNorm's running statistics) and submodules.  From them it derives
everything a training loop needs: `parameters()` for the optimizer, `train()`/`eval()`,
`zero_grad()`, `to(device)`, and `state_dict()`/`load_state_dict()` with PyTorch's
dotted names ("fc.0.weight"), so a trained model loads into the same `torch.nn` model.

`__setattr__` is the one piece of magic here, as in PyTorch: it sorts what is
assigned into the registries.  Every registered object is *also* stored as a normal
attribute, so `self.weight` is an ordinary attribute lookup (no `__getattr__`
forwarding for a debugger to step through).

Parameter names: each parameter's `.name` (shown by drawings) is set to its dotted
name.  A module names a parameter when it is assigned ("weight"), and lengthens the
name when the module is attached to a parent ("0.weight", then "fc.0.weight");
`named_parameters()`, `parameters()` and `state_dict()` do the same, so calling them on
the root model always leaves the full names.  A name the user chose is kept.

What does not live here: the layers (nn/layers/), the math (nn/functional.py, ops/).
"""

from collections import OrderedDict, namedtuple

import numpy

from .. import autograd, backend
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: assigning one to a module attribute registers it.

    Parameter(data, requires_grad=True).  `data` is anything `Tensor` accepts; the
    values are copied (as `tg.Tensor(t)` copies), and the device and dtype are kept.
    """

    __slots__ = ()  # Tensor's slots are enough; a Parameter only differs by its type

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


# What load_state_dict returns (PyTorch returns the same two lists under these names).
IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of all layers and models: subclass it, assign layers and Parameters in
    `__init__` (after `super().__init__()`), and write `forward`.

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))

            def forward(self, x):
                return self.fc(x)
    """

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these registries to exist.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f"{type(self).__name__} has no forward(); define forward(self, ...) in the subclass"
        )

    def __call__(self, *args, **kwargs):
        state = autograd.STATE
        if state.recording is not None:  # tg.jit is tracing: it keeps our state
            state.recording.adopt_module(self)
        if not state.grad_enabled:  # no graph is made, so there is nothing to box
            return self.forward(*args, **kwargs)
        # The creation numbers before and after forward mark the ops this call made, so a
        # drawing can box them under the module's name (autograd.SCOPES); nothing per op.
        start = autograd.next_seq()
        output = self.forward(*args, **kwargs)
        autograd.note_scope(self, start)
        return output

    # ---- registration --------------------------------------------------------------

    def __setattr__(self, name, value):
        """Sort Parameters, Modules and buffers into the registries; the rest is a plain
        attribute.  Registered objects are stored as attributes as well (see above)."""
        params = self.__dict__.get("_parameters")
        if isinstance(value, (Parameter, Module)):
            if params is None:
                raise AttributeError(
                    f"cannot assign {type(value).__name__} {name!r} before Module.__init__() "
                    "ran; call super().__init__() first in your __init__"
                )
            # Keep the name's place in its own registry (replacing seq[1] keeps the order).
            if isinstance(value, Parameter):
                self._forget(name, keep=self._parameters)
                self.register_parameter(name, value)
            else:
                self._forget(name, keep=self._modules)
                self.add_module(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} "
                    "(nn.Parameter or None expected)"
                )
            params[name] = None
            object.__setattr__(self, name, None)
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} "
                    "(nn.Module or None expected)"
                )
            self._modules[name] = None
            object.__setattr__(self, name, None)
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as buffer {name!r} "
                    "(Tensor or None expected)"
                )
            self._buffers[name] = value
            object.__setattr__(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        registries = ("_parameters", "_buffers", "_modules")
        if any(name in self.__dict__.get(registry, ()) for registry in registries):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def _forget(self, name, keep=None):
        """Remove `name` from the instance attributes and from every registry but `keep`."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers.discard(name)
        self.__dict__.pop(name, None)

    def _check_new_name(self, name, registry, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot register {kind} {name!r} before Module.__init__() ran; "
                "call super().__init__() first"
            )
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"{kind} name must be a non-empty string without '.', got {name!r}")
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute {name!r} already exists on {type(self).__name__}")

    def register_parameter(self, name, param):
        """Add a parameter (or None, a declared but absent one, like bias=False)."""
        self._check_new_name(name, self._parameters, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register {type(param).__name__} as parameter {name!r} "
                "(nn.Parameter or None expected; wrap it: nn.Parameter(t))"
            )
        if param is not None and param.name is None:
            param.name = name
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: a tensor saved in state_dict and moved by to(), but not trained.
        persistent=False keeps it out of state_dict (a cache, say)."""
        self._check_new_name(name, self._buffers, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot register {type(tensor).__name__} as buffer {name!r} "
                "(Tensor or None expected)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name, module):
        """Add a child module (Sequential names its children "0", "1", ...)."""
        self._check_new_name(name, self._modules, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module
        object.__setattr__(self, name, module)
        if module is not None:
            module._name_parameters(name)

    register_module = add_module

    def _name_parameters(self, prefix=""):
        """Give every parameter its dotted name; see the module docstring for the rule."""
        for name, param in self._named_members("_parameters", prefix, True, True):
            _set_name(param, name)

    # ---- walking the tree ----------------------------------------------------------

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every module below it, depth first,
        parents before children, in assignment order ("" is the module itself)."""
        seen = memo if memo is not None else set()
        stack = [(prefix, self)]
        while stack:  # an explicit stack: the same order a recursive walk gives
            name, module = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            yield name, module
            children = [
                (f"{name}.{key}" if name else key, child)
                for key, child in module._modules.items()
                if child is not None
            ]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) of the direct children (each module once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        """(dotted name, tensor) from one registry of every module, each tensor once."""
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        seen = set()
        for module_prefix, module in modules:
            for key, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{key}" if module_prefix else key), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs, e.g. ("fc.0.weight", ...), in PyTorch's order:
        a module's own parameters, then those of its children in assignment order.
        A parameter shared by two modules is listed once.  Also sets parameter names."""
        for name, param in self._named_members("_parameters", prefix, recurse, remove_duplicate):
            _set_name(param, name)
            yield name, param

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call fn(module) on every submodule (children first) and then on self; returns
        self.  Typical use: custom initialisation, `model.apply(init_weights)`."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients -------------------------------------------------------

    def train(self, mode=True):
        """Set training mode here and in every submodule (Dropout and BatchNorm read
        `self.training`).  Returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode): mode must be True or False, got {mode!r}")
        self.training = mode
        for child in self.children():
            child.train(mode)  # a child may override train(); call it, as PyTorch does
        return self

    def eval(self):
        """Evaluation mode: same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze every parameter.  Returns self."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    def zero_grad(self, set_to_none=True):
        """Forget the gradients of all parameters (backward adds to .grad, so do this
        before each backward).  set_to_none=False puts zeros there instead."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                # A new array, not an in-place fill: a .grad array may be shared.
                param.grad = Tensor._wrap(param.xp.zeros_like(param.grad.data), param.device)

    # ---- devices and dtypes --------------------------------------------------------

    def to(self, device=None, dtype=None):
        """Move every parameter and buffer to `device` (and cast floating ones to
        `dtype`), in place: the Parameter objects stay the same, so an optimizer made
        before the move keeps working.  Gradients move with them.  Returns self.

        `model.to("strict")`, `model.to("cuda")`, `model.to(tg.float64)`,
        `model.to("cpu", dtype=tg.float64)`.
        """
        if device is not None and not isinstance(device, (str, backend.Device)):
            device, dtype = None, device  # model.to(tg.float64)
        device = backend.get_device(device) if device is not None else None
        dtype = numpy.dtype(dtype) if dtype is not None else None
        seen = set()
        for _, module in self.named_modules():
            for tensor in list(module._parameters.values()) + list(module._buffers.values()):
                if tensor is None or id(tensor) in seen:
                    continue
                seen.add(id(tensor))
                _move(tensor, device, dtype)
                if tensor.grad is not None:
                    _move(tensor.grad, device, dtype)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    def double(self):
        """Cast floating parameters and buffers to float64 (handy for gradcheck)."""
        return self.to(dtype=numpy.float64)

    def float(self):
        return self.to(dtype=numpy.float32)

    # ---- saving and loading --------------------------------------------------------

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """OrderedDict of dotted name -> tensor: parameters and persistent buffers, in
        PyTorch's order (per module: parameters, then buffers; then the children).

        The values are detached tensors sharing memory with the model (as PyTorch);
        copy them (`tg.save`, `.numpy()`) to keep a snapshot.  keep_vars=True returns
        the Parameters themselves.
        """
        self._name_parameters()  # (a `prefix` is a key prefix, not part of the tree)
        result = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(
            prefix=prefix.rstrip("."), remove_duplicate=False
        ):
            head = f"{module_prefix}." if module_prefix else ""
            for key, param in module._parameters.items():
                if param is not None:
                    result[head + key] = param if keep_vars else param.detach()
            for key, buffer in module._buffers.items():
                if buffer is not None and key not in module._non_persistent_buffers:
                    result[head + key] = buffer if keep_vars else buffer.detach()
        return result

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from `state_dict` (name -> Tensor or NumPy array) into this
        model's parameters and buffers, in place (the objects stay the same).

        strict=True: the keys must match exactly.  Shapes must always match.  Nothing
        is copied when there is any error; the error lists missing keys, unexpected
        keys and shape mismatches.  Returns (missing_keys, unexpected_keys).
        """
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        copies = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if isinstance(value, Tensor):
                host = value.numpy()  # an explicit host copy: the value may be on a GPU
            elif isinstance(value, (numpy.ndarray, numpy.generic, int, float)):
                host = numpy.asarray(value)
            else:
                problems.append(
                    f"value for {key!r} is a {type(value).__name__}; "
                    "expected a Tensor or a NumPy array"
                )
                continue
            if tuple(host.shape) != target.shape:
                problems.append(
                    f"size mismatch for {key!r}: copying a value of shape {tuple(host.shape)} "
                    f"from the state_dict, the shape in the current model is {target.shape}"
                )
                continue
            copies.append((target, host))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(problems)
            )
        for target, host in copies:
            values = numpy.array(host, dtype=target.dtype)  # a copy: never alias the input
            target.data[...] = target.device.from_host(values)  # same array: aliases see it
            target._bump_version()  # a graph that saved the old values now fails clearly
        return IncompatibleKeys(missing, unexpected)

    # ---- printing ------------------------------------------------------------------

    def extra_repr(self):
        """The text inside the parentheses of this module's repr (its settings)."""
        return ""

    def __repr__(self):
        """As PyTorch prints modules:

        Sequential(
          (0): Linear(in_features=2, out_features=3, bias=True)
          (1): ReLU()
        )
        """
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = []
        for key, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")  # indent the child's own lines
            child_lines.append(f"({key}): {text}")
        lines = extra_lines + child_lines
        if not lines:
            return f"{type(self).__name__}()"
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra_lines[0]})"
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


def _set_name(param, name):
    """Name `param`, unless it carries a name given elsewhere.  A name this module
    system gave earlier is a dotted tail of the new one ("weight" of "fc.weight") and is
    lengthened; a longer name ("fc.weight", asked for again from inside "fc") is kept."""
    if param.name is None or name.endswith("." + param.name):
        param.name = name


def _move(tensor, device, dtype):
    """Put `tensor`'s values on `device` as `dtype`, keeping the Tensor object."""
    array = tensor.data
    cast = dtype is not None and array.dtype.kind == "f" and array.dtype != dtype
    moving = device is not None and device is not tensor.device
    if not cast and not moving:
        return
    target = device if moving else tensor.device
    host = tensor.device.to_host(array)  # through the host: the one path every backend has
    if cast:
        host = host.astype(dtype)
    tensor.data = target.from_host(host)
    tensor.device = target
    tensor._bump_version()  # a graph recorded before the move must not be reused
