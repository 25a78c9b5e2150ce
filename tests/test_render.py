"""Stills: artists read back against the trajectories, files checked by format, size and ink."""

import io
import types

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from PIL import Image

import optviz
from optviz import render
from optviz.render.style import PALETTE, colours, get_size


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def rosen():
    return optviz.simulate(
        "rosenbrock", {"sgd": optviz.sgd(lr=1e-3), "adam": optviz.adam(lr=0.05)}, steps=200
    )


def path_lines(ax):
    """The lines that carry whole paths (the ones with a legend label or many points)."""
    return [line for line in ax.lines if len(line.get_xdata()) > 2]


def test_paths_draws_each_trajectory_exactly(rosen):
    ax = render.paths(rosen)
    lines = path_lines(ax)
    assert len(lines) == 2
    for line, name in zip(lines, rosen.optimizers):
        assert np.array_equal(line.get_xydata(), rosen.path(name).numpy())
        assert line.get_color() == PALETTE[rosen.optimizers[name].kind]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["SGD", "Adam lr=0.05"]
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 3.0)
    # the minimum (1, 1) is starred
    assert any(line.get_marker() == "*" and tuple(line.get_xydata()[0]) == (1.0, 1.0) for line in ax.lines)
    assert ax.collections  # the contours


def test_start_and_end_are_marked(rosen):
    ax = render.paths(rosen)
    singles = [tuple(line.get_xydata()[0]) for line in ax.lines if len(line.get_xdata()) == 1]
    assert tuple(rosen.path("adam")[0].tolist()) in singles
    assert tuple(rosen.path("adam")[-1].tolist()) in singles


def test_log_levels_where_the_range_spans_decades():
    _, _, Z = render.stills.grid_values(optviz.get_function("rosenbrock"))
    levels, log = render.stills.contour_levels(Z)
    assert log and np.all(np.diff(levels) > 0)
    above = levels[1:] - levels[0]  # log-spaced above the minimum
    assert np.allclose(above[1:] / above[:-1], above[1] / above[0])
    _, _, Z = render.stills.grid_values(optviz.get_function("sphere"))
    levels, log = render.stills.contour_levels(Z)
    assert not log and np.allclose(np.diff(levels), levels[1] - levels[0])


def test_diverged_path_is_labelled():
    result = optviz.simulate("ill_conditioned", {"sgd": optviz.sgd(lr=0.6)}, steps=20)
    ax = render.plot(result)
    texts = [child.get_text() for child in ax.texts]
    assert "diverged at step 19" in texts
    annotation = next(t for t in ax.texts if t.get_text() == "diverged at step 19")
    x, y = annotation.xy
    # it points at the frame's edge, where the last step leaves it
    assert y == pytest.approx(3.0) or y == pytest.approx(-3.0)


def test_curve_for_1d_functions():
    result = optviz.simulate("parabola", {"a": optviz.sgd(lr=0.2), "b": optviz.sgd(lr=1.1)}, steps=10)
    ax = render.plot(result)
    lines = path_lines(ax)
    curve, first, second = lines[0], lines[1], lines[2]
    assert np.allclose(curve.get_ydata(), curve.get_xdata() ** 2)
    assert np.array_equal(first.get_xdata(), result.path("a")[:, 0].numpy())
    assert np.array_equal(first.get_ydata(), result.losses[:, 0].numpy())
    assert first.get_marker() == "o"  # iterates as dots joined by a line
    assert first.get_color() != second.get_color()


def test_loss_and_distance_curves(rosen):
    ax = render.plot(rosen, "loss")
    assert ax.get_yscale() == "log"
    line = ax.lines[1]
    assert np.allclose(line.get_ydata(), rosen.gap()[:, 1].numpy())
    ax = render.plot(rosen, "distance")
    expected = torch.linalg.vector_norm(rosen.path("adam") - torch.tensor([1.0, 1.0], dtype=torch.float64), dim=1)
    assert np.allclose(ax.lines[1].get_ydata(), expected.numpy())
    saddle = optviz.simulate("saddle", optviz.sgd(lr=0.1), steps=10)
    ax = render.plot(saddle, "loss")
    assert ax.get_yscale() == "linear" and ax.get_ylabel() == "f"


def test_surface_lifts_paths_onto_the_function():
    result = optviz.simulate("sphere", {"adam": optviz.adam(lr=0.3)}, steps=30)
    ax = render.plot(result, "surface")
    assert ax.name == "3d"
    line = ax.lines[0]
    x, y, z = line.get_data_3d()
    assert np.array_equal(x, result.path("adam")[:, 0].numpy())
    assert np.allclose(z, result.losses[:, 0].numpy())


def test_axes_level_functions_draw_into_a_given_axes(rosen):
    fig, axes = render.figure(size="square", ncols=2)
    assert render.paths(rosen, ax=axes[0, 0]) is axes[0, 0]
    assert render.loss(rosen, ax=axes[0, 1]) is axes[0, 1]
    assert tuple(fig.get_size_inches() * fig.dpi) == (1080, 1080)


