"""`tg.walkthrough`: the recorded steps, the page's data and the saved file.

The page's behaviour in a real browser is tested in tests/test_walkthrough_browser.py;
here, without a browser, that the data it shows is the trace's and the leaves' own
numbers, on every device, for any op, after a plain backward, and that the saved file
needs nothing but a browser.
"""

import re

import numpy
import pytest

import tinygrad_edu as tg

try:
    tg.graph.find_renderer()
    RENDERER = None
except tg.RendererNotFoundError as error:
    RENDERER = str(error)

pytestmark = pytest.mark.skipif(RENDERER is not None, reason=f"{RENDERER}")


def lecture_network(device="cpu"):
    """The lecture's 1-3-1 tanh network and its loss, with fixed weights."""
    rng = numpy.random.default_rng(0)
    x = tg.Tensor(numpy.linspace(0.0, 1.0, 4).reshape(1, 4), name="x", device=device)
    y = tg.Tensor(numpy.linspace(0.0, 1.0, 4).reshape(1, 4) ** (1 / 3), name="y", device=device)
    params = {
        name: tg.Tensor(rng.normal(size=shape), requires_grad=True, name=name, device=device)
        for name, shape in (("w0", (3, 1)), ("b0", (3, 1)), ("w1", (1, 3)), ("b1", (1, 1)))
    }

    def loss_fn():
        hidden = (params["w0"] * x + params["b0"]).tanh()
        return ((y - (params["w1"] @ hidden + params["b1"])) ** 2).sum()

    return params, loss_fn


