"""tg.datasets: shapes, dtypes, value ranges, label balance and seeded reproducibility of the
teaching problems; the 2-D function against its formula; the digits loader both with and
without scikit-learn; the split helpers.
"""

import importlib.util
import sys
import types

import numpy as np
import pytest

from tinygrad_edu import datasets

GENERATORS = [
    lambda seed: datasets.cube_root(seed=seed),
    lambda seed: datasets.xor(n=40, noise=0.1, seed=seed),
    lambda seed: datasets.two_moons(seed=seed),
    lambda seed: datasets.spirals(seed=seed),
    lambda seed: datasets.function_2d(n=100, seed=seed),
]
NAMES = ["cube_root", "xor", "two_moons", "spirals", "function_2d"]


@pytest.mark.parametrize("make", GENERATORS, ids=NAMES)
def test_same_seed_same_data_other_seed_other_data(make):
    x1, y1 = make(0)
    x2, y2 = make(0)
    x3, y3 = make(1)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not (np.array_equal(x1, x3) and np.array_equal(y1, y3))


@pytest.mark.parametrize("make", GENERATORS, ids=NAMES)
def test_inputs_are_float32_and_finite(make):
    x, y = make(0)
    assert x.dtype == np.float32
    assert np.isfinite(x).all() and np.isfinite(y).all()


# ---- regression --------------------------------------------------------------------------


def test_cube_root_matches_the_lecture():
    x, y = datasets.cube_root()
    assert x.shape == (50, 1) and y.shape == (50, 1)  # np.linspace(0, 1) has 50 points
    assert y.dtype == np.float32
    np.testing.assert_allclose(x[:, 0], np.linspace(0, 1, 50), rtol=1e-6)
    residual = y[:, 0].astype(np.float64) - np.cbrt(x[:, 0].astype(np.float64))
    assert 0.015 < residual.std() < 0.05  # noise scale 0.03
    assert abs(residual.mean()) < 0.02
    _, clean = datasets.cube_root(n=7, noise=0.0)
    np.testing.assert_allclose(clean[:, 0], np.linspace(0, 1, 7) ** (1 / 3), rtol=1e-6)


def test_cube_root_dtype_argument():
    x, y = datasets.cube_root(n=10, dtype=np.float64)
    assert x.dtype == y.dtype == np.float64
    with pytest.raises(ValueError, match="floating-point"):
        datasets.cube_root(dtype=np.int64)


def test_function_2d_matches_its_formula():
    inputs, z = datasets.function_2d(n=500, seed=3, dtype=np.float64)
    assert inputs.shape == (500, 2) and z.shape == (500, 1)
    x, y = inputs[:, 0], inputs[:, 1]
    expected = np.sin(x) + x * np.cos(y) + y + 3 ** (x / 3)
    np.testing.assert_allclose(z[:, 0], expected, rtol=1e-12)
    assert inputs.min() >= -10 and inputs.max() < 10
    assert inputs.min() < -9 and inputs.max() > 9  # the whole square is covered


def test_function_2d_range_and_float32():
    inputs, z = datasets.function_2d(n=200, low=0.0, high=1.0)
    assert inputs.dtype == z.dtype == np.float32
    assert 0.0 <= inputs.min() and inputs.max() < 1.0
    expected = datasets.function_2d_formula(inputs[:, 0].astype(np.float64), inputs[:, 1])
    np.testing.assert_allclose(z[:, 0], expected, rtol=1e-5)
    with pytest.raises(ValueError, match="low < high"):
        datasets.function_2d(low=1.0, high=1.0)


def test_function_2d_draws_x_then_y_as_the_article():
    inputs, _ = datasets.function_2d(n=20, seed=4, dtype=np.float64)
    rng = np.random.default_rng(4)
    np.testing.assert_array_equal(inputs[:, 0], rng.uniform(-10, 10, 20))
    np.testing.assert_array_equal(inputs[:, 1], rng.uniform(-10, 10, 20))


# ---- classification ----------------------------------------------------------------------


def test_xor_truth_table():
    x, y = datasets.xor()
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert x.dtype == np.float32 and y.dtype == np.int64


def test_noisy_xor_is_balanced_and_near_its_corners():
    x, y = datasets.xor(n=400, noise=0.1, seed=0)
    assert x.shape == (400, 2) and y.shape == (400,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [200, 200]
    corners = np.round(x).astype(int)  # noise 0.1 keeps almost every point nearest its corner
    agree = (corners[:, 0] ^ corners[:, 1]) == y
    assert agree.mean() > 0.95
    assert 0.05 < np.abs(x - np.round(x)).std() < 0.15


def test_two_moons():
    x, y = datasets.two_moons(n=201, noise=0.0)
    assert x.shape == (201, 2) and y.shape == (201,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 101]
    upper, lower = x[y == 0].astype(np.float64), x[y == 1].astype(np.float64)
    # without noise each moon is exactly its half circle of radius 1
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(1 - lower[:, 0], 0.5 - lower[:, 1]), 1.0, rtol=1e-6)
    assert upper[:, 1].min() >= -1e-6 and lower[:, 1].max() <= 0.5 + 1e-6
    assert y[:20].min() == 0 and y[:20].max() == 1  # shuffled, not sorted by class


