"""tg.save / tg.load: faithful round trips of state dicts, and hostile or foreign files that
must be refused with a clear error without running any code.

The hostile files are made here: an .npz holding a pickled object whose unpickling would
create a marker file (the test first proves the payload is live with numpy's own
allow_pickle=True), a truncated copy of a good file, random bytes, a bare pickle, a plain
NumPy archive, a newer format version, and headers that name missing arrays.
"""

import io
import json
import pathlib
import pickle
import zipfile

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu.serialization import HEADER_ENTRY, SerializationError, load, save


def _optimizer_like_state():
    return {
        "state": {
            0: {"step": 3, "exp_avg": np.arange(3, dtype=np.float32)},
            1: {"step": 3, "exp_avg": np.zeros((2, 2), dtype=np.float64)},
        },
        "param_groups": [
            {"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "amsgrad": False, "x": None}
        ],
    }


def _assert_same(expected, actual, where="obj"):
    """Deep equality that also checks exact types (list vs tuple, bool vs int, dtypes)."""
    if isinstance(expected, tg.Tensor):
        assert isinstance(actual, tg.Tensor), where
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, where
        assert actual.requires_grad == expected.requires_grad, where
        np.testing.assert_array_equal(actual.numpy(), expected.numpy(), err_msg=where)
        return
    assert type(actual) is type(expected), f"{where}: {type(actual)} != {type(expected)}"
    if isinstance(expected, dict):
        assert list(actual) == list(expected), where  # same keys, same types, same order
        for key in expected:
            _assert_same(expected[key], actual[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), where
        for i, (e, a) in enumerate(zip(expected, actual)):
            _assert_same(e, a, f"{where}[{i}]")
    elif isinstance(expected, (np.ndarray, np.generic)):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape, where
        np.testing.assert_array_equal(actual, expected, err_msg=where)
    elif isinstance(expected, float) and expected != expected:
        assert actual != actual, where  # NaN
    else:
        assert actual == expected, where


def _round_trip(obj, tmp_path, **load_args):
    path = tmp_path / "checkpoint.npz"
    save(obj, path)
    return load(path, **load_args)


# ---- round trips --------------------------------------------------------------------------


def test_optimizer_state_dict_with_int_keys_round_trips(tmp_path):
    state = _optimizer_like_state()
    loaded = _round_trip(state, tmp_path)
    _assert_same(state, loaded)
    assert list(loaded["state"]) == [0, 1]  # ints again, not the strings JSON would make


def test_model_state_dict_round_trips_as_cpu_tensors(tmp_path):
    weights = {
        "0.weight": tg.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True),
        "0.bias": tg.Tensor(np.zeros(2, dtype=np.float32), requires_grad=True),
        "1.running_mean": tg.Tensor(np.ones(2, dtype=np.float64)),
        "1.num_batches_tracked": tg.Tensor(np.array(7, dtype=np.int64)),
    }
    loaded = _round_trip(weights, tmp_path)
    _assert_same(weights, loaded)
    assert all(t.device == "cpu" and t.is_leaf for t in loaded.values())
    assert loaded["0.weight"].data is not weights["0.weight"].data


@pytest.mark.parametrize(
    "array",
    [
        np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3),
        np.array([1e-300, -2.5, np.inf, np.nan]),
        np.array([-(2**62), 0, 2**62], dtype=np.int64),
        np.array([True, False, True]),
        np.array(3.5, dtype=np.float32),  # 0-d
        np.array(True),  # 0-d bool
        np.zeros((0, 4), dtype=np.float32),  # empty
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.arange(20, dtype=np.uint8)[::3],  # a strided view
    ],
    ids=["f32", "f64", "i64", "bool", "0d-f32", "0d-bool", "empty", "fortran", "strided"],
)
def test_arrays_round_trip_with_dtype_and_shape(tmp_path, array):
    loaded = _round_trip({"a": array, "t": tg.Tensor(array)}, tmp_path)
    _assert_same(array, loaded["a"])
    _assert_same(tg.Tensor(array), loaded["t"])


def test_scalars_keep_their_python_types(tmp_path):
    obj = {
        "int": 3,
        "big": 2**80,
        "neg": -1,
        "float": 0.1,
        "whole_float": 2.0,
        "nan": float("nan"),
        "inf": float("-inf"),
        "true": True,
        "false": False,
        "zero": 0,
        "none": None,
        "str": "héllo \"quoted\" {'type': 'dict'}",
        "empty_str": "",
        "np_f32": np.float32(1.5),
        "np_i64": np.int64(-4),
        "np_bool": np.bool_(True),
    }
    _assert_same(obj, _round_trip(obj, tmp_path))