def parse(text):
    """The numbers in a printed array or number."""
    return numpy.array([float(v) for v in re.findall(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?", text)])


def test_steps_are_the_traces_steps_with_their_numbers(device):
    params, loss_fn = lecture_network(device)
    with tg.trace_backward() as reference:  # an independent pass over the same graph
        loss_fn().backward()
    expected_grads = {name: p.grad.numpy().copy() for name, p in params.items()}
    for p in params.values():
        p.grad = None

    page = tg.walkthrough(loss_fn())
    assert len(page) == len(reference) == len(page.data["steps"]) == 8
    for shown, step in zip(page.data["steps"], reference):
        assert shown["op"] == step.op
        assert shown["out_shape"] == str(step.out_shape)
        numpy.testing.assert_allclose(
            [float(shown["grad_out"][k]) for k in ("norm", "min", "max")],
            step.grad_out[:3],
            rtol=1e-3,
        )
        for shown_in, stats in zip(shown["inputs"], step.grads_in):
            if stats is None:
                assert shown_in["grad"] is None
                continue
            numpy.testing.assert_allclose(float(shown_in["grad"]["norm"]), stats[0], rtol=1e-3)
            values = parse(shown_in["grad"]["values"])
            numpy.testing.assert_allclose(numpy.linalg.norm(values), stats[0], rtol=1e-3)
    # the page's own trace is the same pass, its nodes are the drawn ones
    for shown, step in zip(page.data["steps"], page.steps):
        assert shown["node"] == f"op{step.node.seq}"
        assert f"<title>op{step.node.seq}</title>" in page.svg
    # the last step lists every leaf's final .grad, which backward really set
    final = {entry["name"]: entry for entry in page.data["final"]}
    assert sorted(final) == sorted(params)
    for name, p in params.items():
        numpy.testing.assert_allclose(p.grad.numpy(), expected_grads[name], rtol=1e-12)
        numpy.testing.assert_allclose(
            parse(final[name]["grad"]["values"]), p.grad.numpy().ravel(), atol=1e-4
        )


def test_leaves_collect_their_gradients_step_by_step():
    a = tg.Tensor([1.0, 2.0], requires_grad=True, name="a")
    loss = (a * 3.0 + a * a).sum()  # a reaches two ops: its gradient so far grows
    page = tg.walkthrough(loss)
    so_far = [
        (leaf["name"], parse(leaf["so_far"])) for s in page.data["steps"] for leaf in s["leaves"]
    ]
    names = [name for name, _ in so_far]
    assert names.count("a") >= 2
    numpy.testing.assert_allclose(so_far[-1][1], a.grad.numpy(), rtol=1e-6)  # 3 + 2a
    numpy.testing.assert_allclose(a.grad.numpy(), [5.0, 7.0])


def test_the_rule_is_the_ops_docstring_and_users_ops_work():
    class Cube(tg.Function):
        """out = x**3.   d(out)/dx = 3 * x**2."""

        __slots__ = ()

        def forward(self, x):
            return x**3

        def backward(self, xp, grad, out, x):
            return (grad * 3 * x**2,)

    class Quiet(tg.Function):
        __slots__ = ()

        def forward(self, x):
            return x * 2

        def backward(self, xp, grad, out, x):
            return (grad * 2,)

    x = tg.Tensor([1.0, -2.0], requires_grad=True, name="x")
    page = tg.walkthrough(Quiet.apply(Cube.apply(x)).sum())
    rules = {s["op"]: s["rule"] for s in page.data["steps"]}
    assert rules["Cube"] == "out = x**3. d(out)/dx = 3 * x**2."
    assert "Quiet has no docstring" in rules["Quiet"]
    assert rules["Sum"].startswith("out = ")  # our own ops say their rule
    numpy.testing.assert_allclose(x.grad.numpy(), [6.0, 24.0])


def test_after_a_plain_backward_with_its_trace():
    params, loss_fn = lecture_network()
    loss = loss_fn()
    with tg.trace_backward() as steps:
        loss.backward()  # a plain backward: saved values are freed, the graph stays
    page = tg.walkthrough(loss, steps=steps)
    assert [s["op"] for s in page.data["steps"]] == [s.op for s in steps]
    assert all("values" not in s["grad_out"] for s in page.data["steps"])  # stats only
    assert "value freed" in page.svg


def test_frees_what_a_plain_backward_frees():
    params, loss_fn = lecture_network()
    loss = loss_fn()
    tg.walkthrough(loss)
    with pytest.raises(RuntimeError, match="a second time"):
        loss.backward()


def test_saved_page_needs_nothing_but_a_browser(tmp_path):
    params, loss_fn = lecture_network()
    page = tg.walkthrough(loss_fn())
    path = page.save(tmp_path / "sub" / "backprop.html")
    text = (tmp_path / "sub" / "backprop.html").read_text()
    assert str(path).endswith("backprop.html")
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE)
    assert not re.search(r"<(link|img|iframe)\b|\bsrc\s*=|@import|url\(", text, re.IGNORECASE)
    assert "<svg" in text and "function tgWalkthrough" in text


def test_notebook_html_has_unique_ids():
    params, loss_fn = lecture_network()
    page = tg.walkthrough(loss_fn())
    first, second = page._repr_html_(), page._repr_html_()
    id_first = re.search(r'<div id="([^"]+)" class="tg-walkthrough"', first).group(1)
    id_second = re.search(r'<div id="([^"]+)" class="tg-walkthrough"', second).group(1)
    assert id_first != id_second
    svg_ids = set(re.findall(r'<g id="([^"]+)"', first)) & set(
        re.findall(r'<g id="([^"]+)"', second)
    )
    assert not svg_ids  # two pages in one notebook never share an element id


def test_large_graphs_use_draw_graphs_summary():
    x = tg.Tensor(numpy.ones(3), requires_grad=True)
    h = x
    for _ in range(30):
        h = (h * 1.01).tanh()
    page = tg.walkthrough(h.sum(), max_ops=10)
    assert len(page) == 61  # every step is shown in the panel ...
    assert page.svg.count('class="node"') < 40  # ... the drawing keeps the nearest ops
    assert "more ops not drawn" in page.svg


def test_bad_input_says_what_is_wrong():
    with pytest.raises(TypeError, match="walkthrough\\(loss\\) takes a Tensor"):
        tg.walkthrough(numpy.ones(3))
    with pytest.raises(RuntimeError, match="no graph"):
        tg.walkthrough(tg.Tensor([1.0, 2.0]).sum())


def test_models_are_boxed_and_repeats_folded_as_in_draw_graph():
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(2, 3), tg.nn.Tanh(), tg.nn.Linear(3, 1))
    page = tg.walkthrough(model(tg.ones(4, 2)).sum(), model=model)
    assert "0: Linear" in page.svg and "2: Linear" in page.svg  # named module boxes
    lstm = tg.nn.LSTM(2, 3, batch_first=True)
    out, _ = lstm(tg.ones(1, 6, 2))
    page = tg.walkthrough(out.sum())
    drawn = set(re.findall(r"<title>(op\d+)</title>", page.svg))
    shown = [s["node"] for s in page.data["steps"]]
    assert len(shown) == len(page.steps)  # every step is in the panel ...
    assert drawn < set(shown)  # ... while the middle time steps are folded in the drawing
    assert "more time steps" in page.svg
