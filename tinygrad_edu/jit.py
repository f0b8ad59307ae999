"""`tg.jit`: record the array operations of a training step once, then replay them.

    step = tg.jit(train_step)     # train_step(x, y) runs forward, backward, optimizer.step()
    loss = step(x, y)             # first calls: run eagerly, and record
    loss = step(x, y)             # later calls: replay the recording

Why it helps.  An eager step pays Python for every op: a Tensor, a graph node, the
plan of what backward keeps, the backward loop's bookkeeping.  For small arrays that
bookkeeping costs more than the arithmetic.  Yet a training step does the same array
operations every time, only on new numbers.  So: run the step once while writing down
every array operation it performs (which function, on which buffers, with which
constants), then on later calls run only that list of operations on plain arrays.
No Tensors, no nodes, no graph; the arithmetic is the same, so are the numbers.

How the recording is made (a "tracing" JIT).  While `fn` runs for the record, each
device's array module `xp` is swapped for a recording one and every array is a
`Traced` wrapper: the real array plus the name of its buffer (`v7`).  Each operation
on a Traced array (an `xp` function, an operator, a method, an in-place `+=`) runs for
real, so tracing computes exactly what eager code computes, and appends one line to
the recording.  The arrays that live across calls (parameters, their `.grad`, the
optimizer's buffers, BatchNorm's running statistics) are read at the start of the
recording and written back at its end.  The recording is turned into straight-line
Python source, one line per array op, and compiled; `print(step.recording)` shows it.

What a recording cannot see, and how that is handled:
- Shapes, dtypes and devices of the inputs and of the state: checked on every call
  (the "guards"); a change records again (a new batch size re-traces once).
- Our own Python values that a recording bakes in: optimizers' hyper-parameters (a
  scheduler changing `lr`), modules' train/eval mode, grad mode: part of the guards.
- Data-dependent Python (`.item()`, `float(t)`, `bool(t)`, `.tolist()`, `.numpy()` on
  a value computed inside `fn`): it would take one branch forever, so it raises
  `JitError` while recording, naming the call.
- Python numbers in your own code (a learning rate in a closure, a loop count) are
  constants of the recording.  A recording is used only after two recordings in a row
  came out identical, so a number that changes on every call is caught (JitError);
  one that changes later is not.  Pass a changing number through an optimizer's
  param_groups, or as a Tensor argument.
- Random numbers (dropout, `tg.rand`, `tg.randn`) are drawn again on every replay, from
  the generator `backend.generator` returns at that moment, in the same order as eager.

On CUDA (CuPy) a replay launches the same kernels as eager code, one per op, without
the Python around them.  CUDA graphs would go one step further: capture the kernel
launches of one replay into a graph and launch the whole step with one call.  That needs
fixed buffer addresses (inputs copied into buffers owned by the recording) and no host
synchronisation inside the step; `Recording.run` is the one place such a capture would
wrap (see the comment there).
"""

import linecache
import operator
import os
import sys
import traceback
import types

import numpy

from . import backend
from .autograd import STATE
from .nn.module import Module
from .optim.optimizer import Optimizer
from .tensor import _CONSTANTS, Tensor

__all__ = ["JitError", "jit"]


class JitError(RuntimeError):
    """`tg.jit` met something a recording cannot replay faithfully (the message says what
    and how to change the code)."""


_REAL_GENERATOR = backend.generator  # replays look the generator up through this


# ---- where in the user's code ----------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_TENSOR_FILE = os.path.join(_PACKAGE_DIR, "tensor.py")


