"""Seeing the graph (tinygrad_edu/graph.py): DOT text, drawings, renderers, trace_backward.

The DOT text is checked by parsing it (a small parser for the lines `to_dot` writes) and
comparing nodes and edges with the real graph, walked from `loss.grad_fn` along the
edges (`node.next_functions`) with an explicit stack.
Rendering tests run once per renderer, each chosen by its path: the system Graphviz `dot`
(skipped where it is not installed) and graphviz-pure (which `make test` installs with the
`viz` extra; missing, those tests fail, saying so).
"""

import html
import importlib.util
import inspect
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import autograd, backend, graph
from tinygrad_edu.autograd import AccumulateGrad

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---- a parser for the DOT text to_dot writes ----------------------------------------

NODE_LINE = re.compile(r"^\s*(\w+) \[(.*)\];$")
EDGE_LINE = re.compile(r"^\s*(\w+) -> (\w+);$")
INVISIBLE_EDGE_LINE = re.compile(r"^\s*(\w+) -> (\w+) \[style=invis\];$")  # orders boxes
CLUSTER_LINES = ("subgraph cluster_", "label=")  # a module box and its attributes
KEY = re.compile(r"\s*(\w+)=")
BARE = re.compile(r"[^,\s\]]+")
HEADER_LINES = ("digraph tinygrad_edu {", "}", "rankdir=")


def _parse_attributes(text):
    """`shape=box, style="a,b", label=<<b>x</b>>` -> dict; quoted and HTML values unwrapped."""
    attributes = {}
    i = 0
    while i < len(text):
        match = KEY.match(text, i)
        assert match, f"cannot parse attributes at {text[i:]!r}"
        key, i = match.group(1), match.end()
        if text[i] == '"':  # a quoted string with backslash escapes
            j, chars = i + 1, []
            while text[j] != '"':
                if text[j] == "\\":
                    chars.append({"n": "\n", '"': '"', "\\": "\\"}[text[j + 1]])
                    j += 2
                else:
                    chars.append(text[j])
                    j += 1
            value, i = "".join(chars), j + 1
        elif text[i] == "<":  # an HTML label: balanced < and >
            j, depth = i, 0
            while True:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
                if depth == 0:
                    break
            value, i = text[i + 1 : j - 1], j
        else:
            match = BARE.match(text, i)
            value, i = match.group(), match.end()
        attributes[key] = value
        while i < len(text) and text[i] in ", ":
            i += 1
    return attributes


def parse_dot(text):
    """(nodes: {id: attributes}, edges: [(source, target)]) of to_dot's output.

    Every line must be one we know; node labels get a plain `text` entry (HTML tags
    removed, one line per row)."""
    nodes, edges = {}, []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(HEADER_LINES):
            continue
        if stripped.startswith(CLUSTER_LINES) or INVISIBLE_EDGE_LINE.match(line):
            continue  # parse_clusters reads the module boxes
        edge = EDGE_LINE.match(line)
        if edge:
            edges.append((edge.group(1), edge.group(2)))
            continue
        node = NODE_LINE.match(line)
        assert node, f"unexpected DOT line: {line!r}"
        name, attributes = node.group(1), _parse_attributes(node.group(2))
        if name in ("node", "edge", "graph"):  # default attributes, not nodes
            continue
        label = attributes.get("label", "")
        attributes["text"] = html.unescape(re.sub(r"<[^>]*>", "", label.replace("<br/>", "\n")))
        nodes[name] = attributes
    return nodes, edges


def walk(root):
    """(nodes, op nodes) reachable from tensor `root`, by an explicit stack over the
    edges (next_functions), as a user would walk the graph."""
    nodes, seen, stack = [], set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return nodes, [n for n in nodes if isinstance(n, tg.Function)]


def input_boxes(op):
    """The drawn box of each input of op node `op`: its node's box, or "c" for a constant
    the op kept (constant boxes are numbered c0, c1, ... as drawn); a constant it did not
    keep is not drawn."""
    boxes = []
    for position, (next_node, _) in enumerate(op.next_functions):
        if next_node is None:
            kept = op.saved[position + 1]
            if kept is not None and not isinstance(kept, autograd.Node):  # an array
                boxes.append("c")
        elif isinstance(next_node, AccumulateGrad):
            boxes.append(f"leaf{next_node.seq}")
        else:
            boxes.append(f"t{next_node.seq}")
    return boxes


def network(device="cpu", seed=0):
    """The lecture's 1-3-1 tanh network on 4 points, everything named.

    Returns a dict: x, y, w0, b0, w1, b1, hidden, y_pred, loss."""
    rng = np.random.default_rng(seed)
    points = np.linspace(0.0, 1.0, 4).reshape(1, 4)
    net = {
        "x": tg.Tensor(points, name="x", device=device),
        "y": tg.Tensor(points ** (1 / 3), name="y", device=device),
    }
    shapes = {"w0": (3, 1), "b0": (3, 1), "w1": (1, 3), "b1": (1, 1)}
    for name, shape in shapes.items():
        net[name] = tg.Tensor(rng.normal(size=shape), requires_grad=True, name=name, device=device)
    net["hidden"] = (net["w0"] * net["x"] + net["b0"]).tanh()
    net["hidden"].name = "hidden"
    net["y_pred"] = net["w1"] @ net["hidden"] + net["b1"]
    net["y_pred"].name = "y_pred"
    net["loss"] = ((net["y"] - net["y_pred"]) ** 2).sum()
    return net


NETWORK_OPS = {"Mul", "Add", "Tanh", "MatMul", "Sub", "Pow", "Sum"}
NAMES = ["x", "y", "w0", "b0", "w1", "b1", "hidden", "y_pred"]
PARAMETERS = ["w0", "b0", "w1", "b1"]


def box(t):
    """The name of the box of tensor `t` in the DOT text: the value its op made, or a leaf."""
    return f"t{t.grad_fn.seq}" if t.grad_fn is not None else f"leaf{t._accumulator.seq}"


def node_of(nodes, t):
    return nodes[box(t)]


