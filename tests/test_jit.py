"""tg.jit: a replayed step gives the same numbers as the eager step (on cpu and strict).

Each test trains two copies of one model from identical weights, one with the plain
function and one with `tg.jit` of the same function, and compares losses and parameters
after every step (float64; bit-equal where NumPy is deterministic, else 1e-12).
"""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import nn, optim

STEPS = 30


def _data(device, rows=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, 4))
    y = np.sin(x.sum(axis=1, keepdims=True))
    return tg.Tensor(x, device=device), tg.Tensor(y, device=device)


def _model(device, extra=()):
    tg.manual_seed(1)
    layers = [nn.Linear(4, 8), *extra, nn.Tanh(), nn.Linear(8, 1)]
    return nn.Sequential(*layers).to(device=device, dtype=tg.float64)


def _pair(device, make_optimizer, extra=()):
    """Two identical (model, optimizer, step function) triples."""
    sides = []
    for _ in range(2):
        model = _model(device, extra() if callable(extra) else extra)
        optimizer = make_optimizer(model.parameters())

        def step(x, y, model=model, optimizer=optimizer):
            optimizer.zero_grad()
            loss = tg.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        sides.append((model, optimizer, step))
    return sides


def _assert_same(model_a, model_b):
    for (name, a), b in zip(model_a.named_parameters(), model_b.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-12, err_msg=name)
    for a, b in zip(model_a.buffers(), model_b.buffers()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0, atol=1e-12)