def _user_line():
    """'file.py:12: code' of the innermost frame outside this package (the user's call)."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{os.path.basename(frame.filename)}:{frame.lineno}: {frame.line}"
    return "inside tinygrad_edu"


# Tensor methods that read values, by how the user spelled the call: the outermost one
# on the stack names it (Tensor.__bool__ calls .item(), but the user wrote bool(t)).
_READERS = {
    "__bool__": "bool() (an `if` or `while` on a tensor)",
    "__float__": "float()",
    "__int__": "int()",
    "item": ".item()",
    "tolist": ".tolist()",
    "numpy": ".numpy()",
    "__repr__": "printing a tensor",
    "__array__": "numpy.asarray()",
}


def _data_dependent(what):
    for frame in traceback.extract_stack()[:-1]:
        if frame.name in _READERS and os.path.abspath(frame.filename) == _TENSOR_FILE:
            what = _READERS[frame.name]
            break
    return JitError(
        f"tg.jit: {what} on a value computed inside the jitted function (at "
        f"{_user_line()}). A recording replays array operations only; a Python value read "
        "from an array would be frozen at the value it had while recording, and any `if` "
        "on it would take the same branch forever. Move this out of the jitted function "
        "(return the tensor and call .item() on the result), or compute with tensor "
        "operations instead (e.g. tg.where instead of an if)."
    )


# ---- Traced arrays ---------------------------------------------------------------------


class Traced:
    """An array while a step is being recorded: the real array (`value`) and the number of
    the buffer it is (`slot`, printed as v<slot>).  Every operation on it runs on `value`
    and is appended to the active recording.  Each traced device gets its own subclass
    (with a `device` attribute), so `type(array) is device.array_type` still holds."""

    __slots__ = ("value", "slot", "__weakref__")

    def __init__(self, value, slot):
        self.value = value
        self.slot = slot

    # Facts about the array that do not depend on its numbers are read directly.
    shape = property(lambda self: self.value.shape)
    dtype = property(lambda self: self.value.dtype)
    ndim = property(lambda self: self.value.ndim)
    size = property(lambda self: self.value.size)
    itemsize = property(lambda self: self.value.itemsize)
    nbytes = property(lambda self: self.value.nbytes)
    strides = property(lambda self: self.value.strides)
    flags = property(lambda self: self.value.flags)
    base = property(lambda self: self.value.base)
    T = property(lambda self: _record(_T, ".T", (self,), {}))
    mT = property(lambda self: _record(_MT, ".mT", (self,), {}))

    def __len__(self):
        return len(self.value)

    def __getattr__(self, name):
        if name.startswith("__"):  # no __array_interface__ etc.: no silent host copies
            raise AttributeError(name)
        attribute = getattr(self.value, name)
        if callable(attribute):
            method = getattr(type(self.value), name)
            return lambda *args, **kwargs: _record(method, "." + name, (self,) + args, kwargs)
        if type(attribute) is type(self.value):  # .real, .imag, .flat: arrays
            return _record(operator.attrgetter(name), "." + name, (self,), {})
        return attribute

    def __repr__(self):
        return f"<traced v{self.slot} {tuple(self.shape)} {self.dtype}>"

    __str__ = __repr__

    # ---- what a recording cannot replay ----------------------------------------------
    # Refused while recording.  After the trace (a tensor made inside the step and kept
    # elsewhere still holds its Traced array) they read the value it had then.
    def _readable(self, what):
        if STATE.recording is not None:
            raise _data_dependent(what)
        return self.value

    def item(self, *args):
        return self._readable(".item()").item(*args)

    def tolist(self):
        return self._readable(".tolist()").tolist()

    def get(self, *args, **kwargs):
        return self._readable("a copy to the host (.get() / .numpy())").get(*args, **kwargs)

    def __bool__(self):
        return bool(self._readable("bool() (an `if` or `while` on a tensor)"))

    def __float__(self):
        return float(self._readable("float()"))

    def __int__(self):
        return int(self._readable("int()"))

    def __index__(self):
        return operator.index(self._readable("using a tensor as a Python index"))

    def __array__(self, *args, **kwargs):
        value = self._readable("conversion to a NumPy array (numpy.asarray, .numpy())")
        return value.__array__(*args, **kwargs)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ---- NumPy's protocols: numpy.add(plain_array, traced) and friends ----------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        func = ufunc if method == "__call__" else getattr(ufunc, method)
        label = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        return _record(func, label, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _record(func, func.__name__, args, kwargs)

    def __getitem__(self, index):
        return _record(operator.getitem, "[]", (self, index), {})

    def __setitem__(self, index, value):
        _record(operator.setitem, "[]=", (self, index, value), {})

    __hash__ = None


def _binary(op, symbol):
    def forward(self, other):
        return _record(op, symbol, (self, other), {})

    def reflected(self, other):
        return _record(op, symbol, (other, self), {})

    return forward, reflected


def _inplace(op, symbol):
    def method(self, other):
        return _record(op, symbol, (self, other), {}, inplace=True)

    return method


for _name, _op, _symbol in (
    ("add", operator.add, "+"),
    ("sub", operator.sub, "-"),
    ("mul", operator.mul, "*"),
    ("truediv", operator.truediv, "/"),
    ("floordiv", operator.floordiv, "//"),
    ("mod", operator.mod, "%"),
    ("pow", operator.pow, "**"),
    ("matmul", operator.matmul, "@"),
    ("and", operator.and_, "&"),
    ("or", operator.or_, "|"),
    ("xor", operator.xor, "^"),
):
    _forward, _reflected = _binary(_op, _symbol)
    setattr(Traced, f"__{_name}__", _forward)
    setattr(Traced, f"__r{_name}__", _reflected)
    _iop = getattr(operator, f"i{_name.rstrip('_')}" if _name != "and" else "iand")
    setattr(Traced, f"__i{_name}__", _inplace(_iop, _symbol + "="))
for _name, _op, _symbol in (
    ("eq", operator.eq, "=="),
    ("ne", operator.ne, "!="),
    ("lt", operator.lt, "<"),
    ("le", operator.le, "<="),
    ("gt", operator.gt, ">"),
    ("ge", operator.ge, ">="),
):
    setattr(Traced, f"__{_name}__", _binary(_op, _symbol)[0])
for _name, _op, _symbol in (
    ("neg", operator.neg, "-"),
    ("pos", operator.pos, "+"),
    ("abs", operator.abs, "abs"),
    ("invert", operator.invert, "~"),
):
    setattr(
        Traced,
        f"__{_name}__",
        (lambda op, s: lambda self: _record(op, s, (self,), {}))(_op, _symbol),
    )

_T = operator.attrgetter("T")
_MT = operator.attrgetter("mT")


def _unwrap(value):
    if isinstance(value, Traced):
        return value.value
    if type(value) in (tuple, list):
        return type(value)(_unwrap(v) for v in value)
    if type(value) is dict:
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _record(func, label, args, kwargs, inplace=False, effect=False):
    """Run `func` on the real arrays; while recording, also append it to the recording.
    `inplace`: it changes args[0] (`a += b`); `effect`: keep it even if nothing reads
    its result (a random draw advances the generator)."""
    result = func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
    recording = STATE.recording  # the Recording being made, while a trace runs
    if recording is None:  # a Traced array that outlived its trace: just compute
        return result
    return recording.add(func, label, args, kwargs, result, inplace, effect)


def _on_arrays(func):
    """What a recording calls for host function `func`: `func` itself, with recording
    paused (its inner array operations are one instruction, not many)."""

    def on_arrays(*args, **kwargs):
        recording, STATE.recording = STATE.recording, None
        try:
            return func(*args, **kwargs)
        finally:
            STATE.recording = recording

    on_arrays.__name__ = func.__name__
    return on_arrays


_HOST_CALLS = {}  # host function -> its _on_arrays (one object, so recordings compare equal)
_HOST_WRAPPERS = set()  # the _on_arrays wrappers: calls that never change their arguments
_HOST_CHECKS = {}  # host value function -> its _Expect


class _Expect:
    """Replays check that a value the step's Python branched on is still what it was
    when the step was recorded (see autograd.host_value)."""

    __slots__ = ("func",)

    def __init__(self, func):
        self.func = func

    def __call__(self, expected, *args, **kwargs):
        value = self.func(*args, **kwargs)
        if value != expected:
            raise JitError(
                f"tg.jit: {self.func.__name__} gave {value!r} on this call but {expected!r} "
                "when the step was recorded, and the library's Python branched on it (for "
                "example cross_entropy with targets equal to ignore_index in some batches "
                "only). Call the function without tg.jit for such inputs, or keep them "
                "alike in every batch. This replay stopped part-way: in-place changes "
                "made before this check (BatchNorm statistics) stay."
            )


# ---- the recording array module and generators ------------------------------------------

_METADATA = {"ndim", "shape", "size", "result_type", "can_cast", "isscalar", "iscomplexobj"}


class _RecordingModule:
    """A device's `xp` while recording: each function call is recorded."""

    def __init__(self, xp, traced_type):
        self._xp = xp
        self.ndarray = traced_type
        self.__name__ = getattr(xp, "__name__", "xp")

    def __getattr__(self, name):
        attribute = getattr(self._xp, name)
        if isinstance(attribute, type(numpy)):  # xp.linalg, xp.fft: record inside too
            return _RecordingModule(attribute, self.ndarray)
        if not callable(attribute) or isinstance(attribute, type) and name != "asarray":
            return attribute  # constants (xp.pi, xp.newaxis) and dtypes (xp.float32)
        return _RecordedFunction(attribute, name)


