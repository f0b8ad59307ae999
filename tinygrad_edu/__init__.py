"""tinygrad_edu: a small, fast, honest autograd engine for learning backprop.

    import tinygrad_edu as tg
    x = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4., 6.])

Where things live (docs/architecture.md has the map): tensor.py (Tensor, apply),
autograd.py (the backward loop), ops/ (each op's forward and backward),
gradcheck.py (finite-difference checks), functional.py (jacobian, hessian),
creation.py (factories).
"""

from numpy import bool_, float16, float32, float64, int32, int64  # noqa: F401

from . import (
    data,
    datasets,
    nn,
    ops,
    optim,
    testing,  # noqa: F401  (Hypothesis is imported only when used)
)
from .autograd import (
    Function,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .backend import DeviceError, cuda_is_available, get_device, manual_seed, set_default_device
from .creation import (
    arange,
    eye,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .functional import hessian, jacobian
from .gradcheck import GradcheckError, gradcheck
from .graph import RendererNotFoundError, draw_graph, to_dot, trace_backward
from .jit import JitError, jit
from .registry import REGISTRY, OpInfo
from .serialization import SerializationError, load, save
from .tensor import (
    Tensor,
    acos,
    acosh,
    argsort,
    asin,
    asinh,
    atan,
    atanh,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    ceil,
    chunk,
    concatenate,
    cosh,
    cross_entropy,
    cumprod,
    cumsum,
    diagonal,
    einsum,
    exp2,
    flip,
    floor,
    floor_divide,
    from_dlpack,
    gather,
    grad,
    isfinite,
    isinf,
    isnan,
    lerp,
    linear,
    log2,
    log10,
    log_softmax,
    logaddexp,
    logcumsumexp,
    logical_not,
    masked_fill,
    maximum,
    minimum,
    mse_loss,
    nll_loss,
    prod,
    remainder,
    repeat_interleave,
    roll,
    rsqrt,
    scatter,
    scatter_add,
    sinh,
    softmax,
    sort,
    split,
    stack,
    std,
    tan,
    topk,
    tril,
    triu,
    trunc,
    unflatten,
    where,
)

# torch.any, torch.all, torch.round: named _any, _all, _round in tensor.py, which uses the
# builtins of those names
from .tensor import _all as all  # noqa: E402, A004
from .tensor import _any as any  # noqa: E402, A004
from .tensor import _round as round  # noqa: E402, A004
from .walkthrough import Walkthrough, walkthrough

ops.REGISTRY = REGISTRY  # also tg.ops.REGISTRY, next to the op classes it tests
ops.OpInfo = OpInfo

__version__ = "0.1.0"