def test_lists_tuples_and_nesting_keep_their_kinds(tmp_path):
    obj = [
        (1, [2, (3,)], ()),
        [],
        {},
        {"a": {"b": {"c": [tg.Tensor([1.0]), np.array([2])]}}},
        {1: "one", "1": "string one", -2: None},  # int 1 and "1" are different keys
        (True, 1, 1.0),
    ]
    _assert_same(obj, _round_trip(obj, tmp_path))


def test_a_bare_tensor_round_trips(tmp_path):
    t = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    _assert_same(t, _round_trip(t, tmp_path))


def test_tensors_from_another_device_are_saved_from_the_host(tmp_path, device):
    t = tg.Tensor([1.0, 2.0, 3.0], device=device)
    loaded = _round_trip({"w": t}, tmp_path)
    assert loaded["w"].device == "cpu"
    np.testing.assert_array_equal(loaded["w"].numpy(), [1.0, 2.0, 3.0])


def test_raw_device_arrays_are_saved_as_numpy_arrays(tmp_path, device):
    # Optimizer state may hold backend arrays (CuPy on a GPU) rather than Tensors.
    raw = tg.Tensor([1.0, 2.0], device=device).data
    loaded = _round_trip({"state": {0: {"exp_avg": raw}}}, tmp_path)
    exp_avg = loaded["state"][0]["exp_avg"]
    assert isinstance(exp_avg, np.ndarray) and exp_avg.dtype == np.float32
    np.testing.assert_array_equal(exp_avg, [1.0, 2.0])


def test_device_argument_puts_tensors_on_that_device(tmp_path, device):
    state = {"w": tg.Tensor([1.0, 2.0], requires_grad=True), "m": np.ones(2)}
    loaded = _round_trip(state, tmp_path, device=device)
    assert loaded["w"].device == device and loaded["w"].requires_grad
    np.testing.assert_array_equal(loaded["w"].numpy(), [1.0, 2.0])
    assert isinstance(loaded["m"], np.ndarray)  # arrays stay NumPy arrays
    again = load(tmp_path / "checkpoint.npz", map_location=device)
    assert again["w"].device == device
    with pytest.raises(ValueError, match="differ"):
        load(tmp_path / "checkpoint.npz", device="cpu", map_location="strict")


def test_path_is_used_exactly_and_file_objects_work(tmp_path):
    path = tmp_path / "model.tg"
    save({"x": 1}, str(path))
    assert path.exists() and not (tmp_path / "model.tg.npz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.tg"]  # no temporary left
    assert load(str(path)) == {"x": 1}
    buffer = io.BytesIO()
    save({"y": (2,)}, buffer)
    buffer.seek(0)
    assert load(buffer) == {"y": (2,)}


def test_the_file_is_a_plain_npz_with_a_json_header(tmp_path):
    path = tmp_path / "c.npz"
    save({"w": tg.Tensor([1.0, 2.0]), "step": 4}, path)
    with np.load(path, allow_pickle=False) as archive:  # readable without tinygrad_edu
        assert sorted(archive.files) == [HEADER_ENTRY, "a0"]
        header = json.loads(archive[HEADER_ENTRY].tobytes().decode("utf-8"))
        np.testing.assert_array_equal(archive["a0"], [1.0, 2.0])
    assert header["format"] == "tinygrad_edu" and header["version"] == 1