def load_example(name):
    """Import examples/<name>.py as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- DOT content ----------------------------------------------------------------------


def test_dot_names_every_op_and_named_tensor(device):
    net = network(device)
    nodes, _ = parse_dot(tg.to_dot(net["loss"]))
    op_texts = [n["text"] for key, n in nodes.items() if key.startswith("op")]
    assert {text.split("\n")[0] for text in op_texts} == NETWORK_OPS
    for name in NAMES:
        if name not in ("x", "y"):  # constants: the graph keeps arrays, not tensors
            assert node_of(nodes, net[name])["text"].split("\n")[0] == name
    # one box per op's value, per leaf and per constant an op kept, one ellipse per op,
    # and nothing else
    all_nodes, ops = walk(net["loss"])
    expected = {f"t{op.seq}" for op in ops} | {f"op{op.seq}" for op in ops}
    expected |= {f"leaf{n.seq}" for n in all_nodes if isinstance(n, AccumulateGrad)}
    constants = [key for key in nodes if key.startswith("c")]
    assert set(nodes) == expected | set(constants)
    # x is kept by Mul (w0's gradient reads it) and the exponent 2 by Pow; y is not kept
    constants = sorted(nodes[b]["text"] for b in constants)
    assert [c.split("\n")[:2] for c in constants] == [["constant", "()"], ["constant", "(1, 4)"]]


def test_dot_edges_are_the_graph(device):
    net = network(device)
    nodes, edges = parse_dot(tg.to_dot(net["loss"]))
    _, ops = walk(net["loss"])
    assert len(ops) == 8
    for node in ops:
        op = f"op{node.seq}"
        incoming = [source for source, target in edges if target == op]
        outgoing = [target for source, target in edges if source == op]
        incoming = ["c" if source.startswith("c") else source for source in incoming]
        assert incoming == input_boxes(node), node
        assert outgoing == [f"t{node.seq}"]
    # every edge joins a box and an op, both drawn; no other edges
    assert len(edges) == sum(len(input_boxes(node)) + 1 for node in ops)
    for source, target in edges:
        assert source in nodes and target in nodes
        assert source.startswith("op") != target.startswith("op")


def test_dot_of_a_tensor_used_twice_has_two_edges():
    a = tg.Tensor([1.0, 2.0], requires_grad=True, name="a")
    nodes, edges = parse_dot(tg.to_dot(a * a))
    assert edges.count((box(a), next(k for k in nodes if k.startswith("op")))) == 2


def test_parameters_stand_out(device):
    net = network(device)
    nodes, _ = parse_dot(tg.to_dot(net["loss"]))
    for name in PARAMETERS:
        assert "fillcolor" in node_of(nodes, net[name]), name
        assert "filled" in node_of(nodes, net[name])["style"]
    colors = {node_of(nodes, net[name])["fillcolor"] for name in PARAMETERS}
    assert len(colors) == 1
    for name in ["hidden", "y_pred"]:  # intermediates: not filled
        assert "fillcolor" not in node_of(nodes, net[name]), name
        assert "filled" not in node_of(nodes, net[name])["style"], name
    for key, n in nodes.items():
        if key.startswith("c"):  # constants: not filled
            assert "fillcolor" not in n and "filled" not in n["style"]
    assert all(n["fillcolor"] not in colors for k, n in nodes.items() if k.startswith("op"))


def test_values_shown_for_small_tensors_only(device):
    small = tg.Tensor(np.arange(8.0), requires_grad=True, name="small", device=device)
    large = tg.Tensor(np.arange(9.0), requires_grad=True, name="large", device=device)
    nodes, _ = parse_dot(tg.to_dot(small.sum() + large.sum()))
    assert "data [0., 1., 2., 3., 4., 5., 6., 7.]" in node_of(nodes, small)["text"]
    assert "data" not in node_of(nodes, large)["text"]
    assert "(9,)" in node_of(nodes, large)["text"]  # its shape is still there
    assert "data" not in parse_dot(tg.to_dot(small.sum(), show_data=False))[0][box(small)]


@pytest.mark.parametrize("retain", [False, True], ids=["plain-backward", "retain-graph"])
def test_gradients_shown_after_backward(device, retain):
    # After a plain loss.backward() the whole graph is still drawn: every op and leaf,
    # the leaves' gradients, and intermediate values backward freed marked as freed.
    net = network(device)
    before, _ = parse_dot(tg.to_dot(net["loss"]))
    assert all("grad" not in node["text"] for node in before.values())
    assert "value freed" not in tg.to_dot(net["loss"])
    net["loss"].backward(retain_graph=retain)
    nodes, _ = parse_dot(tg.to_dot(net["loss"]))
    assert set(nodes) == set(before) - (set() if retain else {k for k in before if k[0] == "c"})
    for name in PARAMETERS:
        (line,) = [row for row in node_of(nodes, net[name])["text"].split("\n") if "grad" in row]
        shown = [float(number) for number in re.findall(r"-?\d+\.\d*", line)]
        np.testing.assert_allclose(shown, net[name].grad.numpy().ravel(), atol=1e-3)
    ops = [n["text"] for key, n in nodes.items() if key.startswith("op")]
    freed = [n["text"] for key, n in nodes.items() if "value freed" in n["text"]]
    if retain:  # everything kept is still there
        assert not freed and all("keeps" in text for text in ops)
        pow_node = net["loss"].grad_fn.next_functions[0][0]
        error = f"t{pow_node.next_functions[0][0].seq}"  # y - y_pred, which Pow kept
        assert "data" in nodes[error]["text"]
    else:  # the values backward freed say so; the root (the loss) is alive and shown
        assert all("freed by backward" in text for text in ops)
        assert "value freed" in node_of(nodes, net["hidden"])["text"]
        # kept, then freed: hidden (Tanh and MatMul kept it) and y - y_pred (Pow kept it);
        # the other five values no op ever kept say so
        assert len(freed) == 2 and "data" in node_of(nodes, net["loss"])["text"]
        never = [n for n in nodes.values() if "value not kept" in n["text"]]
        assert len(never) == 5 and "value not kept" in node_of(nodes, net["y_pred"])["text"]
    hidden, _ = parse_dot(tg.to_dot(net["loss"], show_grad=False))
    assert all("grad" not in node["text"] for node in hidden.values())


def test_op_parameters_shown(device):
    a = tg.Tensor(np.ones((2, 3)), requires_grad=True, device=device)
    nodes, _ = parse_dot(tg.to_dot(a.sum(axis=0).leaky_relu(0.2)))
    texts = sorted(n["text"] for key, n in nodes.items() if key.startswith("op"))
    assert any(text.startswith("Sum\naxes=(0,), keepdims=False\nkeeps") for text in texts)
    assert any(text.startswith("LeakyRelu") and "0.2" in text for text in texts), texts


# ---- the node graph: walking it, and drawing it before and after backward ---------------


def describe(node):
    """One end of an edge as text: the op's name, "AccumulateGrad(leaf name)", or None."""
    if node is None:
        return None
    if isinstance(node, AccumulateGrad):
        return f"AccumulateGrad({node.variable.name})"
    return node.name


def structure(root):
    """[(node, [(next node, index), ...]), ...] described as text, in the order an explicit
    stack over `next_functions` meets the nodes (first input first), from tensor `root`."""
    found, seen, stack = [], set(), [root.grad_fn]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        found.append((describe(node), [(describe(n), i) for n, i in node.next_functions]))
        stack.extend(n for n, _ in reversed(node.next_functions) if n is not None)
    return found