OPTIMIZERS = {
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    "sgd-nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.05, lr_decay=0.01),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_jitted_training_equals_eager(device, name):
    (model_e, _, eager), (model_j, _, step) = _pair(device, OPTIMIZERS[name])
    jitted = tg.jit(step)
    x, y = _data(device)
    for i in range(STEPS):
        loss_e, loss_j = eager(x, y), jitted(x, y)
        assert loss_j.item() == pytest.approx(loss_e.item(), abs=1e-12), i
        _assert_same(model_e, model_j)
    assert jitted.replays >= STEPS - 4  # it did replay, not just run eagerly


def test_optimizer_state_and_grads_visible_after_replay(device):
    (model_e, opt_e, eager), (model_j, opt_j, step) = _pair(device, OPTIMIZERS["adamw"])
    jitted = tg.jit(step)
    x, y = _data(device)
    for _ in range(6):
        eager(x, y), jitted(x, y)
    for a, b in zip(model_e.parameters(), model_j.parameters()):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
    state_e, state_j = opt_e.state_dict(), opt_j.state_dict()
    for index, values in state_e["state"].items():
        for key, value in values.items():
            np.testing.assert_array_equal(value, state_j["state"][index][key], err_msg=key)


def test_scheduler_outside_changes_lr(device):
    make = lambda ps: optim.Adam(ps, lr=0.02)  # noqa: E731
    (model_e, opt_e, eager), (model_j, opt_j, step) = _pair(device, make)
    sched_e = optim.lr_scheduler.StepLR(opt_e, step_size=5, gamma=0.5)
    sched_j = optim.lr_scheduler.StepLR(opt_j, step_size=5, gamma=0.5)
    jitted = tg.jit(step)
    x, y = _data(device)
    for i in range(STEPS):
        loss_e, loss_j = eager(x, y), jitted(x, y)
        assert loss_j.item() == pytest.approx(loss_e.item(), abs=1e-12), i
        _assert_same(model_e, model_j)
        sched_e.step()
        sched_j.step()
    assert jitted.replays > 0


def test_new_batch_size_retraces(device):
    (model_e, _, eager), (model_j, _, step) = _pair(device, OPTIMIZERS["sgd-momentum"])
    jitted = tg.jit(step)
    for i in range(STEPS):
        x, y = _data(device, rows=16 if i < 10 or i >= 20 else 5, seed=i)
        loss_e, loss_j = eager(x, y), jitted(x, y)
        assert loss_j.item() == pytest.approx(loss_e.item(), abs=1e-12), i
        _assert_same(model_e, model_j)
    assert jitted.traces >= 4 and jitted.replays > 0


def test_dropout_batchnorm_train_eval(device):
    extra = lambda: (nn.BatchNorm1d(8), nn.Dropout(0.3))  # noqa: E731
    (model_e, _, eager), (model_j, _, step) = _pair(device, OPTIMIZERS["sgd-momentum"], extra)
    jitted = tg.jit(step)
    x, y = _data(device)
    for i in range(STEPS):
        mode = i % 10 < 6  # train for six steps, eval for four
        model_e.train(mode)
        model_j.train(mode)
        tg.manual_seed(100 + i)
        loss_e = eager(x, y)
        tg.manual_seed(100 + i)
        loss_j = jitted(x, y)
        assert loss_j.item() == pytest.approx(loss_e.item(), abs=1e-12), i
        _assert_same(model_e, model_j)
    assert jitted.replays > 0


def test_random_numbers_are_fresh_on_every_replay(device):
    jitted = tg.jit(lambda x: x + tg.randn(3, device=device, dtype=tg.float64))
    x = tg.zeros(3, device=device, dtype=tg.float64)
    draws = [jitted(x).numpy() for _ in range(6)]
    assert jitted.replays >= 3
    assert len({d.tobytes() for d in draws}) == 6  # no replay reuses a recorded draw
    tg.manual_seed(5)
    expected = tg.randn(3, device=device, dtype=tg.float64).numpy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(jitted(x).numpy(), expected)


def test_inference_under_no_grad(device):
    model = _model(device)
    model.eval()

    @tg.jit
    def predict(x):
        with tg.no_grad():
            return model(x).tanh()

    for i in range(5):
        x, _ = _data(device, seed=i)
        with tg.no_grad():
            expected = model(x).tanh().numpy()
        out = predict(x)
        assert out.grad_fn is None
        np.testing.assert_array_equal(out.numpy(), expected)
    assert predict.traces == 2 and predict.replays == 3


def test_item_inside_raises_jit_error(device):
    model = _model(device)

    def step(x):
        loss = model(x).sum()
        if loss.item() > 0:  # data-dependent Python: cannot be recorded
            return loss * 2
        return loss

    x, _ = _data(device)
    with pytest.raises(tg.JitError, match=r"\.item\(\).*test_jit.py"):
        tg.jit(step)(x)
    # nothing is left traced: the weights hold their device's own arrays again, no
    # recording is active, and the model still works eagerly
    assert all(type(p.data) is p.device.array_type for p in model.parameters())
    assert tg.autograd.STATE.recording is None
    assert isinstance(model(x).numpy(), np.ndarray)


@pytest.mark.parametrize(
    "read, what",
    [
        (lambda t: t.item(), r"\.item\(\)"),
        (lambda t: float(t), r"float\(\)"),
        (lambda t: bool(t > 0), r"bool\(\)"),
        (lambda t: t.numpy(), r"\.numpy\(\)"),
        (lambda t: t.tolist(), r"\.numpy\(\)|\.tolist\(\)"),
    ],
)
def test_reading_values_inside_raises_jit_error(device, read, what):
    model = _model(device)
    x, _ = _data(device)
    jitted = tg.jit(lambda x: read(model(x).sum()))
    with pytest.raises(tg.JitError, match=what):
        jitted(x)


def test_closure_number_that_changes_is_caught(device):
    lr = [0.1]
    w = tg.Tensor([1.0, 2.0], device=device, dtype=tg.float64, requires_grad=True)

    def step():
        loss = (w * w).sum()
        loss.backward()
        with tg.no_grad():
            w.data -= lr[0] * w.grad.data
        w.grad = None
        lr[0] *= 0.5  # a Python number of our own, changing every call
        return loss

    jitted = tg.jit(step)
    with pytest.raises(tg.JitError, match="constant of the recording"):
        for _ in range(4):
            jitted()


def test_recording_prints_one_line_per_op(device):
    (_, _, _), (_, _, step) = _pair(device, lambda ps: optim.SGD(ps, lr=0.1))
    jitted = tg.jit(step)
    x, y = _data(device)
    for _ in range(3):
        jitted(x, y)
    text = str(jitted.recording)
    assert "tanh(" in text and " @ " in text and "-=" in text
    assert len(text.splitlines()) > 20


def test_big_arrays_reuse_buffers_and_stay_exact(device):
    """Temporaries of 4 kB and more go into buffers kept between replays (on cpu): the
    results must still equal eager ones, and returned values must not be overwritten."""
    rng = np.random.default_rng(3)
    x = tg.Tensor(rng.standard_normal((256, 32)), device=device)
    y = tg.Tensor(rng.standard_normal((256, 1)), device=device)
    sides = []
    for _ in range(2):
        tg.manual_seed(2)
        model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 1))
        model = model.to(device=device, dtype=tg.float64)
        optimizer = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y, model=model, optimizer=optimizer):
            optimizer.zero_grad()
            hidden = model[0](x).relu()
            loss = tg.mse_loss(model[2](hidden), y)
            loss.backward()
            optimizer.step()
            return loss, hidden * 2.0

        sides.append((model, step))
    (model_e, eager), (model_j, step) = sides
    jitted = tg.jit(step)
    kept = []
    for i in range(8):
        (loss_e, hidden_e), (loss_j, hidden_j) = eager(x, y), jitted(x, y)
        assert loss_j.item() == pytest.approx(loss_e.item(), abs=1e-12), i
        np.testing.assert_array_equal(hidden_j.numpy(), hidden_e.numpy())
        kept.append((hidden_e.numpy(), hidden_j))
        _assert_same(model_e, model_j)
    for expected, returned in kept:  # later replays did not write into earlier results
        np.testing.assert_array_equal(returned.numpy(), expected)
    if device == "cpu":
        assert jitted.recording.buffers > 0


