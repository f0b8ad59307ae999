"""The classic teaching problems, made on this machine: nothing is downloaded.

Every function returns NumPy arrays `(inputs, targets)`; turn them into tensors with
`tg.Tensor(x)` or batch them with `tg.data.TensorDataset(x, y)`.  Inputs are float32
unless `dtype=` says otherwise; class labels are int64 (what `cross_entropy` takes).
Random data come from `numpy.random.default_rng(seed)`, so the same seed gives the same
data on every run and every machine.

| function | inputs | targets |
|---|---|---|
| `cube_root(n=50, noise=0.03)` | x (n, 1) evenly spaced in [0, 1] | y = x**(1/3) + noise, (n, 1) |
| `xor(n=4, noise=0.0)` | (n, 2) near the corners of the unit square | x0 XOR x1, (n,) int64 |
| `two_moons(n=200, noise=0.1)` | (n, 2) two interleaved half circles | moon 0 or 1, (n,) int64 |
| `spirals(n=300, classes=2, noise=0.2)` | (n, 2) in [-1, 1] | arm 0..classes-1, (n,) int64 |
| `function_2d(n=1000, low=-10, high=10)` | (n, 2) columns x, y uniform | z, (n, 1) |
| `digits()` | (1797, 64) 8x8 images in [0, 1] | digit 0..9, (1797,) int64 |

Splitting: `train_test_split(x, y, test_fraction, seed)` and
`train_val_test_split(x, y, fractions, seed)` shuffle the rows and cut them.
"""

import numbers

import numpy

DIGITS_HINT = (
    "tg.datasets.digits() reads the 8x8 digits that ship with scikit-learn (no download), "
    'and scikit-learn is not installed. Install it with: pip install "tinygrad_edu[examples]" '
    "(or: pip install scikit-learn)"
)


def _check_count(n, name="n", minimum=1):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {n!r}")
    return int(n)


def _check_noise(noise):
    if not noise >= 0:  # also refuses NaN
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    return float(noise)


def _float_dtype(dtype):
    dtype = numpy.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype must be a floating-point dtype for inputs, got {dtype}")
    return dtype


# ---- regression -----------------------------------------------------------------------


def cube_root(n=50, noise=0.03, seed=0, dtype=numpy.float32):
    """The lecture's regression problem: y = x**(1/3) plus a little Gaussian noise.

    x: (n, 1), evenly spaced from 0 to 1 (as `np.linspace(0, 1)`, whose default n is 50);
    y: (n, 1), x**(1/3) + Normal(0, noise).  Split it 60/20/20 with
    `train_val_test_split(x, y)`, as the lecture does.
    """
    n = _check_count(n)
    noise = _check_noise(noise)
    rng = numpy.random.default_rng(seed)
    x = numpy.linspace(0.0, 1.0, n)
    y = x ** (1.0 / 3.0) + rng.normal(scale=noise, size=n)
    dtype = _float_dtype(dtype)
    # Columns, so a Linear(1, ...) model takes x as it is and (n, 1) - (n, 1) never
    # broadcasts to (n, n) in the loss.
    return x.reshape(n, 1).astype(dtype), y.reshape(n, 1).astype(dtype)


def function_2d_formula(x, y):
    """z = sin(x) + x*cos(y) + y + 3**(x/3), the 2-D function of the from-scratch article."""
    return numpy.sin(x) + x * numpy.cos(y) + y + 3.0 ** (x / 3.0)


def function_2d(n=1000, low=-10.0, high=10.0, seed=0, dtype=numpy.float32):
    """Samples of z = sin(x) + x*cos(y) + y + 3**(x/3) at random points.

    inputs: (n, 2), column 0 is x and column 1 is y, each uniform in [low, high);
    z: (n, 1).  x is drawn first, then y, as in the article; z is computed in float64
    and then converted.  The values are not standardised (z spans about -16 to 52 on
    [-10, 10]): subtract the mean and divide by the standard deviation before training.
    """
    n = _check_count(n)
    if not low < high:
        raise ValueError(f"function_2d needs low < high, got low={low}, high={high}")
    rng = numpy.random.default_rng(seed)
    x = rng.uniform(low, high, n)
    y = rng.uniform(low, high, n)
    z = function_2d_formula(x, y)
    dtype = _float_dtype(dtype)
    inputs = numpy.column_stack((x, y)).astype(dtype)
    return inputs, z.reshape(n, 1).astype(dtype)


# ---- classification ----------------------------------------------------------------------


def xor(n=4, noise=0.0, seed=0, dtype=numpy.float32):
    """The XOR problem: label 1 where exactly one coordinate is 1.  No line separates it.

    With the defaults, the truth table: inputs [[0, 0], [0, 1], [1, 0], [1, 1]] and
    labels [0, 1, 1, 0].  With n > 4, point i sits at corner i % 4 (so the labels stay
    balanced) plus Normal(0, noise) on each coordinate: a noisy cloud around each corner.
    inputs: (n, 2); labels: (n,) int64.
    """
    n = _check_count(n)
    noise = _check_noise(noise)
    corners = numpy.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    which = numpy.arange(n) % 4
    inputs = corners[which]
    if noise > 0:
        rng = numpy.random.default_rng(seed)
        inputs = inputs + rng.normal(scale=noise, size=inputs.shape)
    labels = numpy.array([0, 1, 1, 0], dtype=numpy.int64)[which]
    return inputs.astype(_float_dtype(dtype)), labels