def numbers(text, row):
    """The numbers on the row of a box's text that starts with `row` ("data", "grad")."""
    (line,) = [line for line in text.split("\n") if line.startswith(row + " ")]
    return [float(n) for n in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", line[len(row) :])]


def tanh_square(device):
    """x, w and ((x * w).tanh() ** 2).sum(), with its four op nodes, output first."""
    x = tg.Tensor([1.0, 2.0], requires_grad=True, name="x", device=device)
    w = tg.Tensor([0.5, -1.0], requires_grad=True, name="w", device=device)
    loss = ((x * w).tanh() ** 2).sum()
    sum_node = loss.grad_fn
    ((pow_node, _),) = sum_node.next_functions
    (tanh_node, _), _ = pow_node.next_functions
    ((mul_node, _),) = tanh_node.next_functions
    return x, w, loss, (sum_node, pow_node, tanh_node, mul_node)


def by_hand(x, w):
    """(tanh(x * w), loss, dL/dx, dL/dw) of ((x * w).tanh() ** 2).sum(), in NumPy."""
    x, w = x.numpy().astype(np.float64), w.numpy().astype(np.float64)
    t = np.tanh(x * w)
    local = 2 * t * (1 - t * t)
    return t, (t * t).sum(), local * w, local * x


TANH_SQUARE = [
    ("Sum", [("Pow", 0)]),
    ("Pow", [("Tanh", 0), (None, 0)]),  # the exponent 2 needs no gradient: (None, 0)
    ("Tanh", [("Mul", 0)]),
    ("Mul", [("AccumulateGrad(x)", 0), ("AccumulateGrad(w)", 0)]),
    ("AccumulateGrad(x)", []),
    ("AccumulateGrad(w)", []),
]


def test_next_functions_walk_is_the_op_structure(device):
    x, w, loss, ops = tanh_square(device)
    sum_node, pow_node, tanh_node, mul_node = ops
    assert structure(loss) == TANH_SQUARE
    assert all(isinstance(node, tg.Function) for node in ops)
    (leaf_x, _), (leaf_w, _) = mul_node.next_functions
    for leaf, t in [(leaf_x, x), (leaf_w, w)]:
        assert type(leaf) is AccumulateGrad and not isinstance(leaf, tg.Function)
        assert leaf.variable is t and (leaf.shape, leaf.dtype) == (t.shape, t.dtype)
    for node in ops + (leaf_x, leaf_w):  # next_functions is next_nodes as PyTorch writes it
        assert node.next_functions == tuple((n, 0) for n in node.next_nodes)
    assert [(n.shape, str(n.dtype)) for n in ops] == [((), "float32")] + [((2,), "float32")] * 3
    # creation numbers: every node after the nodes it links to (a topological order)
    assert leaf_x.seq < leaf_w.seq < mul_node.seq < tanh_node.seq < pow_node.seq < sum_node.seq
    assert (x + 1.0).grad_fn.next_functions[0][0] is leaf_x  # one AccumulateGrad per leaf
    # What Pow keeps: x's gradient, y * x**(y - 1), reads x and the exponent, not the output
    out, base, exponent = pow_node.saved
    assert out is None and pow_node.needs_input_grad == (True, False)
    t = by_hand(x, w)[0]
    np.testing.assert_allclose(backend.to_numpy(base), t, rtol=1e-6)
    assert backend.to_numpy(exponent) == 2.0
    assert tanh_node.saved[1] is None  # Tanh keeps its output only (1 - out**2)
    # backward frees what the nodes kept, not the nodes and edges
    loss.backward()
    assert structure(loss) == TANH_SQUARE
    assert all(node.saved is None for node in ops)
    assert leaf_x.variable is x and leaf_w.variable is w


@pytest.mark.parametrize("retain", [False, True], ids=["before-backward", "retain-graph"])
def test_drawing_shows_op_nodes_leaves_and_the_values_ops_keep(device, retain):
    x, w, loss, ops = tanh_square(device)
    sum_node, pow_node, tanh_node, mul_node = ops
    if retain:
        loss.backward(retain_graph=True)
    nodes, edges = parse_dot(tg.to_dot(loss))
    keeps = {n.name: nodes[f"op{n.seq}"]["text"].split("\n")[-1] for n in ops}
    assert keeps == {
        "Sum": "keeps nothing",  # only the shape of its input
        "Pow": "keeps x, y",  # the base and the exponent
        "Tanh": "keeps out",
        "Mul": "keeps x, y",  # each input for the other's gradient
    }
    t, value, grad_x, grad_w = by_hand(x, w)
    # Tanh's output is kept (by Tanh, and by Pow as its base): its values are drawn
    assert numbers(nodes[f"t{tanh_node.seq}"]["text"], "data") == pytest.approx(t, abs=1e-3)
    for node in (mul_node, pow_node):  # values no op kept: no numbers, and nothing freed
        assert "data" not in nodes[f"t{node.seq}"]["text"]
    assert "value freed" not in tg.to_dot(loss)
    assert "freed by backward" not in tg.to_dot(loss)
    assert numbers(node_of(nodes, loss)["text"], "data") == pytest.approx([value], abs=1e-3)
    (constant,) = [key for key in nodes if key.startswith("c")]  # Pow's exponent, kept
    assert nodes[constant]["text"].split("\n")[0] == "constant"
    assert numbers(nodes[constant]["text"], "data") == [2.0]
    assert "dashed" in nodes[constant]["style"]
    assert (constant, f"op{pow_node.seq}") in edges
    for leaf, grad in [(x, grad_x), (w, grad_w)]:
        text = node_of(nodes, leaf)["text"]
        assert text.split("\n")[0] == leaf.name
        assert numbers(text, "data") == pytest.approx(leaf.numpy().tolist())
        if retain:
            assert numbers(text, "grad") == pytest.approx(grad, abs=1e-3)
        else:
            assert "grad" not in text


def test_drawing_after_a_plain_backward_shows_every_op_and_leaf(device):
    x, w, _, _ = tanh_square(device)
    big = tg.Tensor(np.linspace(-1.0, 1.0, 9), requires_grad=True, name="big", device=device)
    loss = ((x * w).tanh() ** 2).sum() + (big * big).sum()
    before, edges_before = parse_dot(tg.to_dot(loss))
    loss.backward()  # no retain_graph
    dot = tg.to_dot(loss)
    assert tg.draw_graph(loss).source == dot
    nodes, edges = parse_dot(dot)
    all_nodes, ops = walk(loss)
    leaves = [n for n in all_nodes if isinstance(n, AccumulateGrad)]
    assert len(ops) == 7 and sorted(leaf.variable.name for leaf in leaves) == ["big", "w", "x"]
    expected = {f"op{n.seq}" for n in ops} | {f"t{n.seq}" for n in ops}
    expected |= {f"leaf{n.seq}" for n in leaves}
    # every op and leaf is drawn, as before backward; Pow's exponent went with its saved values
    assert set(nodes) == expected
    (constant,) = set(before) - expected  # the exponent 2, which Pow kept until backward
    assert constant.startswith("c")
    assert edges == [edge for edge in edges_before if not edge[0].startswith("c")]
    for node in ops:
        assert nodes[f"op{node.seq}"]["text"].endswith("\nsaved values\nfreed by backward")
        text = nodes[f"t{node.seq}"]["text"]
        if node is loss.grad_fn:  # the root is a live tensor: its value is drawn
            assert numbers(text, "data") == pytest.approx([loss.item()], abs=1e-3)
        else:  # intermediate values are marked, not silently missing: the tanh output
            # was kept (by Tanh and Pow) and backward freed it; the others were never kept
            mark = "value freed" if node.name == "Tanh" else "value not kept"
            assert text.split("\n")[-1] == mark and "data" not in text, node
    _, _, grad_x, grad_w = by_hand(x, w)
    for leaf, grad in [(x, grad_x), (w, grad_w)]:
        assert numbers(node_of(nodes, leaf)["text"], "grad") == pytest.approx(grad, abs=1e-3)
    # a leaf too large for its values shows the size of its gradient
    norm = np.linalg.norm(big.grad.numpy())
    assert "data" not in node_of(nodes, big)["text"]
    assert f"grad |g|={norm:.3g}" in node_of(nodes, big)["text"].split("\n")


def test_a_leaf_the_program_dropped_is_drawn_as_dropped():
    w = tg.Tensor([1.0, 2.0], requires_grad=True, name="w")
    loss = (w * 3.0).sum()
    ((mul_node, _),) = loss.grad_fn.next_functions
    leaf = mul_node.next_functions[0][0]
    del w  # the graph refers to its leaves weakly
    assert leaf.variable is None
    nodes, edges = parse_dot(tg.to_dot(loss))
    assert nodes[f"leaf{leaf.seq}"]["text"].split("\n")[0] == "(2,) (dropped)"
    assert (f"leaf{leaf.seq}", f"op{mul_node.seq}") in edges


# ---- rendering -------------------------------------------------------------------------


def system_dot():
    """The system Graphviz `dot`; skips the test where it is not installed."""
    path = shutil.which("dot")
    if path is None:
        pytest.skip("no system Graphviz here (apt-get install graphviz, brew install graphviz)")
    return path


def graphviz_pure():
    """graphviz-pure, which `make test` installs with the `viz` extra: missing is a failure."""
    places = [os.path.dirname(sys.executable), sysconfig.get_path("scripts")]
    candidates = [os.path.join(place, "graphviz-pure") for place in places if place]
    candidates.append(shutil.which("graphviz-pure"))
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    pytest.fail(
        "graphviz-pure is not installed in the test environment: run `make test` (installs "
        'it via the viz extra) or `pip install -e ".[viz]"`.'
    )


RENDERERS = {"system-dot": system_dot, "graphviz-pure": graphviz_pure}


@pytest.fixture(params=list(RENDERERS))
def renderer(request, monkeypatch):
    """Each renderer in turn, chosen by its own path (the system `dot` where installed,
    graphviz-pure always): every drawing made in the test renders with that one."""
    path = RENDERERS[request.param]()
    monkeypatch.setattr(graph, "find_renderer", lambda: path)
    return path


def test_svg_renders_and_is_valid_xml(renderer):
    net = network()
    svg = tg.draw_graph(net["loss"]).pipe(format="svg")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = "".join(root.itertext())
    for name in ["w0", "Tanh", "MatMul"]:
        assert name in text


def test_png_renders(renderer):
    png = tg.draw_graph(network()["loss"]).pipe(format="png")
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 1000


def files_in(folder):
    """{relative path: what it holds ("png", "svg" or the text)} for every file under `folder`."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if data.startswith(PNG_SIGNATURE):
                kind = "png"
            elif data.startswith(b"<?xml"):
                assert ET.fromstring(data).tag == "{http://www.w3.org/2000/svg}svg"
                kind = "svg"
            else:
                kind = data.decode()
            found[path.relative_to(folder).as_posix()] = kind
    return found


def test_render_short_form_writes_just_the_picture(renderer, tmp_path, monkeypatch):
    # API.md's `.render(path)`: a filename ending in .svg or .png, no format, no outfile.
    monkeypatch.chdir(tmp_path)
    drawing = tg.draw_graph(network()["loss"])
    assert drawing.render("graph.svg") == "graph.svg"
    assert drawing.render(tmp_path / "graph.png") == str(tmp_path / "graph.png")
    assert drawing.render("new/graph.SVG") == os.path.join("new", "graph.SVG")
    assert drawing.render("graph.png", directory="d") == os.path.join("d", "graph.png")
    expected = {
        "d/graph.png": "png",
        "graph.png": "png",
        "graph.svg": "svg",
        "new/graph.SVG": "svg",
    }
    assert files_in(tmp_path) == expected


DOT = "the DOT text"  # in RENDER_CALLS: this file holds the drawing's .source

# graphviz.Source.render's calls and results: (args, kwargs, returned path, files written)
RENDER_CALLS = {
    "defaults": (
        (),
        {},
        "GraphDrawing.gv.svg",
        {"GraphDrawing.gv": DOT, "GraphDrawing.gv.svg": "svg"},
    ),
    "name and format": (("g3",), {"format": "png"}, "g3.png", {"g3": DOT, "g3.png": "png"}),
    "filename=": ((), {"filename": "g.gv"}, "g.gv.svg", {"g.gv": DOT, "g.gv.svg": "svg"}),
    "directory=": (("g",), {"directory": "sub"}, "sub/g.svg", {"sub/g": DOT, "sub/g.svg": "svg"}),
    "svg name with format": (
        ("g.svg",),
        {"format": "svg"},
        "g.svg.svg",
        {"g.svg": DOT, "g.svg.svg": "svg"},
    ),
    "outfile=": ((), {"outfile": "pic.png"}, "pic.png", {"pic.gv": DOT, "pic.png": "png"}),
    "outfile and filename": (
        ("src.dot",),
        {"outfile": "pic.svg"},
        "pic.svg",
        {"src.dot": DOT, "pic.svg": "svg"},
    ),
    "cleanup=": (("g",), {"cleanup": True, "format": "png"}, "g.png", {"g.png": "png"}),
}


@pytest.mark.parametrize("call", list(RENDER_CALLS))
def test_render_writes_the_dot_text_and_the_picture_as_graphviz_does(
    renderer, call, tmp_path, monkeypatch
):
    args, kwargs, returned, written = RENDER_CALLS[call]
    monkeypatch.chdir(tmp_path)
    drawing = tg.draw_graph(network()["loss"])
    assert drawing.render(*args, **kwargs) == returned.replace("/", os.sep)
    expected = {path: drawing.source if kind is DOT else kind for path, kind in written.items()}
    assert files_in(tmp_path) == expected


@pytest.mark.parametrize("call", list(RENDER_CALLS))
def test_render_calls_match_graphviz_source(call, tmp_path, monkeypatch):
    # The table above, checked against graphviz.Source itself (which needs the system dot).
    dot = system_dot()
    monkeypatch.setattr(graph, "find_renderer", lambda: dot)
    args, kwargs, _, _ = RENDER_CALLS[call]
    drawing = tg.draw_graph(network()["loss"])
    theirs = graphviz.Source(drawing.source, filename=drawing.filename, format=drawing.format)
    results = []
    for name, source in [("ours", drawing), ("theirs", theirs)]:
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        results.append((source.render(*args, **kwargs), files_in(tmp_path / name)))
    assert results[0] == results[1]


def test_render_refuses_what_graphviz_refuses(renderer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    drawing = tg.draw_graph(network()["loss"])
    with pytest.raises(graphviz.RequiredArgumentError, match="format"):
        drawing.render(outfile="picture")  # no suffix to take the format from
    with pytest.warns(graphviz.FormatSuffixMismatchWarning):
        assert drawing.render(outfile="p.svg", format="png") == "p.svg"
    assert (tmp_path / "p.svg").read_bytes().startswith(PNG_SIGNATURE)
    with pytest.raises(graphviz.FileExistsError):
        drawing.render(outfile="p.svg", raise_if_result_exists=True)
    with pytest.raises(ValueError, match="overwrite_source"):
        drawing.render(outfile="same.gv", filename="same.gv")


def test_view_opens_the_rendered_picture(renderer, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opened = []  # the platform's viewer (graphviz.view: xdg-open, open, start) is not run
    monkeypatch.setattr(graphviz, "view", lambda path, quiet=False: opened.append((path, quiet)))
    loss = network()["loss"]
    assert tg.draw_graph(loss).view() == "GraphDrawing.gv.svg"
    in_d = tg.draw_graph(loss).view("g", directory="d", cleanup=True, quiet=True, quiet_view=True)
    assert in_d == os.path.join("d", "g.svg")
    assert tg.draw_graph(loss).view(filename="graph.png") == "graph.png"
    assert tg.draw_graph(loss).render("r", view=True) == "r.svg"
    assert opened == [
        ("GraphDrawing.gv.svg", False),
        (os.path.join("d", "g.svg"), True),
        ("graph.png", False),
        ("r.svg", False),
    ]
    assert set(files_in(tmp_path)) == {
        "GraphDrawing.gv",
        "GraphDrawing.gv.svg",
        "d/g.svg",
        "graph.png",
        "r",
        "r.svg",
    }


def test_pipe_takes_graphvizs_arguments(renderer):
    drawing = tg.draw_graph(network()["loss"])
    assert drawing.format == "svg" and drawing.engine == "dot"
    svg = drawing.pipe()
    assert ET.fromstring(svg).tag == "{http://www.w3.org/2000/svg}svg"
    assert drawing.pipe("svg") == svg
    assert drawing.pipe(format="svg", quiet=True) == svg
    assert drawing.pipe(encoding="utf-8") == svg.decode("utf-8")
    assert drawing.pipe(format="png").startswith(PNG_SIGNATURE)
    neato = drawing.pipe(engine="neato")  # the engine asked for, whatever the program's name
    assert ET.fromstring(neato).tag == "{http://www.w3.org/2000/svg}svg"
    assert neato != svg
    with pytest.raises(ValueError, match="unknown format"):
        drawing.pipe(format="nope")
    with pytest.raises(ValueError, match="unknown engine"):
        drawing.pipe(engine="nope")
    with pytest.raises(graphviz.RequiredArgumentError):
        drawing.pipe(formatter="cairo")


def test_save_writes_the_dot_text_without_a_renderer(tmp_path, monkeypatch):
    monkeypatch.setattr(graph, "find_renderer", lambda: pytest.fail("looked for a renderer"))
    monkeypatch.chdir(tmp_path)
    drawing = tg.draw_graph(network()["loss"])
    assert drawing.save() == "GraphDrawing.gv"
    assert drawing.save("g.gv", directory="d") == os.path.join("d", "g.gv")
    assert files_in(tmp_path) == {"GraphDrawing.gv": drawing.source, "d/g.gv": drawing.source}


@pytest.mark.parametrize("method", ["render", "view", "pipe", "save", "_repr_mimebundle_"])
def test_methods_take_graphvizs_argument_names_and_defaults(method):
    def parameters(function):
        return [
            (p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()
        ]

    drawing = tg.draw_graph(tg.Tensor([1.0]))
    assert isinstance(drawing, graphviz.Source)
    assert parameters(getattr(type(drawing), method)) == parameters(
        getattr(graphviz.Source, method)
    )


def test_jupyter_display_is_svg(renderer):
    drawing = tg.draw_graph(network()["loss"])
    assert drawing.source.startswith("digraph tinygrad_edu {")
    bundle = drawing._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    ET.fromstring(bundle["image/svg+xml"])
    assert drawing._repr_svg_() == bundle["image/svg+xml"]
    # include= and exclude= as graphviz's
    png = drawing._repr_mimebundle_(include=["image/png"])
    assert list(png) == ["image/png"] and png["image/png"].startswith(PNG_SIGNATURE)
    assert drawing._repr_mimebundle_(include=[]) == {}
    assert drawing._repr_mimebundle_(exclude=["image/svg+xml"]) == {}


@pytest.fixture
def no_renderer(tmp_path, monkeypatch):
    """A machine with no renderer anywhere: nothing on PATH, nothing next to Python."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *args, **kwargs: str(tmp_path))


def test_jupyter_display_without_a_renderer_is_a_message_not_a_traceback(no_renderer):
    drawing = tg.draw_graph(network()["loss"])
    for bundle in [
        drawing._repr_mimebundle_(),
        drawing._repr_mimebundle_(include=["image/png", "image/svg+xml"]),
    ]:
        assert set(bundle) == {"text/plain", "text/html"}
        plain = bundle["text/plain"]
        assert plain.startswith("This graph cannot be drawn here: drawing needs a Graphviz")
        assert "tinygrad_edu[viz]" in plain and "apt-get install graphviz" in plain
        assert plain.endswith("\n\n" + drawing.source)  # the DOT text, to paste anywhere
        assert "Traceback" not in plain
        page = bundle["text/html"]
        assert "tinygrad_edu[viz]" in page
        assert f"<pre>{html.escape(drawing.source)}</pre>" in page
    assert drawing._repr_svg_() is None  # "nothing to show", not an exception


def test_jupyter_display_of_a_failing_renderer_is_a_message(tmp_path, monkeypatch):
    failing = tmp_path / "broken-renderer"
    failing.write_text("#!/bin/sh\necho 'Error: out of memory' >&2\nexit 3\n")
    failing.chmod(0o755)
    monkeypatch.setattr(graph, "find_renderer", lambda: str(failing))
    drawing = tg.draw_graph(network()["loss"])
    bundle = drawing._repr_mimebundle_()
    assert bundle["text/plain"].startswith("This graph cannot be drawn here: broken-renderer")
    assert "out of memory" in bundle["text/plain"]
    assert drawing._repr_svg_() is None


def test_render_dot_runs_the_program_it_is_given(renderer, monkeypatch):
    # The renderer is chosen by its path, not by which one find_renderer() would find.
    monkeypatch.setattr(graph, "find_renderer", lambda: pytest.fail("looked for a renderer"))
    svg = graph.render_dot(tg.to_dot(network()["loss"]), "svg", program=renderer)
    header = svg.split(b"-->")[0]  # "Generated by graphviz version ... (graphviz-pure)"
    assert (b"(graphviz-pure)" in header) == (renderer == graphviz_pure())


@pytest.mark.parametrize("name", ["graphviz-pure", "neato", "renderer"])
def test_picture_does_not_depend_on_the_renderers_file_name(renderer, name, tmp_path, monkeypatch):
    # Graphviz picks its layout engine from the name it was started under unless -K says
    # which: a system `dot` linked as `graphviz-pure` found no engine of that name, and any
    # renderer linked as `neato` laid the graph out as neato.  The name is what is tested
    # here, so the link is the point; the renderer itself is the fixture's.
    drawing = tg.draw_graph(network()["loss"])
    expected = drawing.pipe("svg")
    link = tmp_path / name
    os.symlink(renderer, link)
    monkeypatch.setattr(graph, "find_renderer", lambda: str(link))
    assert drawing.pipe("svg") == expected


def test_pip_only_renderer_next_to_python_is_found(tmp_path, monkeypatch):
    # A venv with graphviz-pure but no system Graphviz and nothing on PATH: the renderer
    # sits next to sys.executable (the venv's bin/), and drawing works.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(graphviz_pure(), bin_dir / "graphviz-pure")
    monkeypatch.setattr(shutil, "which", lambda name, *args, **kwargs: None)
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setattr(sysconfig, "get_path", lambda name, *args, **kwargs: None)
    assert graph.find_renderer() == str(bin_dir / "graphviz-pure")
    assert tg.draw_graph(network()["loss"]).pipe("png").startswith(PNG_SIGNATURE)


def test_system_dot_is_preferred_where_installed():
    assert graph.find_renderer() == system_dot()


def test_missing_renderer_is_a_clear_error(no_renderer, tmp_path):
    loss = network()["loss"]
    with pytest.raises(tg.RendererNotFoundError, match=re.escape("tinygrad_edu[viz]")):
        graph.find_renderer()
    drawing = tg.draw_graph(loss)  # making the drawing needs no renderer...
    assert drawing.source.startswith("digraph")
    with pytest.raises(tg.RendererNotFoundError, match="graphviz-pure"):
        drawing.render(tmp_path / "graph.svg")  # ...rendering it does
    assert not (tmp_path / "graph.svg").exists()
    with pytest.raises(tg.RendererNotFoundError, match="to_dot"):
        drawing.pipe()
    assert "Tanh" in tg.to_dot(loss)  # the DOT text still works


# ---- big graphs ------------------------------------------------------------------------


def test_long_chain_draws_without_recursion_and_is_summarised():
    x = tg.Tensor([1.0], requires_grad=True, name="start")
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    dot = tg.to_dot(y)  # a recursive walk would hit the recursion limit (1,000)
    nodes, edges = parse_dot(dot)
    ops = [key for key in nodes if key.startswith("op")]
    assert len(ops) == graph.MAX_OPS
    assert nodes["more"]["text"] == f"... {10_000 - graph.MAX_OPS} more ops not drawn"
    assert len(nodes) <= 2 * graph.MAX_OPS + 3  # the constant 1.0001: one box for all
    assert f"op{y.grad_fn.seq}" in nodes  # the ops next to the output are the ones drawn
    assert box(x) not in nodes
    for source, target in edges:
        assert source in nodes and target in nodes


def test_truncated_drawing_keeps_the_ops_nearest_the_output():
    a = tg.Tensor([1.0], requires_grad=True, name="a")
    b = tg.Tensor([2.0], requires_grad=True, name="b")
    chain = a
    for _ in range(50):
        chain = chain * 1.0001
    out = chain + b.exp()  # Exp is one step from the output
    nodes, _ = parse_dot(tg.to_dot(out, max_ops=10))
    assert f"op{out.grad_fn.next_functions[1][0].seq}" in nodes


# ---- trace_backward ----------------------------------------------------------------


def test_trace_order_is_the_engines_order(device):
    net = network(device)
    loss = net["loss"]
    _, ops = walk(loss)
    order = autograd.topological_order(loss.grad_fn)
    expected = [n for n in order if isinstance(n, tg.Function)]
    fired = []  # hooks run when a value's gradient is complete, just before its op's backward
    tensors = [net["loss"], net["y_pred"], net["hidden"]]  # the op outputs still alive
    for t in tensors:
        t.register_hook(lambda grad, t=t: fired.append(t.grad_fn))
    with tg.trace_backward() as steps:
        loss.backward()
    assert [step.number for step in steps] == list(range(1, len(ops) + 1))
    assert [step.node for step in steps if step.node in fired] == fired
    assert [step.node for step in steps] == expected
    assert [step.op for step in steps] == [n.name for n in expected]
    backward_order = ["Sum", "Pow", "Sub", "Add", "MatMul", "Tanh", "Add", "Mul"]
    assert [step.op for step in steps] == backward_order


def _numpy_gradients(net):
    """dL/d(every tensor) of the network, by hand in NumPy (the chain rule, written out)."""
    x, y = net["x"].numpy(), net["y"].numpy()
    w0, b0, w1, b1 = (net[name].numpy() for name in PARAMETERS)
    z = w0 * x + b0
    h = np.tanh(z)
    y_pred = w1 @ h + b1
    error = y - y_pred
    grads = {"loss": np.array(1.0), "square": np.ones_like(error), "error": 2 * error}
    grads["y_pred"] = -grads["error"]
    grads["b1"] = grads["y_pred"].sum(axis=1, keepdims=True)
    grads["w1"] = grads["y_pred"] @ h.T
    grads["hidden"] = w1.T @ grads["y_pred"]
    grads["z"] = grads["hidden"] * (1 - h * h)
    grads["b0"] = grads["z"].sum(axis=1, keepdims=True)
    grads["w0x"] = grads["z"]
    grads["w0"] = (grads["z"] * x).sum(axis=1, keepdims=True)
    return grads


def test_trace_records_shapes_and_true_gradient_norms(device):
    net = network(device)
    loss = net["loss"]
    _, ops = walk(loss)
    received = {}  # node -> the gradient its output received, seen by a hook on the node

    def seen_by(node):
        def hook(grad):
            received[node] = grad.numpy()  # returns None: the gradient goes on unchanged

        return hook

    for node in ops:
        node.hooks = [seen_by(node)]
    with tg.trace_backward() as steps:
        loss.backward()
    assert len(steps) == 8
    constants = {"Sub": ["const", (1, 4)], "Pow": [(1, 4), ()], "Mul": [(3, 1), (1, 4)]}
    for step in steps:
        node = step.node
        assert step.out_shape == node.shape
        inputs = [next_node for next_node, _ in node.next_functions]
        shapes = [x.shape if x is not None else None for x in inputs]
        assert step.in_shapes == constants.get(step.op, shapes), step.op
        true = received[node]
        norm, low, high, bad = step.grad_out
        assert norm == pytest.approx(np.linalg.norm(true), rel=1e-9)
        assert (low, high, bad) == pytest.approx((true.min(), true.max(), False))
        assert len(step.grads_in) == len(inputs)
        for x, stats in zip(inputs, step.grads_in):
            if x is None:
                assert stats is None
            elif isinstance(x, AccumulateGrad):
                leaf_grad = x.variable.grad.numpy()
                assert stats[0] == pytest.approx(np.linalg.norm(leaf_grad), rel=1e-9)
            else:
                assert stats[0] == pytest.approx(np.linalg.norm(received[x]), rel=1e-9)
    # and the engine's gradients are the true ones (the chain rule by hand, in NumPy)
    by_hand = _numpy_gradients(net)
    by_op = {step.op + str(step.out_shape): step for step in steps}
    assert by_op["Tanh(3, 4)"].grad_out[0] == pytest.approx(np.linalg.norm(by_hand["hidden"]))
    assert by_op["Tanh(3, 4)"].grads_in[0][0] == pytest.approx(np.linalg.norm(by_hand["z"]))
    matmul = by_op["MatMul(1, 4)"]  # w1 @ hidden
    assert matmul.grads_in[0][0] == pytest.approx(np.linalg.norm(by_hand["w1"]))
    assert matmul.grads_in[1][0] == pytest.approx(np.linalg.norm(by_hand["hidden"]))
    assert by_op["Sub(1, 4)"].grads_in[1][0] == pytest.approx(np.linalg.norm(by_hand["error"]))
    for name in PARAMETERS:
        np.testing.assert_allclose(net[name].grad.numpy(), by_hand[name], rtol=1e-10)


def test_trace_names_leaves_in_the_step_that_fed_them(device):
    net = network(device)
    with tg.trace_backward() as steps:
        net["loss"].backward()
    fed = {step.number: [name for name, _, _ in step.leaves] for step in steps if step.leaves}
    ops = {number: steps[number - 1].op for number in fed}
    assert fed == {4: ["b1"], 5: ["w1"], 7: ["b0"], 8: ["w0"]}
    assert ops == {4: "Add", 5: "MatMul", 7: "Add", 8: "Mul"}
    for step in steps:
        for name, shape, stats in step.leaves:
            assert shape == net[name].shape
            assert stats[0] == pytest.approx(np.linalg.norm(net[name].grad.numpy()))
            assert stats[3] is False


def test_trace_flags_nan():
    w = tg.Tensor([0.0, 1.0], requires_grad=True, name="w")
    with np.errstate(all="ignore"):  # NumPy's warnings about log(0) and 0/0
        loss = (w * 1.0).log().exp().sum()  # exp(log(0)) = 0 is fine; its gradient 0/0 is not
        with tg.trace_backward() as steps:
            loss.backward()
    assert [step.op for step in steps] == ["Sum", "Exp", "Log", "Mul"]
    assert not any(step.grad_out[3] for step in steps[:3])
    assert steps[2].grads_in[0][3] is True  # Log's backward made the NaN...
    assert steps[3].grad_out[3] is True  # ...and Mul received it
    assert steps[3].leaves[0][0] == "w" and steps[3].leaves[0][2][3] is True
    table = str(steps).splitlines()
    assert "NaN/inf" in table[3] and "nan" in table[3]  # flagged first on Log, which made it
    assert all("NaN/inf" not in line for line in table[:3])
    assert "NaN/inf" in table[4] and "w!" in table[4]  # Mul passes it on to w


def test_printed_trace_is_a_table_with_a_line_per_step(device):
    net = network(device)
    with tg.trace_backward() as steps:
        net["loss"].backward()
    lines = str(steps).splitlines()
    assert len(lines) == 1 + len(steps)
    assert lines[0].split()[:2] == ["#", "op"]
    for line, step in zip(lines[1:], steps):
        assert line.split()[:2] == [str(step.number), step.op]
        assert str(step.out_shape) in line
        assert f"{step.grad_out[0]:.3g}" in line
    assert lines[8].rstrip().endswith("w0")


def test_trace_outside_the_block_records_nothing():
    net = network()
    with tg.trace_backward() as steps:
        pass
    net["loss"].backward()
    assert len(steps) == 0 and autograd.STATE.tracer is None


@pytest.mark.parametrize("retain", [False, True], ids=["plain-backward", "retain-graph"])
def test_draw_graph_numbers_ops_in_backward_order(device, retain):
    net = network(device)
    with tg.trace_backward() as steps:
        net["loss"].backward(retain_graph=retain)  # plain: the graph can still be drawn
    order = autograd.topological_order(net["loss"].grad_fn)
    assert [step.node for step in steps] == [n for n in order if isinstance(n, tg.Function)]
    nodes, _ = parse_dot(tg.draw_graph(net["loss"], steps=steps).source)
    for step in steps:
        label = nodes[f"op{step.node.seq}"]["label"]
        assert label.split("\n")[0] == f"{step.number}. {step.op}"
    numbers = [n["label"].split(".")[0] for key, n in nodes.items() if key.startswith("op")]
    assert sorted(int(n) for n in numbers) == list(range(1, 9))
    # intermediate gradients come from the trace
    assert f"grad |g|={steps[5].grad_out[0]:.3g}" in node_of(nodes, net["hidden"])["text"]


def test_color_by_grad_separates_small_and_large_gradients(device):
    small = tg.Tensor([1.0], requires_grad=True, name="small", device=device)
    large = tg.Tensor([1.0], requires_grad=True, name="large", device=device)
    loss = (small * 1e-6 + large * 1e6).sum()
    loss.backward()
    nodes, _ = parse_dot(tg.to_dot(loss, color_by_grad=True))
    pale = node_of(nodes, small)["fillcolor"]
    dark = node_of(nodes, large)["fillcolor"]
    assert pale != dark
    # white to red: the larger gradient has less green and blue
    assert int(dark[3:5], 16) < int(pale[3:5], 16) - 100
    plain, _ = parse_dot(tg.to_dot(loss))
    assert node_of(plain, small)["fillcolor"] == node_of(plain, large)["fillcolor"]


# ---- examples/visualize_graph.py -------------------------------------------------------


def test_visualize_graph_example_writes_svg(renderer, tmp_path, capsys):
    example = load_example("visualize_graph")
    steps = example.main(path=tmp_path / "g.svg")
    root = ET.parse(tmp_path / "g.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = "\n".join(root.itertext())
    # drawn after a plain backward: every op, numbered, and the freed values marked
    freed = ["value freed", "saved values", "freed by backward"]
    for label in ["1. Sum", "6. Tanh", "8. Mul", "w0", "b1", "grad"] + freed:
        assert label in text, label
    assert [step.op for step in steps][:3] == ["Sum", "Pow", "Sub"]
    assert "wrote" in capsys.readouterr().out


def test_visualize_graph_example_writes_into_out_not_into_tracked_files(
    renderer, tmp_path, monkeypatch
):
    # It used to rewrite docs/graph_131.svg (the README's picture) on every run, tests
    # included, leaving the working tree dirty; redrawing that picture is now `--out`.
    readme_picture = EXAMPLES.parent / "docs" / "graph_131.svg"
    before = readme_picture.read_bytes()
    monkeypatch.chdir(tmp_path)
    load_example("visualize_graph").main()
    assert files_in(tmp_path) == {"out/graph_131.svg": "svg"}
    assert readme_picture.read_bytes() == before


def test_a_root_that_needs_no_gradient_is_drawn_as_a_box():
    c = tg.Tensor([1.0, 2.0], name="c")  # no graph behind it at all
    nodes, edges = parse_dot(tg.to_dot(c))
    assert list(nodes) == ["r0"] and edges == []
    assert nodes["r0"]["text"].split("\n")[:2] == ["c", "(2,)"]
    w = tg.Tensor([1.0], requires_grad=True, name="w")
    nodes, _ = parse_dot(tg.to_dot([w * 2.0, c]))
    assert "r0" in nodes and any(key.startswith("op") for key in nodes)


# ---- module boxes (clusters), folded repeats, layouts that fit ---------------------------


def parse_clusters(text):
    """{cluster id: {"label", "parent" (a cluster id or None), "members" (the node names
    declared directly inside it)}} of to_dot's output, read by the nesting of its braces."""
    clusters, stack = {}, []
    for line in text.splitlines():
        stripped = line.strip()
        opening = re.match(r"subgraph (cluster_\w+) \{$", stripped)
        if opening:
            name = opening.group(1)
            parent = stack[-1] if stack else None
            clusters[name] = {"label": None, "parent": parent, "members": set()}
            stack.append(name)
        elif stripped == "}" and stack:
            stack.pop()
        elif stripped.startswith("label=") and stack:
            clusters[stack[-1]]["label"] = _parse_attributes(stripped.split(";")[0])["label"]
        elif stack and NODE_LINE.match(line) and " -> " not in line:
            clusters[stack[-1]]["members"].add(NODE_LINE.match(line).group(1))
    assert not stack, "unbalanced braces"
    return clusters


def cluster_named(clusters, label):
    (name,) = [name for name, c in clusters.items() if c["label"] == label]
    return name


def op_classes(nodes, members):
    """The op classes (from the ellipses' labels) of the op nodes in `members`."""
    return sorted(nodes[m]["text"].split("\n")[0].split(". ")[-1] for m in members if m[:2] == "op")


class TwoLayerNet(tg.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = tg.nn.Sequential(tg.nn.Linear(3, 4), tg.nn.ReLU(), tg.nn.Linear(4, 2))
        self.out = tg.nn.Linear(2, 1)

    def forward(self, x):
        return self.out(self.fc(x))


def linear_op_classes():
    """The op classes one nn.functional.linear call records, from a graph of its own."""
    w = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.Tensor(np.ones(2), requires_grad=True)
    _, ops = walk(tg.nn.functional.linear(tg.Tensor(np.ones((5, 3))), w, b))
    return sorted(type(op).__name__ for op in ops)


@pytest.mark.parametrize("named", [True, False])
def test_module_calls_are_nested_clusters_with_their_ops_and_parameters(named):
    net = TwoLayerNet()
    loss = net(tg.Tensor(np.ones((5, 3)))).sum()
    text = tg.to_dot(loss, model=net if named else None)
    nodes, _ = parse_dot(text)
    clusters = parse_clusters(text)
    if named:  # the qualified names of named_modules(), and the class
        labels = ["TwoLayerNet", "fc: Sequential", "fc.0: Linear", "fc.1: ReLU"]
        labels += ["fc.2: Linear", "out: Linear"]
    else:
        labels = ["TwoLayerNet", "Sequential", "Linear", "ReLU", "Linear", "Linear"]
    assert sorted(c["label"] for c in clusters.values()) == sorted(labels)
    if not named:
        return
    ids = {label: cluster_named(clusters, label) for label in labels}
    parents = {label: clusters[ids[label]]["parent"] for label in labels}
    assert parents["TwoLayerNet"] is None
    assert parents["fc: Sequential"] == parents["out: Linear"] == ids["TwoLayerNet"]
    for label in ["fc.0: Linear", "fc.1: ReLU", "fc.2: Linear"]:
        assert parents[label] == ids["fc: Sequential"]
    # each Linear holds the ops of one linear() call and its own parameters; ReLU one Relu
    for label, layer in [("fc.0: Linear", net.fc[0]), ("fc.2: Linear", net.fc[2])]:
        members = clusters[ids[label]]["members"]
        assert op_classes(nodes, members) == linear_op_classes()
        assert {box(layer.weight), box(layer.bias)} <= members
        assert {m for m in members if m.startswith("leaf")} == {box(layer.weight), box(layer.bias)}
    assert op_classes(nodes, clusters[ids["fc.1: ReLU"]]["members"]) == ["Relu"]
    assert box(net.out.weight) in clusters[ids["out: Linear"]]["members"]
    # Sequential and the model made no op themselves; the loss's Sum is outside every box
    assert op_classes(nodes, clusters[ids["fc: Sequential"]]["members"]) == []
    (total,) = [key for key, n in nodes.items() if n["text"].split("\n")[0] == "Sum"]
    assert all(total not in c["members"] for c in clusters.values())
    # every op drawn is in exactly one box or at the top level
    in_boxes = [m for c in clusters.values() for m in c["members"]]
    assert len(in_boxes) == len(set(in_boxes))


def test_graph_without_modules_has_no_clusters():
    net = network()
    assert "subgraph" not in tg.to_dot(net["loss"])


def lstm_loss(steps=6, layers=1):
    """An LSTM reading `steps` time steps of a batch of 2, and a loss on its output."""
    tg.manual_seed(0)
    lstm = tg.nn.LSTM(3, 4, num_layers=layers)
    x = tg.Tensor(np.random.default_rng(0).normal(size=(steps, 2, 3)))
    output, _ = lstm(x)
    return (output**2).sum(), lstm


def test_lstm_middle_time_steps_fold_into_one_note():
    loss, lstm = lstm_loss(steps=6)
    full = tg.to_dot(loss, model=lstm, collapse=False)
    full_nodes, _ = parse_dot(full)
    full_clusters = parse_clusters(full)
    step_labels = [f"time step {t}" for t in range(6)]
    for label in step_labels:  # collapse=False: every step is drawn, each in its own box
        assert clusters_parent_label(full_clusters, label) == "LSTM"
    per_step = [
        op_classes(full_nodes, full_clusters[cluster_named(full_clusters, label)]["members"])
        for label in step_labels
    ]
    assert all(classes == per_step[0] for classes in per_step)
    assert "Sigmoid" in per_step[0] and "fold" not in full
    k = len(per_step[0])

    text = tg.to_dot(loss, model=lstm)  # collapse=True is the default
    nodes, edges = parse_dot(text)
    clusters = parse_clusters(text)
    labels = {c["label"] for c in clusters.values()}
    assert labels == {"LSTM", "time step 0", "time step 5"}
    (note,) = [key for key in nodes if key.startswith("fold")]
    assert nodes[note]["label"] == f"... 4 more time steps ({k} ops each)"
    assert note in clusters[cluster_named(clusters, "LSTM")]["members"]
    full_ops = [key for key in full_nodes if key.startswith("op")]
    ops = [key for key in nodes if key.startswith("op")]
    assert len(ops) == len(full_ops) - 4 * k
    # the steps before and after the note connect to it: step 0's state goes in, step 5 reads it
    first = clusters[cluster_named(clusters, "time step 0")]["members"]
    last = clusters[cluster_named(clusters, "time step 5")]["members"]
    assert any(tail in first for tail, head in edges if head == note)
    assert any(head in last for tail, head in edges if tail == note)
    # the LSTM's parameters sit in its box, not in a step's
    for param in lstm.parameters():
        assert box(param) in clusters[cluster_named(clusters, "LSTM")]["members"]
    # nothing is drawn twice and no edge points at a box that is not drawn
    assert all(tail in nodes and head in nodes for tail, head in edges)


def clusters_parent_label(clusters, label):
    parent = clusters[cluster_named(clusters, label)]["parent"]
    return clusters[parent]["label"] if parent else None


def test_two_layer_lstm_steps_fold_per_layer():
    loss, lstm = lstm_loss(steps=4, layers=2)
    text = tg.to_dot(loss, model=lstm)
    labels = {c["label"] for c in parse_clusters(text).values()}
    expected = {"LSTM"} | {f"layer {i}, time step {t}" for i in (0, 1) for t in (0, 3)}
    assert labels == expected
    assert text.count("... 2 more time steps") == 2


def test_a_module_called_in_a_loop_folds():
    tg.manual_seed(0)
    block = tg.nn.Sequential(tg.nn.Linear(3, 3), tg.nn.Tanh())
    h = tg.Tensor(np.ones((2, 3)))
    for _ in range(5):
        h = block(h)
    loss = h.sum()
    full = tg.to_dot(loss, model=block, collapse=False)
    assert [c["label"] for c in parse_clusters(full).values()].count("Sequential") == 5
    text = tg.to_dot(loss, model=block)
    nodes, _ = parse_dot(text)
    clusters = parse_clusters(text)
    assert [c["label"] for c in clusters.values()].count("Sequential") == 2
    k = len(linear_op_classes()) + 1  # one linear call and one Tanh per call
    (note,) = [key for key in nodes if key.startswith("fold")]
    assert nodes[note]["label"] == f"... 3 more calls of Sequential ({k} ops each)"
    # the parameters are drawn once, in the first call's Linear box
    first_linear = [name for name, c in clusters.items() if c["label"] == "0: Linear"][0]
    assert box(block[0].weight) in clusters[first_linear]["members"]
    assert sum(key.startswith("leaf") for key in nodes) == 2


def test_calls_with_different_ops_do_not_fold():
    tg.manual_seed(0)
    layer = tg.nn.Linear(3, 3)
    h = tg.Tensor(np.ones((2, 3)))
    for _ in range(4):
        h = layer(h)
        h = h.tanh()  # an op between the calls, outside them: not a repeat of calls alone
    text = tg.to_dot(h.sum(), model=layer)
    assert "fold" not in text
    assert [c["label"] for c in parse_clusters(text).values()].count("Linear") == 4


def rankdir_of(text):
    (line,) = [line for line in text.splitlines() if line.strip().startswith("rankdir=")]
    return line.strip()[len("rankdir=") : -1]


def test_auto_rankdir_is_top_to_bottom_for_deep_graphs_and_left_to_right_for_wide_ones():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    deep = x
    for _ in range(10):
        deep = deep.tanh()
    assert rankdir_of(tg.to_dot(deep, rankdir="auto")) == "TB"
    leaves = [tg.Tensor([float(i)], requires_grad=True) for i in range(12)]
    wide = tg.stack([leaf.exp() for leaf in leaves])  # 12 side by side, 5 levels deep
    assert rankdir_of(tg.to_dot(wide, rankdir="auto")) == "LR"
    assert rankdir_of(tg.to_dot(deep)) == "LR"  # the default stays left to right
    assert rankdir_of(tg.to_dot(wide, rankdir="TB")) == "TB"
    assert tg.draw_graph(deep, rankdir="auto").source == tg.to_dot(deep, rankdir="auto")


def svg_width(svg):
    """The width of an SVG picture in pt, from its root element."""
    width = ET.fromstring(svg).get("width")
    assert width.endswith("pt"), width
    return float(width[:-2])


def test_demo_graph_is_boxed_by_layer_fits_a_notebook_and_renders(monkeypatch):
    monkeypatch.setattr(graph, "find_renderer", graphviz_pure)
    example = load_example("visualize_graph")
    demo = load_example("demo")
    seed_network = load_example("seed_network")
    inputs, targets = seed_network.make_data(seed=0)
    weights, biases = seed_network.init_parameters()
    x, z = tg.Tensor(inputs), tg.Tensor(targets)
    loss, model = demo.graph_of_one_step(weights, biases, x, z)
    functional = 0.5 * ((seed_network.forward(weights, biases, x[:4]) - z[:4]) ** 2).mean()
    assert loss.item() == pytest.approx(functional.item(), rel=1e-12)  # the same network
    for linear, w, b in zip(model[::2], weights, biases):
        np.testing.assert_array_equal(linear.weight.numpy(), w.numpy().T)
        np.testing.assert_array_equal(linear.bias.numpy(), b.numpy().reshape(-1))
    drawing = example.demo_drawing()
    labels = [c["label"] for c in parse_clusters(drawing.source).values()]
    assert labels == ["Sequential", "0: Linear", "1: ReLU", "2: Linear", "3: ReLU"] + [
        "4: Linear",
        "5: ReLU",
        "6: Linear",
    ]
    assert rankdir_of(drawing.source) == "TB"
    assert svg_width(drawing.pipe()) <= 750


def test_lstm_graph_is_boxed_folded_fits_a_notebook_and_renders(monkeypatch):
    monkeypatch.setattr(graph, "find_renderer", graphviz_pure)
    example = load_example("visualize_graph")
    char_rnn = load_example("char_rnn")
    drawing = example.lstm_drawing()
    clusters = parse_clusters(drawing.source)
    labels = {c["label"] for c in clusters.values()}
    last = char_rnn.SEQ_LEN - 1
    assert labels == {
        "CharLSTM",
        "embedding: Embedding",
        "lstm: LSTM",
        "time step 0",
        f"time step {last}",
        "head: Linear",
    }
    assert f"... {last - 1} more time steps" in drawing.source
    assert svg_width(drawing.pipe()) <= 750


def test_visualize_graph_writes_the_demo_and_lstm_drawings_into_out(tmp_path):
    script = EXAMPLES / "visualize_graph.py"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env["PATH"] = os.path.dirname(graphviz_pure()) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        [sys.executable, str(script), "--demo", "--lstm"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert files_in(tmp_path) == {
        "out/graph_131.svg": "svg",
        "out/graph_demo.svg": "svg",
        "out/graph_lstm.svg": "svg",
    }


def test_small_intermediate_gradients_are_shown_as_numbers(device):
    x = tg.Tensor([0.5, -1.0], requires_grad=True, device=device)
    w = tg.Tensor([2.0, 0.25], requires_grad=True, device=device)
    z = x * w
    y = z.tanh()
    tripled = tg.Tensor(np.ones((3, 4)), requires_grad=True, device=device) * 3.0
    loss = (y * y).sum() + tripled.sum()
    with tg.trace_backward() as steps:
        loss.backward()
    nodes, _ = parse_dot(tg.to_dot(loss, steps=steps))
    z_values = np.array([0.5 * 2.0, -1.0 * 0.25])
    y_values = np.tanh(z_values)
    grad_y = 2 * y_values  # d(sum y^2)/dy
    grad_z = grad_y * (1 - y_values**2)  # through tanh
    assert numbers(node_of(nodes, y)["text"], "grad") == pytest.approx(grad_y, abs=1e-3)
    assert numbers(node_of(nodes, z)["text"], "grad") == pytest.approx(grad_z, abs=1e-3)
    (step,) = [s for s in steps if s.node is y.grad_fn]
    np.testing.assert_allclose(step.grad_values, grad_y, rtol=1e-6)
    assert isinstance(step.grad_values, np.ndarray)  # a host copy, whatever the device
    (large,) = [s for s in steps if s.op == "Mul" and s.out_shape == (3, 4)]
    assert large.grad_values is None  # more than 8 elements: only the norm is kept
    assert "grad |g|=" in node_of(nodes, tripled)["text"]  # 12 elements: the norm


def test_a_numpy_scalar_gradient_is_kept_as_a_small_array():
    # Some ops hand on NumPy scalars (0-d results) rather than arrays: kept all the same.
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    node = x.sum().grad_fn
    step = graph.BackwardStep(1, node, np.float32(1.5), (np.ones(2),))
    assert isinstance(step.grad_values, np.ndarray) and step.grad_values.tolist() == 1.5