def _stale_graph_error(device, jitted):
    """Make a graph that saves the weights, run one (eager or replayed) step that changes
    them in place, then backpropagate through the graph: the error it raises, or None."""
    (model, _, _), _ = _pair(device, OPTIMIZERS["sgd-momentum"])
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        loss = tg.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    run = tg.jit(step) if jitted else step
    x, y = _data(device)
    for _ in range(4):
        run(x, y)
    pending = tg.mse_loss(model(x), y)  # saves the weights for its backward
    run(x, y)  # changes them in place (a replay, when jitted)
    assert not jitted or run.replays > 0
    try:
        pending.backward()
    except RuntimeError as error:
        return str(error)
    return None


def test_replay_marks_parameters_changed_in_place(device):
    """A graph made before a replay that updated the weights in place refuses to
    backpropagate with stale weights exactly when it would after an eager step."""
    eager = _stale_graph_error(device, jitted=False)
    assert _stale_graph_error(device, jitted=True) == eager
    if device == "cpu":
        assert "modified in place" in eager


def test_jit_of_a_module_and_of_a_callable_object(device):
    model = _model(device)
    x, _ = _data(device)

    class Predictor:
        def __init__(self, model):
            self.model = model

        def __call__(self, x):
            return self.model(x) * 2.0

    for fn, expected in ((model, lambda: model(x)), (Predictor(model), lambda: model(x) * 2.0)):
        jitted = tg.jit(fn)
        for _ in range(4):
            out = jitted(x)
        assert jitted.replays == 2
        np.testing.assert_array_equal(out.numpy(), expected().numpy())
        model[0].weight.data[...] = model[0].weight.data * 0.5  # read again by every replay
        np.testing.assert_array_equal(jitted(x).numpy(), expected().numpy())


def test_embedding_and_cross_entropy_train_jitted(device):
    """Index checks (embedding, cross_entropy) are host functions: kept, not refused."""
    rng = np.random.default_rng(4)
    tokens = tg.Tensor(rng.integers(0, 12, size=(16,)), device=device)
    labels = tg.Tensor(rng.integers(0, 3, size=(16,)), device=device)
    sides = []
    for _ in range(2):
        tg.manual_seed(5)
        model = nn.Sequential(nn.Embedding(12, 6), nn.Tanh(), nn.Linear(6, 3))
        model = model.to(device=device, dtype=tg.float64)
        optimizer = optim.Adam(model.parameters(), lr=0.05)

        def step(tokens, labels, model=model, optimizer=optimizer):
            optimizer.zero_grad()
            loss = tg.cross_entropy(model(tokens), labels)
            loss.backward()
            optimizer.step()
            return loss

        sides.append((model, step))
    (model_e, eager), (model_j, step) = sides
    jitted = tg.jit(step)
    for _ in range(10):
        assert jitted(tokens, labels).item() == pytest.approx(
            eager(tokens, labels).item(), abs=1e-12
        )
        _assert_same(model_e, model_j)
    assert jitted.replays > 0
    bad = tg.Tensor(np.full(16, 12), device=device)  # out of range: checked on replay too
    with pytest.raises(IndexError, match="embedding"):
        jitted(bad, labels)


