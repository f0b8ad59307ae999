"""In a real Jupyter kernel: the walkthrough and draw_graph show up as HTML and SVG.

A small notebook is executed cell by cell by nbclient in an IPython kernel (the one this
environment's ipykernel provides), as Jupyter would run it, and its outputs are read back.
"""

import numpy
import pytest

import tinygrad_edu as tg

nbformat = pytest.importorskip("nbformat", reason="pip install -e '.[dev]' (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="pip install -e '.[dev]' (nbclient)")
pytest.importorskip("ipykernel", reason="pip install -e '.[dev]' (ipykernel)")

try:
    tg.graph.find_renderer()
    RENDERER = None
except tg.RendererNotFoundError as error:
    RENDERER = str(error)

CELLS = [
    "import tinygrad_edu as tg\n"
    "w = tg.Tensor([[0.5, -1.0, 2.0]], requires_grad=True, name='w')\n"
    "x = tg.Tensor([[1.0], [2.0], [-0.5]], name='x')\n"
    "loss = (w @ x).tanh().sum()\n"
    "loss.name = 'loss'",
    "tg.walkthrough(loss)",
    "tg.draw_graph(loss)",
    "print(w.grad.numpy().tolist())",
]


@pytest.mark.skipif(RENDERER is not None, reason=str(RENDERER))
def test_walkthrough_and_drawing_show_in_a_notebook(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [cell.outputs for cell in notebook.cells]
    walkthrough = [o for o in outputs[1] if o.output_type == "execute_result"]
    assert len(walkthrough) == 1
    page = walkthrough[0].data["text/html"]
    assert 'class="tg-walkthrough"' in page and "<svg" in page and "tgWalkthrough(" in page
    drawing = [o for o in outputs[2] if o.output_type == "execute_result"]
    assert len(drawing) == 1
    svg = drawing[0].data["image/svg+xml"]
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg
    assert "Tanh" in svg and "MatMul" in svg
    printed = "".join(o.get("text", "") for o in outputs[3])
    # the walkthrough ran backward in the kernel: w.grad = (1 - tanh(w @ x)**2) * x^T
    z = 0.5 * 1.0 - 1.0 * 2.0 + 2.0 * -0.5
    expected = (1 - numpy.tanh(z) ** 2) * numpy.array([[1.0, 2.0, -0.5]])
    numpy.testing.assert_allclose(eval(printed), expected, rtol=1e-5)  # float32, the default dtype