class _RecordedFunction:
    __slots__ = ("func", "name")

    def __init__(self, func, name):
        self.func = func
        self.name = name

    def __call__(self, *args, **kwargs):
        return _record(self.func, self.name, args, kwargs)

    def __getattr__(self, name):  # ufunc methods: xp.add.at, xp.maximum.reduce
        return _RecordedFunction(getattr(self.func, name), f"{self.name}.{name}")


class _Draw:
    """Draw random numbers from the generator of a device *at replay time*:
    `backend.manual_seed` replaces the generators, so the recording must not keep one."""

    __slots__ = ("device", "method")

    def __init__(self, device, method):
        self.device = device
        self.method = method

    def __eq__(self, other):  # two recordings draw alike when device and method agree
        return type(other) is _Draw and (other.device, other.method) == (self.device, self.method)

    __hash__ = None

    def __call__(self, *args, **kwargs):
        return getattr(_REAL_GENERATOR(self.device), self.method)(*args, **kwargs)


class _GeneratorProxy:
    """What `backend.generator(device)` returns while recording."""

    def __init__(self, device):
        self._device = device

    def __getattr__(self, method):
        draw = _Draw(self._device, method)

        def call(*args, **kwargs):
            label = f"generator({self._device.name}).{method}"
            return _record(draw, label, args, kwargs, effect=True)

        return call


def _traced_generator(device):
    return _GeneratorProxy(device)


# ---- the recording -----------------------------------------------------------------------

_LITERALS = (int, bool, str, type(None))
# Operators as the NumPy ufuncs they call, so that their results can go into `out=`.
_UFUNCS = {
    operator.add: numpy.add,
    operator.sub: numpy.subtract,
    operator.mul: numpy.multiply,
    operator.truediv: numpy.true_divide,
    operator.pow: numpy.power,
    operator.matmul: numpy.matmul,
    operator.neg: numpy.negative,
    operator.lt: numpy.less,
    operator.le: numpy.less_equal,
    operator.gt: numpy.greater,
    operator.ge: numpy.greater_equal,
}
_REUSE_BYTES = 4096  # below this, NumPy's own cache of small blocks is as fast


class _Line:
    """One line of a recording: `code` (compiled), `text` (printed), the buffers it reads,
    the buffer it makes or changes (`out`) and whether it must run even when nothing
    reads `out` (`effect`: in-place writes, random draws)."""

    __slots__ = ("code", "text", "reads", "out", "effect", "reuse")

    def __init__(self, code, text, reads, out, effect, reuse=None):
        self.code = code
        self.text = text
        self.reads = reads
        self.out = out
        self.effect = effect
        self.reuse = reuse  # (ufunc name, argument code, result) if `out=` can be used