def test_unsupported_objects_are_refused_at_save_naming_where(tmp_path):
    with pytest.raises(TypeError, match=r"set at obj\['groups'\]\[0\]"):
        save({"groups": [{1, 2}]}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        save({(1, 2): 3}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="Python objects"):
        save({"o": np.array([object()], dtype=object)}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


# ---- hostile and foreign files ------------------------------------------------------------


class _Payload:
    """Unpickling this creates `marker`: proof that code from the file ran."""

    def __init__(self, marker):
        self.marker = pathlib.Path(marker)

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def _header(root, version=1):
    text = json.dumps({"format": "tinygrad_edu", "version": version, "root": root})
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _write_npz(path, **entries):
    with open(path, "wb") as file:
        np.savez(file, **entries)  # numpy pickles object arrays when asked to save them
    return path


def test_pickled_object_array_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    evil = _write_npz(
        tmp_path / "evil.npz",
        **{
            HEADER_ENTRY: _header({"type": "ndarray", "array": "a0"}),
            "a0": np.array([_Payload(marker)], dtype=object),
        },
    )
    with pytest.raises(SerializationError, match="pickled Python objects") as info:
        load(evil)
    assert "'a0'" in str(info.value)
    assert not marker.exists()
    # The payload is live: numpy with allow_pickle=True does run it.  (So the assertion
    # above could fail.)
    with np.load(evil, allow_pickle=True) as archive:
        archive["a0"]
    assert marker.exists()


def test_pickled_header_entry_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = _write_npz(
        tmp_path / "evil.npz", **{HEADER_ENTRY: np.array([_Payload(marker)], dtype=object)}
    )
    with pytest.raises(SerializationError, match="holds pickled Python objects"):
        load(evil)
    assert not marker.exists()


def test_a_bare_pickle_file_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(SerializationError, match="not an .npz"):
        load(path)
    assert not marker.exists()
    pickle.loads(path.read_bytes())  # the payload is live
    assert marker.exists()


def test_truncated_file_is_a_clear_error(tmp_path):
    good = tmp_path / "good.npz"
    save(_optimizer_like_state(), good)
    blob = good.read_bytes()
    for keep in (len(blob) - 1, len(blob) // 2, 10):
        bad = tmp_path / f"cut{keep}.npz"
        bad.write_bytes(blob[:keep])
        with pytest.raises(SerializationError, match="truncated or damaged"):
            load(bad)


def test_truncated_entry_inside_a_valid_zip_is_a_clear_error(tmp_path):
    # A zip whose central directory is fine but whose .npy entry claims more data than it has.
    full = io.BytesIO()
    np.lib.format.write_array(full, np.arange(1000, dtype=np.float64))
    path = tmp_path / "short.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            HEADER_ENTRY + ".npy", _npy_bytes(_header({"type": "ndarray", "array": "a0"}))
        )
        archive.writestr("a0.npy", full.getvalue()[:200])
    with pytest.raises(SerializationError, match="'a0' is truncated"):
        load(path)


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("size", [0, 3, 1000])
def test_random_bytes_are_a_clear_error(tmp_path, size):
    path = tmp_path / "noise.bin"
    path.write_bytes(np.random.default_rng(size).bytes(size))
    with pytest.raises(SerializationError, match="not a tinygrad_edu checkpoint"):
        load(path)


def test_a_plain_npz_is_a_clear_error(tmp_path):
    path = _write_npz(tmp_path / "plain.npz", weights=np.ones(3))
    with pytest.raises(SerializationError, match=f"no '{HEADER_ENTRY}' entry.*weights"):
        load(path)


def test_a_single_npy_file_is_a_clear_error(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.ones(3))
    with pytest.raises(SerializationError, match=r"single NumPy array \(.npy\)"):
        load(path)


def test_a_newer_format_version_says_to_upgrade(tmp_path):
    path = _write_npz(tmp_path / "future.npz", **{HEADER_ENTRY: _header(None, version=99)})
    with pytest.raises(SerializationError, match="version 99.*Upgrade"):
        load(path)


@pytest.mark.parametrize(
    "header, match",
    [
        (np.frombuffer(b"\xff\xfe", dtype=np.uint8), "not JSON"),
        (np.frombuffer(b"[1, 2]", dtype=np.uint8), "format 'tinygrad_edu'"),
        (np.frombuffer(b'{"format": "other", "version": 1}', dtype=np.uint8), "format"),
        (_header(None, version="1"), "bad format version"),
        (_header({"type": "eval", "code": "print(1)"}), "malformed"),
        (_header({"type": "dict", "items": [[[1], 2]]}), "key must be"),
        (np.zeros(3, dtype=np.float32), "1-d uint8"),
    ],
    ids=["utf8", "not-object", "other-format", "str-version", "unknown-node", "bad-key", "f32"],
)
def test_malformed_headers_are_clear_errors(tmp_path, header, match):
    path = _write_npz(tmp_path / "bad.npz", **{HEADER_ENTRY: header})
    with pytest.raises(SerializationError, match=match):
        load(path)


@pytest.mark.parametrize(
    "requires_grad, array, match",
    [
        ("yes", np.ones(2), "requires_grad must be true or false"),
        (True, np.arange(2), "requires_grad is true for an array of dtype int64"),
    ],
)
def test_bad_tensor_nodes_are_clear_errors(tmp_path, requires_grad, array, match):
    node = {"type": "tensor", "array": "a0", "requires_grad": requires_grad}
    path = _write_npz(tmp_path / "bad.npz", **{HEADER_ENTRY: _header(node), "a0": array})
    with pytest.raises(SerializationError, match=match):
        load(path)


def test_a_header_naming_a_missing_array_is_a_clear_error(tmp_path):
    root = {"type": "dict", "items": [["w", {"type": "ndarray", "array": "a7"}]]}
    path = _write_npz(tmp_path / "missing.npz", **{HEADER_ENTRY: _header(root), "a0": np.ones(2)})
    with pytest.raises(SerializationError, match=r"names an array 'a7' at obj\['w'\]"):
        load(path)


def test_entries_the_header_does_not_mention_are_refused(tmp_path):
    path = _write_npz(tmp_path / "extra.npz", **{HEADER_ENTRY: _header(5), "sneaky": np.ones(1)})
    with pytest.raises(SerializationError, match="does not mention.*sneaky"):
        load(path)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")