def test_branch_on_a_value_is_checked_on_replay(device):
    """cross_entropy branches on whether a target equals ignore_index: a replay recorded
    without such targets refuses a batch that has one, instead of ignoring nothing."""
    logits = tg.Tensor(np.zeros((4, 3)), device=device, requires_grad=True)
    jitted = tg.jit(lambda labels: tg.cross_entropy(logits, labels, ignore_index=2))
    normal = tg.Tensor(np.array([0, 1, 0, 1]), device=device)
    for _ in range(4):
        jitted(normal)
    assert jitted.replays > 0
    with pytest.raises(tg.JitError, match="ignore_index"):
        jitted(tg.Tensor(np.array([0, 2, 1, 1]), device=device))


def test_causal_attention_jitted_equals_eager(device):
    F = tg.nn.functional
    rng = np.random.default_rng(6)
    q, k, v = (
        tg.Tensor(rng.standard_normal((2, 5, 4)), device=device, requires_grad=True)
        for _ in range(3)
    )

    def step():
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        loss = (out * out).sum()
        loss.backward()
        grads = [t.grad for t in (q, k, v)]
        for t in (q, k, v):
            t.grad = None
        return loss, grads

    jitted = tg.jit(step)
    for _ in range(4):
        loss_e, grads_e = step()
        loss_j, grads_j = jitted()
        assert loss_j.item() == loss_e.item()
        for a, b in zip(grads_e, grads_j):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert jitted.replays > 0


def test_host_array_made_afresh_each_call_is_one_constant(device):
    """A step that builds the same NumPy array on every call (positions = np.arange(t),
    as a GPT's forward does) replays; one whose array holds other numbers each call is
    caught like a changing Python number."""
    table = tg.Tensor(np.arange(12.0).reshape(6, 2), device=device, requires_grad=True)
    calls = [0]

    def same():
        loss = tg.nn.functional.embedding(np.arange(4), table).sum()
        loss.backward()
        grad = table.grad
        table.grad = None
        return loss, grad

    def changing():
        calls[0] += 1
        loss = tg.nn.functional.embedding(np.arange(4) + calls[0] % 2, table).sum()
        loss.backward()
        table.grad = None
        return loss

    jitted = tg.jit(same)
    for _ in range(4):
        loss, grad = jitted()
    assert jitted.replays > 0
    np.testing.assert_array_equal(grad.numpy()[:, 0], [1, 1, 1, 1, 0, 0])
    assert loss.item() == pytest.approx(np.arange(8.0).sum())
    with pytest.raises(tg.JitError, match="constant of the recording"):
        jitted = tg.jit(changing)
        for _ in range(4):
            jitted()


def test_replay_marks_changed_only_what_it_changed(device):
    """An index check (a host function) reads the indices: a replay must not mark them
    as changed in place, or an older graph that saved them would refuse its backward."""
    tokens = tg.Tensor(np.array([0, 2, 1]), device=device)
    table = tg.Tensor(np.ones((3, 2)), device=device, requires_grad=True)

    def step():
        loss = tg.nn.functional.embedding(tokens, table).sum()  # checks tokens' range
        loss.backward()
        with tg.no_grad():
            table.data -= 0.1 * table.grad.data
            table._bump_version()
        table.grad = None
        return loss

    modified = tg.autograd.STATE.modified  # id(array) -> (version, ...) of its last change
    jitted = tg.jit(step)
    for _ in range(3):  # two traces, then a replay
        jitted()
    tokens_before, table_before = modified.get(id(tokens.data)), modified.get(id(table.data))
    jitted()
    assert jitted.replays > 0
    assert modified.get(id(tokens.data)) == tokens_before  # read, not changed
    assert modified.get(id(table.data)) != table_before  # changed in place, as eager marks it


def test_state_reached_through_a_called_function_is_kept(device):
    """jit(lambda: step(...)): the tensors `step` reaches are found through the lambda."""
    w = tg.Tensor([1.0, -2.0], device=device, dtype=tg.float64, requires_grad=True)

    def step(lr):
        loss = (w * w).sum()
        loss.backward()
        with tg.no_grad():
            w.data -= lr * w.grad.data
            w._bump_version()
        w.grad = None
        return loss

    jitted = tg.jit(lambda: step(0.25))
    losses = [jitted().item() for _ in range(5)]
    assert jitted.replays > 0
    expected = [5.0 * 0.5 ** (2 * k) for k in range(5)]  # w halves each step
    np.testing.assert_allclose(losses, expected, rtol=1e-12)
    np.testing.assert_allclose(w.numpy(), [1.0 / 32, -2.0 / 32], rtol=1e-12)