class Recording:
    """The array operations of one call of the jitted function, as straight-line code.

    `print(recording)` shows one line per array op (`v7 = v5 @ v6`), after the reads of
    the arrays that live across calls (`v1 = T0.data`, a parameter) and before the
    writes back (`T0._grad = Tensor(v9)`).  `run(args)` replays it."""

    def __init__(self, name):
        self.name = name
        self.reads = []  # _Line: read an input or a persistent array into a buffer
        self.lines = []  # _Line: the array operations, in the order they ran
        self.writes = []  # _Line: store buffers back into tensors and optimizer state
        self.output_code = "None"
        self.output_text = "None"
        self.slots = 0
        self.names = {"W": None}  # namespace of the compiled code: f3, c1, T0, ...
        self.counts = {}  # prefix -> how many names it has in `names`
        self.ids = {}  # id(object) -> its name in `names`
        self.keep = []  # objects named by id, kept alive while the recording is made
        self.traced_types = {}  # real array type -> Traced subclass of its device
        self.input_slots = {}  # id(real array) -> its Traced (one buffer per array)
        self.guards = []  # (check, object, expected): what must hold to replay
        self.args_key = None
        self.confirmed = False
        self.adopted = {}  # id(object) -> object: tensors, modules, optimizers read from
        self.start_grad = {}  # id(tensor) -> its .grad (Tensor or None) when adopted
        self.start_state = {}  # (id(optimizer), id(param)) -> copy of its state dict
        self.state_slots = {}  # (id(optimizer), id(param), key) -> slot read
        self.replay = None
        self.source = None
        self.slot_of_array = {}  # id(real array) -> slot, while recording
        self.view_of = {}  # slot -> slot of the array it is a view of
        self.buffers = 0  # arrays kept from one replay to the next for `out=`
        self.written = set()  # slots changed in place (their tensors' versions move on)

    # ---- naming ------------------------------------------------------------------
    def _name(self, obj, prefix):
        name = self.ids.get(id(obj))
        if name is None or not name.startswith(prefix):
            number = self.counts.get(prefix, 0)
            self.counts[prefix] = number + 1
            name = f"{prefix}{number}"
            self.names[name] = obj
            self.ids[id(obj)] = name
            self.keep.append(obj)
        return name

    def new_traced(self, value):
        traced = self.traced_types[type(value)](value, self.slots)
        self.slots += 1
        base = getattr(value, "base", None)
        if base is not None and id(base) in self.slot_of_array:
            self.view_of[traced.slot] = self.slot_of_array[id(base)]
        self.slot_of_array[id(value)] = traced.slot
        self.keep.append(value)  # ids stay unique while recording
        return traced

    def _arg(self, value, reads):
        """(code, text) of one argument; Traced arrays become their buffer's name."""
        if isinstance(value, Traced):
            reads.append(value.slot)
            return f"v{value.slot}", f"v{value.slot}"
        kind = type(value)
        if kind in _LITERALS or (kind is float and value == value and abs(value) != float("inf")):
            return repr(value), repr(value)
        if value is Ellipsis:
            return "...", "..."
        if kind is slice:
            parts = [self._arg(p, reads) for p in (value.start, value.stop, value.step)]
            text = ":".join("" if p[1] == "None" else p[1] for p in parts[:2])
            if value.step is not None:
                text += ":" + parts[2][1]
            return f"slice({', '.join(p[0] for p in parts)})", text
        if kind in (tuple, list):
            parts = [self._arg(v, reads) for v in value]
            code = ", ".join(p[0] for p in parts)
            text = ", ".join(p[1] for p in parts)
            if kind is tuple:
                comma = "," if len(parts) == 1 else ""
                return f"({code}{comma})", f"({text}{comma})"
            return f"[{code}]", f"[{text}]"
        name = self._name(value, "c")
        if isinstance(value, numpy.dtype) or isinstance(value, type):
            text = getattr(value, "__name__", str(value))
        elif hasattr(value, "shape") and hasattr(value, "dtype"):
            text = f"<constant {tuple(value.shape)} {value.dtype}>"
        else:
            text = repr(value)
            text = text if len(text) < 40 else f"<{type(value).__name__}>"
        return name, text

    # ---- recording one operation ---------------------------------------------------
    def add(self, func, label, args, kwargs, result, inplace, effect):
        reads = []
        parts = [self._arg(a, reads) for a in args]
        parts += [
            (f"{k}={c}", f"{k}={t}")
            for k, (c, t) in ((k, self._arg(v, reads)) for k, v in kwargs.items())
        ]
        call = f"{self._name(func, 'f')}({', '.join(p[0] for p in parts)})"
        texts = [p[1] for p in parts]
        text = _pretty(label, texts)
        if inplace:
            target = args[0]
            self.written.add(target.slot)
            target.value = result
            self._append(
                f"v{target.slot} = {call}", _pretty(label, texts), reads, target.slot, True
            )
            return target
        out = kwargs.get("out")
        if out is not None:
            out_slot = out.slot if isinstance(out, Traced) else None
            if type(out) is tuple and len(out) == 1:
                out = out[0]
                out_slot = out.slot if isinstance(out, Traced) else None
            self.written.add(out_slot)
            self._append(call, text, reads, out_slot, True)
            return out
        if result is None:  # a[i] = b, xp.add.at(a, ...), xp.copyto(a, ...): a changes
            # (a host function returning None is a check: it reads its arguments only)
            if args and isinstance(args[0], Traced) and func not in _HOST_WRAPPERS:
                self.written.add(args[0].slot)
            self._append(call, text, reads, None, True)
            return None
        kind = type(result)
        if kind in self.traced_types:
            traced = self.new_traced(result)
            line = _Line(
                f"v{traced.slot} = {call}", f"v{traced.slot} = {text}", reads, traced.slot, effect
            )
            ufunc = _UFUNCS.get(func, func) if type(func).__hash__ is not None else None
            if (
                kind is numpy.ndarray
                and type(ufunc) is numpy.ufunc
                and not kwargs
                and result.base is None
                and result.nbytes >= _REUSE_BYTES
            ):
                line.reuse = (self._name(ufunc, "f"), ", ".join(p[0] for p in parts), result)
            self.lines.append(line)
            return traced
        if isinstance(result, numpy.generic):  # NumPy's 0-d results: arrays, as apply does
            traced = self.new_traced(numpy.asarray(result))
            self.names["asarray"] = numpy.asarray
            self._append(
                f"v{traced.slot} = asarray({call})",
                f"v{traced.slot} = {text}",
                reads,
                traced.slot,
                effect,
            )
            return traced
        if kind in (tuple, list) and any(type(r) in self.traced_types for r in result):
            whole = self.slots
            self.slots += 1
            self._append(f"v{whole} = {call}", f"v{whole} = {text}", reads, whole, effect)
            items = []
            for i, item in enumerate(result):
                if type(item) in self.traced_types:
                    traced = self.new_traced(item)
                    self._append(
                        f"v{traced.slot} = v{whole}[{i}]",
                        f"v{traced.slot} = v{whole}[{i}]",
                        [whole],
                        traced.slot,
                        False,
                    )
                    item = traced
                items.append(item)
            return kind(items)
        if reads and label not in _METADATA and isinstance(result, (bool, int, float, complex)):
            raise _data_dependent(f"{label}() returning a Python value")
        return result  # dtypes, shapes: facts that do not depend on the numbers

    def host_call(self, func, args, kwargs):
        """A call of an `autograd.host_function`: one instruction, run again on replay."""
        on_arrays = _HOST_CALLS.get(func)
        if on_arrays is None:
            on_arrays = _HOST_CALLS[func] = _on_arrays(func)
            _HOST_WRAPPERS.add(on_arrays)
        return _record(on_arrays, func.__name__, args, kwargs)

    def host_value(self, func, args, kwargs):
        """A call of an `autograd.host_value`: its value now, checked again on replay."""
        check = _HOST_CHECKS.get(func)
        if check is None:
            check = _HOST_CHECKS[func] = _Expect(func)
        value = _on_arrays(func)(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()})
        _record(check, f"expect_{func.__name__}", (value,) + tuple(args), kwargs, effect=True)
        return value

    def _append(self, code, text, reads, out, effect):
        self.lines.append(_Line(code, text, reads, out, effect))

    # ---- arrays that exist before the call -----------------------------------------
    def input(self, value, code, text):
        """The buffer for an array that exists before the call, read by `code`."""
        if type(value) not in self.traced_types:
            return value  # not an array of a traced device: a constant
        traced = self.input_slots.get(id(value))
        if traced is None:
            traced = self.input_slots[id(value)] = self.new_traced(value)
            self.keep.append(value)
            line = f"v{traced.slot} = {code}"
            self.reads.append(_Line(line, f"{line:<28} # {text}", [], traced.slot, False))
        return traced

    def adopt_tensor(self, t, what="tensor"):
        if id(t) in self.adopted or isinstance(t.data, Traced):
            return
        self.adopted[id(t)] = t
        self.guards.append((_tensor_guard, t, _tensor_guard(t)))
        name = self._name(t, "T")
        shape = f"{tuple(t.data.shape)} {t.data.dtype}"
        grad = t._grad
        t.data = self.input(t.data, f"{name}.data", f"{what} {shape}")
        if grad is not None:
            if grad.grad_fn is not None:
                raise JitError(
                    "tg.jit: a .grad that has a graph (from backward(create_graph=True)) "
                    "cannot be recorded; call zero_grad() before the jitted function"
                )
            grad.data = self.input(grad.data, f"{name}._grad.data", f"its .grad {shape}")
        self.start_grad[id(t)] = grad

    def adopt_module(self, module):
        if id(module) in self.adopted:
            return
        modules = tuple(module.modules())
        for m in modules:  # one guard for the whole tree: submodules need none of their own
            self.adopted.setdefault(id(m), m)
        self.guards.append((_module_guard, modules, _module_guard(modules)))
        for name, p in module.named_parameters():
            self.adopt_tensor(p, f"parameter {name}")
        for name, b in module.named_buffers():
            self.adopt_tensor(b, f"buffer {name}")

    def adopt_optimizer(self, optimizer):
        if id(optimizer) in self.adopted:
            return
        self.adopted[id(optimizer)] = optimizer
        self.guards.append((_optimizer_guard, optimizer, _optimizer_guard(optimizer)))
        o = self._name(optimizer, "O")
        label = type(optimizer).__name__
        for group in optimizer.param_groups:
            for p in group["params"]:
                self.adopt_tensor(p, "parameter")
                state = optimizer.state.get(p)
                self.start_state[(id(optimizer), id(p))] = dict(state or {})
                for key, value in (state or {}).items():
                    code = f"{o}.state[{self._name(p, 'T')}][{key!r}]"
                    traced = state[key] = self.input(value, code, f"{label} state {key!r}")
                    if isinstance(traced, Traced):
                        self.state_slots[(id(optimizer), id(p), key)] = traced.slot

    # ---- the end of the call -------------------------------------------------------
    def finish(self, output):
        """Write-backs and outputs from the state after the call; real arrays back in
        place of the Traced ones; then dead-code elimination and compilation."""
        self.names["W"] = Tensor._wrap
        for obj in list(self.adopted.values()):
            if isinstance(obj, Tensor):
                self._finish_tensor(obj)
        for obj in list(self.adopted.values()):
            if hasattr(obj, "param_groups"):
                self._finish_optimizer(obj)
        reads = []
        self.output_code, self.output_text = self._output(output, reads)
        self.returned = reads
        self._eliminate_dead_code()
        self._compile()
        self.traced_types = {}
        self.input_slots = {}
        self.keep = []
        self.slot_of_array = {}
        return _real_output(output)

    def _finish_tensor(self, t):
        name = self._name(t, "T")
        data = t.data
        if isinstance(data, Traced):
            if self.input_slots.get(id(data.value)) is not data:
                self._write(f"{name}.data = v{data.slot}", [data.slot])
            elif data.slot in self.written:  # as eager `p._bump_version()`: saved copies of
                self._write(f"{name}._bump_version()", [])  # p in a graph are now stale
            t.data = data.value
        grad, start = t._grad, self.start_grad.get(id(t))
        if grad is None:
            if start is not None:
                self._write(f"{name}._grad = None", [])
        elif isinstance(grad.data, Traced):
            slot = grad.data.slot
            if grad is not start:
                device = self._name(grad.device, "D")
                self._write(
                    f"{name}._grad = W(v{slot}, {device})", [slot], f"{name}.grad = v{slot}"
                )
            elif self.input_slots.get(id(grad.data.value)) is not grad.data:
                self._write(f"{name}._grad.data = v{slot}", [slot])
            grad.data = grad.data.value

    def _finish_optimizer(self, optimizer):
        o = self._name(optimizer, "O")
        for group in optimizer.param_groups:
            for p in group["params"]:
                state = optimizer.state.get(p)
                start = self.start_state.get((id(optimizer), id(p)), {})
                for key, value in (state or {}).items():
                    target = f"{o}.state[{self._name(p, 'T')}][{key!r}]"
                    if isinstance(value, Traced):
                        if self.state_slots.get((id(optimizer), id(p), key)) != value.slot:
                            self._write(f"{target} = v{value.slot}", [value.slot])
                        state[key] = value.value
                    elif key not in start or start[key] is not value:
                        code, text = self._arg(value, [])
                        self._write(f"{target} = {code}", [])

    def _write(self, code, reads, text=None):
        self.writes.append(_Line(code, text or code, reads, None, True))

    def _output(self, value, reads):
        if isinstance(value, Tensor) and isinstance(value.data, Traced):
            slot = value.data.slot
            reads.append(slot)
            return f"W(v{slot}, {self._name(value.device, 'D')})", f"Tensor(v{slot})"
        if type(value) in (tuple, list):
            parts = [self._output(v, reads) for v in value]
            code = ", ".join(p[0] for p in parts) + ("," if len(parts) == 1 else "")
            text = ", ".join(p[1] for p in parts)
            return (
                (f"({code})", f"({text})") if type(value) is tuple else (f"[{code}]", f"[{text}]")
            )
        if type(value) is dict:
            parts = [(repr(k), self._output(v, reads)) for k, v in value.items()]
            code = ", ".join(f"{k}: {c}" for k, (c, _) in parts)
            return "{" + code + "}", "{" + ", ".join(f"{k}: {t}" for k, (_, t) in parts) + "}"
        return self._arg(value, reads)

    def _eliminate_dead_code(self):
        """Drop operations whose results nothing uses (walking backwards, keep a line if
        it has an effect or makes a buffer a kept line, a write or the output reads)."""
        live = set(self.returned)
        for line in self.writes:
            live.update(line.reads)
        kept = []
        for line in reversed(self.lines):
            if line.effect or line.out in live:
                kept.append(line)
                live.update(line.reads)
        self.lines = kept[::-1]
        self.reads = [line for line in self.reads if line.out in live]

    def _reuse_buffers(self):
        """A temporary made by a NumPy ufunc (`v9 = v7 + v8`) is written into a buffer the
        recording keeps (`v9 = add(v7, v8, out=B0)`) instead of a new array: no allocation
        and no page faults.  A buffer serves the next temporary of its shape and dtype as
        soon as the last line reading the previous one has run (as the allocator would
        hand back freed memory, so it stays in the cache).  Never for what is returned,
        written back, or a view of either."""
        escaping = set(self.returned)
        for line in self.writes:
            escaping.update(line.reads)
        stack = list(escaping)
        while stack:
            base = self.view_of.get(stack.pop())
            if base is not None and base not in escaping:
                escaping.add(base)
                stack.append(base)
        last_use = {}
        for index, line in enumerate(self.lines):
            for slot in line.reads:
                last_use[slot] = index
        for slot in sorted(self.view_of, reverse=True):  # a view keeps its base's buffer
            base = self.view_of[slot]
            last_use[base] = max(last_use.get(base, -1), last_use.get(slot, -1))
        free = {}  # (shape, dtype) -> names of buffers nobody reads any more
        owner = {}  # slot -> its buffer's name
        releases = {}  # line index -> slots whose buffer is free after that line
        for slot, index in last_use.items():
            releases.setdefault(index, []).append(slot)
        for index, line in enumerate(self.lines):
            if line.reuse is not None and line.out not in escaping and line.out in last_use:
                ufunc, arguments, value = line.reuse
                key = (value.shape, value.dtype)
                if free.get(key):
                    buffer = free[key].pop()
                else:
                    buffer = f"B{self.buffers}"
                    self.buffers += 1
                    self.names[buffer] = numpy.empty_like(value)
                owner[line.out] = buffer
                line.code = f"v{line.out} = {ufunc}({arguments}, out={buffer})"
            line.reuse = None
            for slot in releases.get(index, ()):
                buffer = owner.pop(slot, None)
                if buffer is not None:
                    value = self.names[buffer]
                    free.setdefault((value.shape, value.dtype), []).append(buffer)

    def _compile(self):
        self._reuse_buffers()
        body = [line.code for line in self.reads + self.lines + self.writes]
        body.append(f"return {self.output_code}")
        self.source = "def replay(A):\n" + "".join(f"    {line}\n" for line in body)
        filename = f"<tg.jit recording of {self.name} at {id(self):#x}>"
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        namespace = dict(self.names)
        exec(compile(self.source, filename, "exec"), namespace)
        self.replay = namespace["replay"]

    # ---- using it ------------------------------------------------------------------
    def guards_hold(self):
        for check, obj, expected in self.guards:
            if check(obj) != expected:
                return False
        return True

    def run(self, args):
        """Replay: the operations on the arrays of `args` and of the persistent state.

        The seam for CUDA graphs: on CuPy, the first replay could run inside
        `cupy.cuda.Graph` capture (stream.begin_capture / end_capture) after copying
        the inputs into buffers the recording owns, and later replays would copy the
        inputs in and launch the captured graph (graph.launch()) instead of this call."""
        return self.replay(args)

    def same_program(self, other):
        """Did two traces record the same operations with the same constants?"""
        if self.source != other.source or self.names.keys() != other.names.keys():
            return False
        return all(
            _same_constant(self.names[k], other.names[k]) for k in self.names if k[0] in "fc"
        )

    def first_difference(self, other):
        mine, theirs = str(self).splitlines(), str(other).splitlines()
        for a, b in zip(mine, theirs):
            if a != b:
                return f"    {b}\n  became\n    {a}"
        for k in self.names:
            if (
                k[0] in "c"
                and k in other.names
                and not _same_constant(self.names[k], other.names[k])
            ):
                return f"    constant {k}: {other.names[k]!r}\n  became\n    {self.names[k]!r}"
        return "    (the number of operations changed)"

    def __str__(self):
        ops = len(self.lines)
        head = (
            f"# tg.jit recording of {self.name}: {ops} array ops; "
            f"{len(self.reads)} arrays read, {len(self.writes)} written back"
        )
        lines = [head]
        lines += [line.text for line in self.reads]
        lines += [line.text for line in self.lines]
        lines += [line.text for line in self.writes]
        lines.append(f"return {self.output_text}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<tg.jit recording of {self.name}: {len(self.lines)} array ops>"

    def print(self, file=None):
        """Print the recording (the same as `print(recording)`)."""
        print(self, file=file or sys.stdout)


def _pretty(label, texts):
    """A recorded call as a learner would write it: `v3 @ v4`, `tanh(v5)`, `v2 *= 0.9`."""
    if (
        label
        in (
            "+",
            "-",
            "*",
            "/",
            "//",
            "%",
            "**",
            "@",
            "&",
            "|",
            "^",
            "==",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
        )
        and len(texts) == 2
    ):
        return f"{texts[0]} {label} {texts[1]}"
    if label.endswith("=") and label[:-1] in (
        "+",
        "-",
        "*",
        "/",
        "//",
        "%",
        "**",
        "@",
        "&",
        "|",
        "^",
    ):
        return f"{texts[0]} {label} {texts[1]}"
    if label in ("-", "+", "~") and len(texts) == 1:
        return f"{label}{texts[0]}"
    if label == "[]":
        return f"{texts[0]}[{texts[1].strip('()')}]"
    if label == "[]=":
        return f"{texts[0]}[{texts[1].strip('()')}] = {texts[2]}"
    if label in (".T", ".mT"):
        return texts[0] + label
    if label.startswith("."):
        return f"{texts[0]}{label}({', '.join(texts[1:])})"
    return f"{label}({', '.join(texts)})"


def _same_constant(a, b):
    """Same constant in two recordings: the same object; a NumPy array holding the same
    numbers (a step that makes `np.arange(t)` afresh on each call records it each time,
    like a Python number); other values (numbers, dtypes, bound methods such as
    numpy.add.at) when equal.  Device arrays only when the very same object."""
    if a is b:
        return True
    if type(a) is numpy.ndarray and type(b) is numpy.ndarray:
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        return bool(numpy.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if type(a) is float and type(b) is float and a != a and b != b:  # NaN is NaN
        return True
    if type(a) is not type(b) or (hasattr(a, "shape") and not isinstance(a, numpy.generic)):
        return False
    try:
        equal = a == b
    except Exception:  # a type whose == refuses other objects
        return False
    return isinstance(equal, (bool, numpy.bool_)) and bool(equal)


def _real_output(value):
    if isinstance(value, Tensor) and isinstance(value.data, Traced):
        return Tensor._wrap(value.data.value, value.device)
    if isinstance(value, Traced):
        return value.value
    if type(value) in (tuple, list):
        return type(value)(_real_output(v) for v in value)
    if type(value) is dict:
        return {k: _real_output(v) for k, v in value.items()}
    return value


# ---- guards: what must be as it was for a recording to replay -----------------------------


def _array_guard(array):
    return (type(array), array.shape, array.dtype)


def _tensor_guard(t):
    grad = t._grad
    return (
        _array_guard(t.data),
        t.requires_grad,
        None if grad is None else (_array_guard(grad.data), grad.grad_fn is None),
    )


def _module_guard(modules):
    return [m.training for m in modules]


def _freeze(value):
    if type(value) in (list, tuple):
        return tuple(_freeze(v) for v in value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return ("array", id(value))
    return value


def _optimizer_guard(optimizer):
    groups = tuple(
        [
            tuple([(k, _freeze(v)) for k, v in g.items() if k != "params"])
            for g in optimizer.param_groups
        ]
    )
    state = tuple(
        [
            (
                id(p),
                tuple(
                    [
                        (k, _array_guard(v) if hasattr(v, "dtype") else _freeze(v))
                        for k, v in values.items()
                    ]
                ),
            )
            for p, values in optimizer.state.items()
        ]
    )
    return groups, state


# ---- tracing: swapping the array modules in, and finding the state ------------------------


def _roots(fn, args, kwargs):
    """Objects the function can reach without being passed them: bound `self`,
    functools.partial arguments, closure cells, default arguments, and the globals its
    code names.  Modules, optimizers and tensors among them are read by the recording."""
    roots = list(args) + list(kwargs.values())
    seen_code = set()
    while True:
        if hasattr(fn, "__self__") and hasattr(fn, "__func__"):
            roots.append(fn.__self__)
            fn = fn.__func__
        elif hasattr(fn, "func") and hasattr(fn, "keywords"):  # functools.partial
            roots += list(fn.args) + list(fn.keywords.values())
            fn = fn.func
        else:
            break
    code = getattr(fn, "__code__", None)
    if code is None:  # a callable object (a Module, say): itself and its attributes
        return roots + [fn] + list(getattr(fn, "__dict__", {}).values())
    roots += _cell_contents(fn.__closure__ or ())
    roots += list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values())
    stack = [code]
    names = set()
    while stack:
        c = stack.pop()
        if id(c) in seen_code:
            continue
        seen_code.add(id(c))
        names.update(c.co_names)
        stack += [k for k in c.co_consts if hasattr(k, "co_names")]
    globals_ = getattr(fn, "__globals__", {})
    roots += [globals_[n] for n in sorted(names) if n in globals_]
    return roots


def _cell_contents(cells):
    values = []
    for cell in cells:
        try:
            values.append(cell.cell_contents)
        except ValueError:  # an empty cell: a variable not assigned yet
            pass
    return values


def _adopt_reachable(recording, roots):
    stack = [(r, 3) for r in roots]
    seen = set()
    while stack:
        obj, depth = stack.pop()
        if id(obj) in seen or depth < 0:
            continue
        seen.add(id(obj))
        if isinstance(obj, Tensor):
            recording.adopt_tensor(obj)
        elif isinstance(obj, Module):
            recording.adopt_module(obj)
        elif isinstance(obj, Optimizer):
            recording.adopt_optimizer(obj)
        elif type(obj) in (list, tuple) and len(obj) <= 256:
            stack += [(v, depth - 1) for v in obj]
        elif type(obj) is types.FunctionType and depth > 0:
            # a function the step calls (jit(lambda: step(x))): what it reaches, too
            stack += [(v, depth - 1) for v in _roots(obj, (), {})]
        elif type(obj) is dict and len(obj) <= 256:
            stack += [(v, depth - 1) for v in obj.values()]
        elif hasattr(obj, "optimizer") and hasattr(obj, "get_last_lr"):  # a scheduler
            stack.append((obj.optimizer, depth - 1))


class _Swap:
    """Everything a trace changes for its duration, and puts back afterwards."""

    def __init__(self, recording):
        self.recording = recording
        self.devices = list({id(d): d for d in [backend.CPU, *backend._DEVICES.values()]}.values())
        self.saved_devices = [(d.xp, d.array_type, d.to_host, d.from_host) for d in self.devices]
        self.constants = dict(_CONSTANTS)

    def __enter__(self):
        recording = self.recording
        for device in self.devices:
            real = device.array_type
            traced = type(f"Traced_{device.type}", (Traced,), {"__slots__": (), "device": device})
            recording.traced_types[real] = traced
            device.xp = _RecordingModule(device.xp, traced)
            device.array_type = traced
            device.to_host = _make_to_host(device, device.to_host)
            device.from_host = _make_from_host(device, device.from_host)
        if numpy.ndarray not in recording.traced_types:
            raise JitError("tg.jit: the cpu device is not available")
        backend.generator = _traced_generator
        # Every trace starts with no cached scalar constants (x * 2.0 makes its 2.0 once,
        # then reuses it): otherwise an eager call between two traces would fill the cache
        # and the second trace would record one op fewer than the first.
        _CONSTANTS.clear()
        # Module.__call__, Optimizer.zero_grad and every step() (through _evaluate) tell
        # the recording they ran, so it keeps their state: parameters, buffers, moments.
        STATE.recording = recording
        return self

    def __exit__(self, *exc_info):
        for device, saved in zip(self.devices, self.saved_devices):
            device.xp, device.array_type, device.to_host, device.from_host = saved
        backend.generator = _REAL_GENERATOR
        STATE.recording = None
        _CONSTANTS.clear()  # constants made while tracing hold Traced arrays
        _CONSTANTS.update(self.constants)
        return False


_TENSOR_INIT = Tensor.__init__.__code__


def _make_to_host(device, real):
    def to_host(array):
        if isinstance(array, Traced):
            # Tensor(host_numbers, device=d) (tg.randn on a device) hands host numbers on
            # to d.from_host, which records the move; any other copy to the host reads
            # the values (.numpy(), .tolist(), printing).
            if device is backend.CPU and sys._getframe(1).f_code is _TENSOR_INIT:
                return array
            raise _data_dependent(f"a copy from {device.name} to the host (.numpy())")
        return real(array)

    return to_host


def _make_from_host(device, real):
    def from_host(array):
        if device is backend.CPU and isinstance(array, Traced):
            return array
        return _record(real, f"to_{device.type}", (array,), {})

    return from_host


def _restore(recording):
    """After a failed trace: real arrays back into every tensor and optimizer touched."""
    for obj in recording.adopted.values():
        if hasattr(obj, "param_groups"):
            for values in obj.state.values():
                for key, value in values.items():
                    if isinstance(value, Traced):
                        values[key] = value.value
        elif hasattr(obj, "data") and hasattr(obj, "_grad"):
            if isinstance(obj.data, Traced):
                obj.data = obj.data.value
            if obj._grad is not None and isinstance(obj._grad.data, Traced):
                obj._grad.data = obj._grad.data.value


# ---- tg.jit --------------------------------------------------------------------------------


class jit:
    """`step = tg.jit(fn)`: calls of `step` give what `fn` gives, faster once recorded.

    `fn` takes Tensors (and other arguments, which become part of the guard: a new value
    records again) and returns a Tensor, an array, or tuples/lists/dicts of them.  It may
    run forward, `loss.backward()`, `optimizer.step()` and `optimizer.zero_grad()`.
    The returned Tensors carry no graph: call backward inside `fn`.

    The first calls with new shapes run `fn` eagerly while recording its array
    operations; when two recordings in a row agree, later calls replay it.  Attributes:
    `recording` (the last one used: print it), `traces`, `replays`.
    """

    MAX_RECORDINGS = 8

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"tg.jit needs a function, got {type(fn).__name__}")
        self.fn = fn
        self.name = getattr(fn, "__name__", type(fn).__name__)
        self.recordings = []
        self.recording = None
        self.traces = 0
        self.replays = 0
        self.__doc__ = getattr(fn, "__doc__", None)

    def __repr__(self):
        return f"tg.jit({self.name}: {self.traces} traces, {self.replays} replays)"

    def __call__(self, *args, **kwargs):
        if STATE.recording is not None:
            raise JitError("tg.jit: a jitted function was called while another is recording")
        key = _args_key(args, kwargs)
        match = None
        for recording in self.recordings:
            if recording.args_key == key and recording.guards_hold():
                match = recording
                break
        if match is not None and match.confirmed:
            self.replays += 1
            self.recording = match
            if kwargs:
                args = args + tuple(kwargs[k] for k in sorted(kwargs))
            return match.run(args)
        result, recording = self._trace(args, kwargs, key)
        if match is None:
            self.recordings.insert(0, recording)
            del self.recordings[self.MAX_RECORDINGS :]
            self.recording = recording
        elif recording.same_program(match):
            match.confirmed = True
            self.recording = match
        else:
            self.recordings.remove(match)
            raise JitError(
                f"tg.jit({self.name}): two calls with the same input shapes and the same "
                "optimizer and module settings recorded different operations:\n"
                f"{recording.first_difference(match)}\n"
                "A Python number in your own code (a closure variable, a global, a counter) "
                "is a constant of the recording, so a replay would keep using the old one. "
                "Pass changing numbers as Tensor arguments, or put a learning rate in the "
                "optimizer's param_groups (a scheduler), which tg.jit checks on every call. "
                "This call itself ran eagerly and its results are correct."
            )
        return result

    def _trace(self, args, kwargs, key):
        recording = Recording(self.name)
        recording.args_key = key
        self.traces += 1
        positional = args + tuple(kwargs[k] for k in sorted(kwargs))
        swap = _Swap(recording)
        with swap:  # STATE.recording is `recording` until the swap ends
            try:
                for i, arg in enumerate(positional):
                    if isinstance(arg, Tensor) and not isinstance(arg.data, Traced):
                        recording.adopted[id(arg)] = arg
                        recording.start_grad[id(arg)] = arg._grad
                        arg.data = recording.input(arg.data, f"A[{i}].data", f"argument {i}")
                _adopt_reachable(recording, _roots(self.fn, (), {}))
                output = self.fn(*args, **kwargs)
                # An argument's own .grad is not written back (arguments are new each call),
                # so a traced call leaves it as it was, as every replay does: return the
                # gradient if the caller needs it.
                for arg in positional:
                    if isinstance(arg, Tensor):
                        recording.adopted.pop(id(arg), None)
                        if isinstance(arg.data, Traced):
                            arg.data = arg.data.value
                        arg._grad = recording.start_grad[id(arg)]
                result = recording.finish(output)
            except BaseException:
                _restore(recording)
                for arg in positional:
                    if isinstance(arg, Tensor) and isinstance(arg.data, Traced):
                        arg.data = arg.data.value
                raise
        return result, recording


def _args_key(args, kwargs):
    key = [STATE.grad_enabled, STATE.anomaly, backend._default["device"]]
    for position, arg in enumerate(args + tuple(kwargs[k] for k in sorted(kwargs))):
        if isinstance(arg, Tensor):
            data = arg.data
            key.append((type(data), data.shape, data.dtype, arg.requires_grad))
        elif _holds_tensor(arg):
            raise JitError(
                f"tg.jit: argument {position} is a {type(arg).__name__} holding Tensors; a "
                "recording reads only Tensors passed on their own (a Tensor inside would be "
                "a constant of the recording). Pass each Tensor as an argument of its own."
            )
        else:
            try:
                hash(arg)
                key.append((type(arg), arg))
            except TypeError:
                key.append(id(arg))
    key.append(tuple(sorted(kwargs)))
    return tuple(key)


def _holds_tensor(value, depth=3):
    """Whether a list, tuple or dict argument holds a Tensor (a few levels down)."""
    if isinstance(value, Tensor):
        return True
    if depth == 0:
        return False
    if type(value) in (list, tuple):
        return any(_holds_tensor(v, depth - 1) for v in value)
    if type(value) is dict:
        return any(_holds_tensor(v, depth - 1) for v in value.values())
    return False
