"""`save(obj, path)` and `load(path)`: state dicts in a `.npz` file, never a pickle.

What can be saved: a nest of dicts (keys str or int), lists and tuples whose leaves are
Tensors, NumPy arrays, NumPy scalars and Python scalars (int, float, bool, str, None), such
as `model.state_dict()` or `optimizer.state_dict()`.

The file format (version 1) is a plain NumPy `.npz` (a zip of `.npy` files):
- every array is its own entry, named "a0", "a1", ... in the order they were met;
- the entry "__tinygrad_edu__" is a uint8 array holding UTF-8 JSON:
  {"format": "tinygrad_edu", "version": 1, "root": NODE}, where a NODE is
  a JSON null, true/false, number or string for a Python scalar, or one of
  {"type": "dict", "items": [[key, NODE], ...]}   (key: a JSON string or integer)
  {"type": "list", "items": [NODE, ...]}, {"type": "tuple", "items": [NODE, ...]}
  {"type": "tensor", "array": "a0", "requires_grad": false}
  {"type": "ndarray", "array": "a1"}, {"type": "scalar", "array": "a2"} (a NumPy scalar).
  Dict items are pairs, not a JSON object, so int keys come back as ints and key order
  is kept.  Every container carries a tag, so a list never comes back as a tuple.

Why not pickle: unpickling a file runs whatever code the file names, so a downloaded
checkpoint could take over the machine.  `load` reads arrays with
`numpy.load(..., allow_pickle=False)`, checks every entry's header before reading it, and
turns anything unexpected into a `SerializationError` (a ValueError) that says what is wrong.

Tensors are saved from the host (`.numpy()`) and loaded as CPU tensors unless `load(...,
device=)` says where; arrays come back as NumPy arrays.  Sharing is not kept: an array
saved twice comes back as two arrays.
"""

import json
import math
import os
import zipfile

import numpy

from . import backend
from .tensor import Tensor

FORMAT_NAME = "tinygrad_edu"
FORMAT_VERSION = 1
HEADER_ENTRY = "__tinygrad_edu__"  # the npz entry that holds the JSON structure

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with entries; an empty zip
_NPY_MAGIC = b"\x93NUMPY"


class SerializationError(ValueError):
    """A file that `tg.load` cannot read: not one of ours, damaged, or unsafe."""


# ---- save ---------------------------------------------------------------------------------