def test_two_moons_noise():
    clean, _ = datasets.two_moons(n=300, noise=0.0, seed=0)
    noisy, _ = datasets.two_moons(n=300, noise=0.2, seed=0)
    assert noisy.shape == (300, 2)
    assert np.abs(noisy).max() > np.abs(clean).max()
    with pytest.raises(ValueError, match="noise"):
        datasets.two_moons(noise=-0.1)


@pytest.mark.parametrize("classes", [2, 3, 5])
def test_spirals(classes):
    x, y = datasets.spirals(n=301, classes=classes, noise=0.2, seed=0)
    assert x.shape == (301, 2) and y.shape == (301,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert counts.sum() == 301 and counts.max() - counts.min() <= 1
    assert set(y.tolist()) == set(range(classes))
    assert np.abs(x).max() <= 1.0 + 1e-6
    assert np.hypot(x[:, 0], x[:, 1]).max() > 0.99  # arms reach radius 1


def test_spirals_arms_are_rotated_copies_without_noise():
    x, y = datasets.spirals(n=200, classes=2, noise=0.0, dtype=np.float64)
    arm0 = x[y == 0][np.argsort(np.hypot(*x[y == 0].T))]
    arm1 = x[y == 1][np.argsort(np.hypot(*x[y == 1].T))]
    np.testing.assert_allclose(arm1, -arm0, atol=1e-12)  # half a turn apart: point reflection


# ---- digits ------------------------------------------------------------------------------


def _check_digits(x, y):
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert set(y.tolist()) == set(range(10))
    assert np.bincount(y).min() > 170  # about 180 of each digit


def test_digits_loads_when_scikit_learn_is_installed_else_says_how_to_install():
    if importlib.util.find_spec("sklearn") is not None:
        x, y = datasets.digits()
        _check_digits(x, y)
        assert datasets.load_digits is datasets.digits
    else:
        with pytest.raises(ImportError, match=r'pip install "tinygrad_edu\[examples\]"'):
            datasets.digits()


def test_digits_without_scikit_learn_is_an_import_error_with_the_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    monkeypatch.delitem(sys.modules, "sklearn.datasets", raising=False)
    with pytest.raises(ImportError) as info:
        datasets.digits()
    message = str(info.value)
    assert 'pip install "tinygrad_edu[examples]"' in message
    assert "pip install scikit-learn" in message


def test_digits_scales_scikit_learns_arrays(monkeypatch):
    """The conversion itself, with a stand-in for sklearn.datasets (so it runs everywhere)."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 17, size=(1797, 64)).astype(np.float64)
    images[0, 0], images[0, 1] = 0.0, 16.0
    targets = np.arange(1797) % 10  # platform int, as scikit-learn returns

    fake_sklearn = types.ModuleType("sklearn")
    fake_datasets = types.ModuleType("sklearn.datasets")
    fake_datasets.load_digits = lambda: types.SimpleNamespace(data=images, target=targets)
    fake_sklearn.datasets = fake_datasets
    monkeypatch.setitem(sys.modules, "sklearn", fake_sklearn)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", fake_datasets)

    x, y = datasets.digits()
    _check_digits(x, y)
    np.testing.assert_allclose(x, images / 16.0, rtol=1e-7)
    np.testing.assert_array_equal(y, targets)
    assert datasets.digits(dtype=np.float64)[0].dtype == np.float64


# ---- splits ------------------------------------------------------------------------------


def test_train_val_test_split_of_the_cube_root_data():
    x, y = datasets.cube_root()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = datasets.train_val_test_split(
        x, y, seed=0
    )
    assert [len(x_train), len(x_val), len(x_test)] == [30, 10, 10]
    assert [len(y_train), len(y_val), len(y_test)] == [30, 10, 10]
    everything = np.concatenate([x_train, x_val, x_test])[:, 0]
    np.testing.assert_array_equal(np.sort(everything), x[:, 0])  # a partition of the rows
    assert not np.array_equal(x_train[:, 0], np.sort(x_train[:, 0]))  # shuffled
    for xs, ys in [(x_train, y_train), (x_val, y_val), (x_test, y_test)]:
        rows = np.searchsorted(x[:, 0], xs[:, 0])
        np.testing.assert_array_equal(y[rows], ys)  # pairs stay together
    again = datasets.train_val_test_split(x, y, seed=0)
    np.testing.assert_array_equal(again[0][0], x_train)
    other = datasets.train_val_test_split(x, y, seed=1)
    assert not np.array_equal(other[0][0], x_train)


def test_split_sizes_always_add_up():
    x, y = np.arange(7), np.arange(7)
    parts = datasets.train_val_test_split(x, y, (1 / 3, 1 / 3, 1 / 3))
    assert sum(len(px) for px, _ in parts) == 7
    (x_train, _), (x_test, _) = datasets.train_test_split(x, y, test_fraction=0.25, seed=2)
    assert (len(x_train), len(x_test)) == (5, 2)
    assert sorted(np.concatenate([x_train, x_test]).tolist()) == list(range(7))


def test_split_errors():
    x = np.zeros(10)
    with pytest.raises(ValueError, match="sum to 1"):
        datasets.train_val_test_split(x, x, (0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="same number of rows"):
        datasets.train_test_split(x, np.zeros(9))
    with pytest.raises(ValueError, match="between 0 and 1"):
        datasets.train_test_split(x, x, test_fraction=1.5)