def two_moons(n=200, noise=0.1, seed=0, dtype=numpy.float32):
    """Two interleaved half circles, the upper one labelled 0 and the lower one 1.

    Moon 0: (cos t, sin t); moon 1: (1 - cos t, 0.5 - sin t), t from 0 to pi; then
    Normal(0, noise) on each coordinate, and the rows are shuffled.  Moon 0 gets n // 2
    points, moon 1 the rest.  inputs: (n, 2); labels: (n,) int64.
    """
    n = _check_count(n, minimum=2)
    noise = _check_noise(noise)
    rng = numpy.random.default_rng(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = numpy.linspace(0.0, numpy.pi, n_upper)
    t_lower = numpy.linspace(0.0, numpy.pi, n_lower)
    upper = numpy.column_stack((numpy.cos(t_upper), numpy.sin(t_upper)))
    lower = numpy.column_stack((1.0 - numpy.cos(t_lower), 0.5 - numpy.sin(t_lower)))
    inputs = numpy.concatenate((upper, lower))
    labels = numpy.concatenate((numpy.zeros(n_upper), numpy.ones(n_lower))).astype(numpy.int64)
    inputs = inputs + rng.normal(scale=noise, size=inputs.shape)
    # Shuffled so that the first rows are not all one class (a loader without shuffle,
    # or a plot of the first 20 points, would otherwise mislead).
    order = rng.permutation(n)
    return inputs[order].astype(_float_dtype(dtype)), labels[order]


def spirals(n=300, classes=2, noise=0.2, seed=0, dtype=numpy.float32):
    """Spiral arms winding out of the origin, one arm per class.

    Point of arm k at radius r (0 to 1): (r*sin(a), r*cos(a)) with angle
    a = 2*pi*k/classes + 4*r + Normal(0, noise).  The noise turns points along their
    circle, so every point stays inside [-1, 1].  The n points are shared out as evenly
    as possible between the arms, and the rows are shuffled.
    inputs: (n, 2); labels: (n,) int64 in 0..classes-1.
    """
    classes = _check_count(classes, "classes", minimum=2)
    n = _check_count(n, minimum=classes)
    noise = _check_noise(noise)
    rng = numpy.random.default_rng(seed)
    labels = numpy.arange(n) % classes  # balanced: arm sizes differ by at most one
    labels = numpy.sort(labels).astype(numpy.int64)
    radius = numpy.empty(n)
    for k in range(classes):
        members = labels == k
        radius[members] = numpy.linspace(0.0, 1.0, int(members.sum()))
    angle = 2.0 * numpy.pi * labels / classes + 4.0 * radius + rng.normal(scale=noise, size=n)
    inputs = numpy.column_stack((radius * numpy.sin(angle), radius * numpy.cos(angle)))
    order = rng.permutation(n)
    return inputs[order].astype(_float_dtype(dtype)), labels[order]


def digits(dtype=numpy.float32):
    """The 8x8 handwritten digits (the UCI set that ships inside scikit-learn).

    inputs: (1797, 64), each row an 8x8 image flattened row by row, scaled from the
    original 0..16 gray levels to [0, 1]; labels: (1797,) int64, the digit 0..9.
    Needs scikit-learn (`pip install "tinygrad_edu[examples]"`); nothing is downloaded.
    Split it with `train_test_split(x, y, test_fraction=0.2, seed=0)`.
    """
    dtype = _float_dtype(dtype)
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(DIGITS_HINT) from error
    bunch = sklearn_load_digits()
    inputs = numpy.asarray(bunch.data, dtype=numpy.float64) / 16.0
    labels = numpy.asarray(bunch.target).astype(numpy.int64)
    return inputs.astype(dtype), labels


load_digits = digits  # the scikit-learn name, for readers who know it


# ---- splitting ---------------------------------------------------------------------------


def train_val_test_split(x, y, fractions=(0.6, 0.2, 0.2), seed=0):
    """Shuffle the rows of x and y together and cut them into train, validation and test.

    Returns ((x_train, y_train), (x_val, y_val), (x_test, y_test)).  `fractions` must be
    three numbers >= 0 that sum to 1; sizes are rounded so they add up to len(x).
    """
    if len(fractions) != 3:
        raise ValueError(f"fractions must be (train, val, test), got {fractions!r}")
    return _split(x, y, fractions, seed)


def train_test_split(x, y, test_fraction=0.2, seed=0):
    """Shuffle the rows of x and y together and cut off `test_fraction` of them for testing.

    Returns ((x_train, y_train), (x_test, y_test)).
    """
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    return _split(x, y, (1.0 - test_fraction, test_fraction), seed)


def _split(x, y, fractions, seed):
    x = numpy.asarray(x)
    y = numpy.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y need the same number of rows, got {len(x)} and {len(y)}")
    fractions = numpy.asarray(fractions, dtype=numpy.float64)
    if (fractions < 0).any() or abs(fractions.sum() - 1.0) > 1e-6:
        raise ValueError(f"fractions must be >= 0 and sum to 1, got {fractions.tolist()}")
    # Cut points from the cumulative fractions, so the rounded sizes always add up to n.
    cuts = numpy.round(numpy.cumsum(fractions)[:-1] * len(x)).astype(int)
    order = numpy.random.default_rng(seed).permutation(len(x))
    parts = numpy.split(order, cuts)
    return tuple((x[part], y[part]) for part in parts)
