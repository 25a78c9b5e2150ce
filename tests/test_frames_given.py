"""The frame a picture shows, as asked for: --bounds frame a built-in function's picture as a
formula's, a start outside the function's bounds widens the frame to take it in, and a
scenario's bounds frame its picture, for a formula as for a built-in. Read back from the
figure that was written."""

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from optviz.documents import gallery, outputs
from optviz.render import canvas, gif
from optviz.documents.scenario import load
from optviz.interface.cli import main
from optviz.render.frames import MARGIN
from test_scenario import GOOD, write


@pytest.fixture
def drawn(monkeypatch):
    """Every picture the command line or a scenario draws, kept to be read back."""
    figures = []

    def keeping(picture):
        def draw(*args, **kwargs):
            figures.append(picture(*args, **kwargs))
            return figures[-1]
        return draw

    monkeypatch.setattr(outputs, "picture", keeping(outputs.picture))
    monkeypatch.setattr(gallery, "picture", keeping(gallery.picture))
    return figures


def limits(fig):
    ax = fig.axes[0]
    return (*ax.get_xlim(), *ax.get_ylim())


def compare(tmp_path, *args):
    png = tmp_path / "c.png"
    out = CliRunner().invoke(main, ["compare", *args, "--steps", "30", "--png", str(png), "--quiet"])
    assert out.exit_code == 0, out.output
    assert Image.open(png).size == (1920, 1080)
    return png


def test_bounds_frame_a_built_in_function_s_picture(tmp_path, drawn):
    compare(tmp_path, "rosenbrock", "adam:lr=0.05", "--bounds", "-3,6,-2,7")
    assert limits(drawn[0]) == (-3.0, 6.0, -2.0, 7.0)


def test_bounds_frame_a_formula_s_picture_as_before(tmp_path, drawn):
    compare(tmp_path, "x**2 + 3*y**2", "sgd:lr=0.1", "--bounds", "-1,4,-2,2")
    assert limits(drawn[0]) == (-1.0, 4.0, -2.0, 2.0)


def test_a_start_outside_the_bounds_widens_the_frame_to_take_it_in(tmp_path, drawn):
    compare(tmp_path, "rosenbrock", "adam:lr=0.05", "--start", "5,5")
    x0, x1, y0, y1 = limits(drawn[0])
    # the start with a margin: rosenbrock's own bounds end at x = 2, y = 3
    margin = MARGIN / (1 + 2 * MARGIN)  # of the frame's span, before the frame fits the picture's shape
    assert x1 - 5 >= margin * (x1 - x0) * 0.999 and y1 - 5 >= margin * (y1 - y0) * 0.999
    assert x0 <= 1 and y0 <= 1  # the minimum at (1, 1) is still in it
    starts = [line.get_xydata()[0] for line in drawn[0].axes[0].lines if len(line.get_xydata())]
    assert any(np.allclose(xy, (5, 5)) for xy in starts)  # the path is drawn from its start


def test_a_start_inside_the_bounds_keeps_the_frame_it_had(tmp_path, drawn):
    compare(tmp_path, "rosenbrock", "adam:lr=0.05", "--start", "-1.5,2")
    x0, x1, y0, y1 = limits(drawn[0])
    assert x1 < 2.5 and y1 < 3.5  # cropped to the path, as d2l's frames are


@pytest.mark.parametrize("function", ['expression = "x**2 + 3*y**2"', 'function = "rosenbrock"'])
def test_a_scenario_s_bounds_frame_its_picture(tmp_path, drawn, function):
    text = GOOD.replace('function = "rosenbrock"', f"{function}\nbounds = [[-2.5, 3], [-1, 4]]")
    path = write(tmp_path, text.replace("[-1.5, 2]", "[-1.5, 2.5]"))
    assert load(path).frame == ((-2.5, 3.0), (-1.0, 4.0))
    out = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    assert out.exit_code == 0, out.output
    assert limits(drawn[0]) == (-2.5, 3.0, -1.0, 4.0)
    assert Image.open(tmp_path / "out" / "s.png").size == (1920, 1080)


def test_a_scenario_may_start_outside_the_bounds(tmp_path, drawn):
    path = write(tmp_path, GOOD.replace("[-1.5, 2]", "[4, -3]"))
    (tmp_path / "out").mkdir()
    gallery.render_outputs(load(path), tmp_path / "out")
    x0, x1, y0, y1 = limits(drawn[0])
    assert x1 > 4 and y0 < -3


def test_bounds_frame_the_gif_as_they_frame_the_still(tmp_path, monkeypatch):
    made = []

    def keeping(*args, **kwargs):
        made.append(canvas.figure(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(gif, "figure", keeping)
    out = CliRunner().invoke(main, ["compare", "rosenbrock", "adam:lr=0.05", "--bounds", "-3,6,-2,7", "--steps", "30",
                                    "--gif", str(tmp_path / "c.gif"), "--quiet"])
    assert out.exit_code == 0, out.output
    fig, _ = made[0]
    assert limits(fig) == (-3.0, 6.0, -2.0, 7.0)


def test_small_multiples_of_paths_far_apart_in_extent_share_one_upright_frame(tmp_path, drawn):
    # five optimizers whose paths differ in extent by orders of magnitude, on Rastrigin
    compare(tmp_path, "rastrigin", "sgd:lr=0.002", "momentum:lr=0.002,momentum=0.95", "adam:lr=0.1",
            "rmsprop:lr=0.3", "adagrad:lr=1")
    fig = drawn[0]
    fig.draw_without_rendering()
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.get_title()]
    assert len(panels) == 5 and all(ax.get_visible() for ax in panels)  # no blank place in the grid
    assert len({ax.get_xlim() for ax in panels}) == 1 and len({ax.get_ylim() for ax in panels}) == 1
    (x0, x1), (y0, y1) = panels[0].get_xlim(), panels[0].get_ylim()
    assert x0 < x1 and y0 < y1  # never inverted
    for ax in panels:
        for line in ax.lines:
            if (line.get_gid() or "").startswith("path:"):
                xy = line.get_xydata()
                xy = xy[np.isfinite(xy).all(axis=1)]
                assert ((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)).all()
        box = ax.get_window_extent()
        assert 0.5 < box.width / box.height < 2.5  # a panel, not a sliver
    assert x0 < 0 < x1 and y0 < 0 < y1  # the global minimum the paths head for is in the frame