def save(obj, path):
    """Write `obj` (a state dict: dicts, lists, tuples, Tensors, arrays, scalars) to `path`.

    `path` is used exactly as given (no ".npz" is added) and may be an open binary file.
    The file is written to a temporary name first and then renamed, so an interrupted
    save never leaves a half-written checkpoint under the real name.
    """
    arrays = {}
    root = _encode(obj, arrays, "obj")
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": root}
    text = json.dumps(header, allow_nan=True, separators=(",", ":"))
    entries = {HEADER_ENTRY: numpy.frombuffer(text.encode("utf-8"), dtype=numpy.uint8)}
    entries.update(arrays)
    if hasattr(path, "write"):
        numpy.savez(path, **entries)
        return
    path = os.fspath(path)
    temporary = f"{path}.tmp{os.getpid()}"
    try:
        # An open file, because numpy.savez given a name would append ".npz" to it.
        with open(temporary, "wb") as file:
            numpy.savez(file, **entries)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _encode(obj, arrays, where):
    """The JSON node for `obj`; its arrays are added to `arrays`.  `where` names the spot
    for error messages, e.g. obj['state'][0]['exp_avg']."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, Tensor):
        name = _add_array(arrays, obj.numpy(), where)
        return {"type": "tensor", "array": name, "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, numpy.ndarray):
        return {"type": "ndarray", "array": _add_array(arrays, obj, where)}
    if isinstance(obj, numpy.generic):  # before int/float: numpy.float64 is a float
        return {"type": "scalar", "array": _add_array(arrays, numpy.asarray(obj), where)}
    if isinstance(obj, int):
        return int(obj)  # an IntEnum or similar is saved as the plain int
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(
                    f"save: dict keys must be str or int, got {type(key).__name__} {key!r} "
                    f"in {where}"
                )
            key = key if isinstance(key, str) else int(key)
            items.append([key, _encode(value, arrays, f"{where}[{key!r}]")])
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        items = [_encode(value, arrays, f"{where}[{i}]") for i, value in enumerate(obj)]
        return {"type": kind, "items": items}
    device = backend.device_of_array(obj)
    if device is not None:  # a raw CuPy (or other backend) array, e.g. in optimizer state
        return {"type": "ndarray", "array": _add_array(arrays, device.to_host(obj), where)}
    raise TypeError(
        f"save: cannot save {type(obj).__name__} at {where}; a state dict may hold dicts, "
        "lists, tuples, Tensors, NumPy arrays, int, float, bool, str and None"
    )


def _add_array(arrays, array, where):
    if array.dtype.hasobject:
        # numpy.savez would pickle it, and load refuses pickles.
        raise TypeError(
            f"save: the array at {where} holds Python objects (dtype {array.dtype}); only "
            "numeric and bool arrays can be saved"
        )
    name = f"a{len(arrays)}"
    arrays[name] = array
    return name


# ---- load ---------------------------------------------------------------------------------


def load(path, device=None, map_location=None):
    """Read what `save` wrote.  Tensors come back on "cpu", or on `device` when given.

    `map_location` is another name for `device` (as in PyTorch), for a device name only.
    Raises SerializationError (a ValueError) for a file that is not a tinygrad_edu
    checkpoint, is damaged or would need unpickling; no code in the file is ever run.
    """
    if device is not None and map_location is not None and device != map_location:
        raise ValueError(f"load: device={device!r} and map_location={map_location!r} differ")
    device = backend.get_device(device or map_location or "cpu")
    if hasattr(path, "read"):
        return _load_from(path, "the file", device)
    with open(path, "rb") as file:
        return _load_from(file, repr(os.fspath(path)), device)


def _load_from(file, label, device):
    start = file.tell()
    magic = file.read(6)
    file.seek(start)
    if magic == _NPY_MAGIC:
        raise SerializationError(
            f"{label} is a single NumPy array (.npy), not a tinygrad_edu checkpoint (.npz); "
            "read it with numpy.load"
        )
    if magic[:4] not in _ZIP_MAGIC:
        # Checked before numpy.load sees the file: numpy would treat any other bytes as a
        # pickle (and refuse it, with allow_pickle=False), but we never get that far.
        raise SerializationError(
            f"{label} is not a tinygrad_edu checkpoint: it is not an .npz (zip) archive "
            f"(it starts with {magic[:4]!r}, not b'PK\\x03\\x04')"
        )
    try:
        archive = numpy.load(file, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SerializationError(
            f"{label} is not a readable .npz archive; it may be truncated or damaged ({error})"
        ) from None
    with archive:
        if HEADER_ENTRY not in archive.files:
            raise SerializationError(
                f"{label} is an .npz archive but not a tinygrad_edu checkpoint: it has no "
                f"{HEADER_ENTRY!r} entry (entries: {sorted(archive.files)[:10]}). Read a plain "
                "NumPy archive with numpy.load"
            )
        header = _read_header(archive, label)
        names = set(archive.files) - {HEADER_ENTRY}
        decoder = _Decoder(archive, label, device, names)
        obj = decoder.decode(header["root"], "obj")
        unused = sorted(names - decoder.used)
        if unused:
            raise SerializationError(
                f"{label} has entries the tinygrad_edu header does not mention: {unused[:10]}; "
                "it was not written by tg.save or has been altered"
            )
    return obj


def _read_header(archive, label):
    """The parsed JSON of the header entry, checked for our format name and version."""
    array = _read_entry(archive, HEADER_ENTRY, label)
    if array.dtype != numpy.uint8 or array.ndim != 1:
        raise SerializationError(
            f"{label}: the {HEADER_ENTRY!r} entry should be 1-d uint8 bytes, got dtype "
            f"{array.dtype} shape {array.shape}"
        )
    try:
        header = json.loads(array.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise SerializationError(
            f"{label}: the {HEADER_ENTRY!r} entry is not JSON ({error})"
        ) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise SerializationError(f"{label}: the header does not say format {FORMAT_NAME!r}")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SerializationError(f"{label}: bad format version {version!r} in the header")
    if version > FORMAT_VERSION:
        raise SerializationError(
            f"{label} uses checkpoint format version {version}, written by a newer "
            f"tinygrad_edu; this one reads version {FORMAT_VERSION}. Upgrade tinygrad_edu"
        )
    if "root" not in header:
        raise SerializationError(f"{label}: the header has no 'root'")
    return header


def _read_entry(archive, name, label):
    """One array from the archive, after checking its .npy header: no object arrays (they
    would be pickles) and no more data claimed than the entry holds."""
    member = f"{name}.npy"
    if member not in archive.zip.namelist():
        raise SerializationError(f"{label}: the entry {name!r} is not a NumPy array")
    try:
        with archive.zip.open(member) as entry:
            version = numpy.lib.format.read_magic(entry)
            if version == (1, 0):
                shape, _, dtype = numpy.lib.format.read_array_header_1_0(entry)
            elif version == (2, 0):
                shape, _, dtype = numpy.lib.format.read_array_header_2_0(entry)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            header_size = entry.tell()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SerializationError(f"{label}: the entry {name!r} is damaged ({error})") from None
    if dtype.hasobject:
        raise SerializationError(
            f"{label}: the entry {name!r} holds pickled Python objects (dtype {dtype}); "
            "tinygrad_edu checkpoints never contain pickles, and loading one could run code, "
            "so it is refused"
        )
    claimed = math.prod(shape) * dtype.itemsize
    stored = archive.zip.getinfo(member).file_size - header_size
    if claimed > stored:
        # Checked before reading, so a forged shape cannot make us allocate terabytes.
        raise SerializationError(
            f"{label}: the entry {name!r} is truncated: its header says {claimed} bytes of "
            f"data, it holds {stored}"
        )
    try:
        return archive[name]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise SerializationError(f"{label}: the entry {name!r} is damaged ({error})") from None


_NODE_FIELDS = {
    "dict": {"type", "items"},
    "list": {"type", "items"},
    "tuple": {"type", "items"},
    "tensor": {"type", "array", "requires_grad"},
    "ndarray": {"type", "array"},
    "scalar": {"type", "array"},
}


class _Decoder:
    """Turns header nodes back into objects, reading each array it names (once)."""

    def __init__(self, archive, label, device, names):
        self.archive = archive
        self.label = label
        self.device = device
        self.names = names  # the array entries in the file
        self.used = set()

    def fail(self, where, problem):
        raise SerializationError(f"{self.label}: the header is malformed at {where}: {problem}")

    def decode(self, node, where):
        try:
            return self._decode(node, where)
        except RecursionError:
            raise SerializationError(f"{self.label}: the header is nested too deeply") from None

    def _decode(self, node, where):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            self.fail(where, f"expected a value or a tagged object, got {type(node).__name__}")
        kind = node.get("type")
        if kind not in _NODE_FIELDS or set(node) != _NODE_FIELDS[kind]:
            self.fail(where, f"unknown node {sorted(node)} of type {kind!r}")
        if kind in ("list", "tuple"):
            items = self._items(node, where)
            values = [self._decode(item, f"{where}[{i}]") for i, item in enumerate(items)]
            return tuple(values) if kind == "tuple" else values
        if kind == "dict":
            result = {}
            for pair in self._items(node, where):
                if not isinstance(pair, list) or len(pair) != 2:
                    self.fail(where, "a dict item is not a [key, value] pair")
                key, value = pair
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    self.fail(where, f"a dict key must be a string or integer, got {key!r}")
                result[key] = self._decode(value, f"{where}[{key!r}]")
            return result
        array = self._array(node["array"], where)
        if kind == "ndarray":
            return array
        if kind == "scalar":
            if array.ndim != 0:
                self.fail(where, f"a scalar's array has shape {array.shape}")
            return array[()]  # a NumPy scalar of the saved dtype
        requires_grad = node["requires_grad"]
        if not isinstance(requires_grad, bool):
            self.fail(where, f"requires_grad must be true or false, got {requires_grad!r}")
        if requires_grad and array.dtype.kind not in "fc":
            self.fail(where, f"requires_grad is true for an array of dtype {array.dtype}")
        # Tensor() copies the fresh array once more; state dicts are small enough that
        # the clarity of the public constructor is worth it.
        return Tensor(array, requires_grad=requires_grad, device=self.device)

    def _items(self, node, where):
        items = node["items"]
        if not isinstance(items, list):
            self.fail(where, "'items' is not a list")
        return items

    def _array(self, name, where):
        if not isinstance(name, str) or name not in self.names:
            raise SerializationError(
                f"{self.label}: the header names an array {name!r} at {where} that is not in "
                "the file; the file is incomplete or was altered"
            )
        self.used.add(name)
        return _read_entry(self.archive, name, self.label)