def test_grid_by_optimizer_start_and_function(rosen):
    fig = render.grid(rosen)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in visible] == ["SGD", "Adam lr=0.05"]
    two = optviz.simulate("himmelblau", optviz.adam(lr=0.1), starts=[[0, 0], [-1, 1], [1, -4]], steps=50)
    fig = render.grid(two, by="start")
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3
    fig = render.grid([rosen, two])
    assert [ax.get_title() for ax in fig.axes if ax.get_visible()] == ["rosenbrock", "himmelblau"]


def test_same_optimizer_same_colour_and_repeats_get_free_colours():
    assert colours(["adam", "sgd"]) == [PALETTE["adam"], PALETTE["sgd"]]
    picked = colours(["sgd", "sgd", "momentum"])
    assert picked[0] == PALETTE["sgd"] and picked[2] == PALETTE["momentum"]
    assert len(set(picked)) == 3


@pytest.mark.parametrize("size,pixels", [("slide", (1280, 720)), ("paper", (1050, 750)), ((800, 500), (800, 500))])
def test_png_has_the_requested_size_and_is_not_blank(rosen, tmp_path, size, pixels):
    ax = render.plot(rosen, size=size)
    path = render.save(ax.figure, tmp_path / "paths.png")
    image = Image.open(path)
    assert image.format == "PNG" and image.size == pixels
    rgb = np.asarray(image.convert("RGB")).astype(float)
    assert rgb.std() > 10  # there is a picture
    adam_blue = np.array([int(PALETTE["adam"][i : i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(rgb - adam_blue).sum(axis=-1) < 30).sum() > 100  # Adam's path is in the picture


@pytest.mark.parametrize("kind", ["paths", "loss", "surface", "distance"])
def test_each_kind_of_still_is_a_real_picture(rosen, tmp_path, kind):
    path = render.save(render.plot(rosen, kind, theme="dark").figure, tmp_path / f"{kind}.png")
    rgb = np.asarray(Image.open(path).convert("RGB"))
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50
    assert rgb[5, 5].tolist() == [15, 20, 25]  # the dark theme's background


def test_svg_pdf_and_transparent(rosen, tmp_path):
    fig = render.plot(rosen).figure
    assert render.save(fig, tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert render.save(fig, tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    clear = Image.open(render.save(fig, tmp_path / "t.png", transparent=True))
    assert clear.mode == "RGBA" and np.asarray(clear)[..., 3].min() == 0
    assert Image.open(render.save(fig, tmp_path / "hi.png", dpi=200)).size == (2560, 1440)


def test_writes_are_atomic(rosen, tmp_path, monkeypatch):
    fig = render.plot(rosen).figure
    target = tmp_path / "out.png"

    def crash(path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"half a picture")
        raise KeyboardInterrupt

    monkeypatch.setattr(fig, "savefig", crash)
    with pytest.raises(KeyboardInterrupt):
        render.save(fig, target)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "call,error,message",
    [
        (lambda r, p: render.plot(r, theme="sepia"), ValueError, "unknown theme 'sepia'"),
        (lambda r, p: render.plot(r, size="slides"), ValueError, "unknown size 'slides'; did you mean 'slide'"),
        (lambda r, p: render.plot(r, size=(10, 10)), ValueError, "between 64 and 10000 pixels"),
        (lambda r, p: render.plot(r, "pie"), ValueError, "unknown kind 'pie'"),
        (lambda r, p: render.plot("not a result"), TypeError, "expected an optviz Result"),
        (lambda r, p: render.save(render.plot(r).figure, p / "missing" / "a.png"), ValueError, "does not exist"),
        (lambda r, p: render.save(render.plot(r).figure, p / "a.bmp"), ValueError, "suffix must be one of"),
        (lambda r, p: render.plot(_all_nan(r)), ValueError, "every path in the result is NaN"),
        (lambda r, p: render.plot(r, "curve"), ValueError, "use paths()"),
    ],
)
def test_bad_input(rosen, tmp_path, call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(rosen, tmp_path)


def _all_nan(result):
    from dataclasses import replace

    return replace(result, positions=result.positions * float("nan"))


def test_unwritable_folder(rosen, tmp_path):
    import os

    if os.geteuid() == 0:
        # root writes anywhere; a regular file as the folder is unwritable for everyone
        blocker = tmp_path / "file"
        blocker.write_text("x")
        with pytest.raises(ValueError, match="does not exist"):
            render.save(render.plot(rosen).figure, blocker / "a.png")
    else:
        tmp_path.chmod(0o500)
        with pytest.raises(ValueError, match="not writable"):
            render.save(render.plot(rosen).figure, tmp_path / "a.png")


def test_notebook_display(monkeypatch, rosen):
    registered = {}
    formatter = types.SimpleNamespace(for_type_by_name=lambda mod, name, fn: registered.update({(mod, name): fn}))
    shell = types.SimpleNamespace(display_formatter=types.SimpleNamespace(formatters={"image/png": formatter}))
    monkeypatch.setitem(__import__("sys").modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    optviz._register_notebook_display()
    png = registered[("optviz.result", "Result")](rosen)
    assert Image.open(io.BytesIO(png)).size == (get_size("slide").width, get_size("slide").height)