def test_losses_with_ignored_targets_and_integer_remainder_replay(device):
    """cross_entropy with ignore_index and class weights, and % on integers, read no
    values in Python: a recording replays them, whatever the batch."""
    logits = tg.Tensor(np.linspace(-1.0, 1.0, 12).reshape(4, 3), device=device, requires_grad=True)
    weight = tg.Tensor([1.0, 2.0, 0.5], device=device)
    counts = tg.Tensor(np.array([7, 8, 9, 10]), device=device)

    def step(target):
        loss = tg.cross_entropy(logits, target, weight, ignore_index=2, label_smoothing=0.1)
        loss.backward()
        grad = logits.grad
        logits.grad = None
        return loss, grad, counts % 4

    jitted = tg.jit(step)
    for labels in ([0, 1, 2, 1], [1, 0, 2, 0], [0, 0, 2, 1], [2, 1, 0, 0]):
        target = tg.Tensor(np.array(labels), device=device)
        loss, grad, rest = jitted(target)
        loss_e, grad_e, rest_e = step(target)
        assert loss.item() == pytest.approx(loss_e.item(), abs=1e-12)
        np.testing.assert_allclose(grad.numpy(), grad_e.numpy(), atol=1e-12)
        np.testing.assert_array_equal(rest.numpy(), [3, 0, 1, 2])
    assert jitted.replays > 0


@pytest.mark.parametrize("wrap", [list, tuple, lambda ts: {"x": ts[0]}])
def test_tensors_inside_container_arguments_are_refused(device, wrap):
    """A Tensor inside a list, tuple or dict argument would be a constant of the
    recording (a stale replay), so tg.jit says to pass it on its own."""
    jitted = tg.jit(lambda xs: (xs["x"] if isinstance(xs, dict) else xs[0]) * 2.0)
    x = tg.Tensor([5.0], device=device)
    with pytest.raises(tg.JitError, match="holding Tensors"):
        jitted(wrap([x]))


def test_an_arguments_grad_is_left_as_it_was_by_every_call(device):
    """Traced calls and replays treat an argument's .grad alike: it is not written."""
    w = tg.Tensor([1.0, 2.0], device=device, dtype=tg.float64, requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        loss.backward()
        grad = x.grad
        w.grad = None
        return grad

    jitted = tg.jit(step)
    for _ in range(4):
        x = tg.Tensor([3.0, 4.0], device=device, dtype=tg.float64, requires_grad=True)
        returned = jitted(x)
        assert x.grad is None
        np.testing.assert_array_equal(returned.numpy(), [1.0, 2.0])  # returned instead
    assert jitted.replays > 0


def test_a_tensor_kept_from_a_traced_call_reads_outside(device):
    """A tensor made inside the step and kept elsewhere is not updated by replays, but it
    can still be read afterwards, with the numbers of the call that made it."""
    w = tg.Tensor([1.0, 2.0], device=device, dtype=tg.float64)
    kept = []

    def step(x):
        h = x * w
        kept.append(h)
        return h.sum()

    jitted = tg.jit(step)
    jitted(tg.Tensor([3.0, 4.0], device=device, dtype=tg.float64))
    np.testing.assert_array_equal(kept[0].numpy(), [3.0, 8.0])
    assert kept[0].tolist() == [3.0, 8.0] and "8." in repr(kept[0])
    assert kept[0].sum().item() == 11.0


def test_one_hot_inside_a_step_replays_and_checks_its_classes(device):
    labels = tg.Tensor(np.array([0, 2, 1]), device=device)
    jitted = tg.jit(lambda labels: tg.nn.functional.one_hot(labels, 3).sum(axis=0))
    for _ in range(3):
        np.testing.assert_array_equal(jitted(labels).numpy(), [1, 1, 1])
    assert jitted.replays > 0
    with pytest.raises(ValueError, match="one_hot: class values"):
        jitted(tg.Tensor(np.array([0, 3, 1]), device=device))  # checked on replay too
