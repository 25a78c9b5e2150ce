"""In a real Jupyter kernel, everything optviz draws displays as a picture (no %matplotlib inline)."""

import base64
import io

import nbformat
import pytest
from groups import NOTEBOOK
from nbclient import NotebookClient
from PIL import Image

pytestmark = NOTEBOOK  # one kernel runs every cell for the module

CELLS = {
    "result": 'result = optviz.simulate("rosenbrock", {"sgd": optviz.sgd(lr=1e-3), "adam": optviz.adam(lr=0.05)}, steps=60)\nresult',
    "plot": "optviz.plot(result)",
    "grid": "render.grid(result)",
    "loss": 'render.plot(result, "loss")',
    "surface": 'render.plot(result, "surface")',
    "animate": 'optviz.animate(result, "paths.gif", max_frames=12)',
    "own figure": "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax",  # not optviz's: left alone
    "page": "render.html(result)",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    cells = [nbformat.v4.new_code_cell("import optviz\nfrom optviz import render")]
    cells += [nbformat.v4.new_code_cell(source) for source in CELLS.values()]
    notebook = nbformat.v4.new_notebook(cells=cells)
    folder = tmp_path_factory.mktemp("notebook")
    NotebookClient(notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return {name: cell.outputs for name, cell in zip(CELLS, notebook.cells[1:])}


def picture(cell_outputs):
    """The image/png of a cell's result, decoded."""
    results = [o for o in cell_outputs if o.output_type == "execute_result"]
    assert len(results) == 1, cell_outputs
    assert "image/png" in results[0].data, sorted(results[0].data)
    return Image.open(io.BytesIO(base64.b64decode(results[0].data["image/png"])))


@pytest.mark.parametrize("name", ["result", "plot", "grid", "loss", "surface", "animate"])
def test_displays_as_a_picture(outputs, name):
    image = picture(outputs[name])
    assert image.size == (1920, 1080) if name != "animate" else image.size[0] >= 640
    assert len(image.convert("RGB").getcolors(1 << 16) or range(1 << 16)) > 50  # a drawing, not a blank


def test_the_animation_also_plays_where_html_is_shown(outputs):
    data = next(o for o in outputs["animate"] if o.output_type == "execute_result").data
    assert data["text/html"].startswith('<img src="data:image/gif;base64,')


def test_other_figures_keep_ipythons_display(outputs):
    data = next(o for o in outputs["own figure"] if o.output_type == "execute_result").data
    assert "image/png" not in data and data["text/plain"].startswith("<Axes")


def test_the_interactive_page_shows_in_a_frame_of_its_own(outputs):
    data = next(o for o in outputs["page"] if o.output_type == "execute_result").data
    assert data["text/html"].startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert "optviz-data" in data["text/html"] and "<script" not in data["text/html"]  # all of it inside the frame
