"""Stills: artists read back against the trajectories, files checked by format, size and ink."""

import io
import types

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

import optviz
from optviz import render
from optviz.render.contours import contour_levels, grid_values
from looks import legend_texts
from optviz.render.style import KINDS, THEMES, colours, contrast, get_size
from optviz.render.trajectories import FAINT


@pytest.fixture(scope="module")
def rosen():
    return optviz.simulate(
        "rosenbrock", {"sgd": optviz.sgd(lr=1e-3), "adam": optviz.adam(lr=0.05)}, steps=200
    )


def path_lines(ax):
    """The lines that carry whole paths, by path index."""
    return {int(line.get_gid().split(":")[1]): line for line in ax.lines
            if (line.get_gid() or "").startswith("path:") and len(line.get_xdata()) > 2}


def test_paths_draws_each_trajectory_exactly(rosen):
    ax = render.paths(rosen)
    lines = path_lines(ax)
    assert sorted(lines) == [0, 1]
    light = THEMES["light"]
    for b, name in enumerate(rosen.optimizers):
        drawn = lines[b].get_xydata()
        kept = np.isfinite(drawn).all(axis=1)
        assert np.array_equal(drawn[kept], rosen.path(name).numpy()[kept])
        assert lines[b].get_color() == light.palette[KINDS.index(rosen.optimizers[name].kind)]
    assert legend_texts(ax.figure) == ["SGD lr=0.001", "Adam lr=0.05"]
    # the minimum (1, 1) is starred, and the frame holds the paths and the minimum
    assert any(line.get_marker() == "*" and tuple(line.get_xydata()[0]) == (1.0, 1.0) for line in ax.lines)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    points = rosen.positions.reshape(-1, 2).numpy()
    assert (points[:, 0] >= x0).all() and (points[:, 0] <= x1).all() and (points[:, 1] >= y0).all()
    assert ax.get_aspect() == 1.0


def test_the_frame_is_cropped_to_the_paths_unless_bounds_are_given():
    beale = optviz.simulate("beale", {"adam": optviz.adam(lr=0.01)}, steps=300)
    ax = render.paths(beale)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    frame, bounds = (x1 - x0) * (y1 - y0), 9.0 * 9.0
    xy = beale.path("adam").numpy()
    action = np.ptp(np.append(xy[:, 0], 3.0)) * np.ptp(np.append(xy[:, 1], 0.5))
    assert frame < bounds / 3 and action / frame > 0.3  # the action fills the frame
    ax = render.paths(beale, bounds=((-4.5, 4.5), (-4.5, 4.5)))
    assert ax.get_xlim() == (-4.5, 4.5) and ax.get_ylim() == (-4.5, 4.5)


def test_start_end_and_steps_are_marked(rosen):
    ax = render.paths(rosen)
    singles = [tuple(line.get_xydata()[0]) for line in ax.lines if len(line.get_xdata()) == 1]
    assert tuple(rosen.path("adam")[0].tolist()) in singles
    assert tuple(rosen.path("adam")[-1].tolist()) in singles
    assert all(line.get_marker() in ("None", None, "") for line in path_lines(ax).values())  # 200 steps: no dots
    assert len([t for t in ax.texts if t.arrow_patch is not None]) >= 2  # direction arrows
    lesson = optviz.simulate("quadratic", optviz.sgd(lr=0.1), steps=20)
    ax = render.paths(lesson)
    assert path_lines(ax)[0].get_marker() == "o"  # a 20-step lesson: every step a dot


def test_levels_are_log_spaced_where_the_range_spans_decades():
    _, _, Z = grid_values(optviz.get_function("rosenbrock"))
    levels, log = contour_levels(Z)
    assert log and np.all(np.diff(levels) > 0)
    above = levels[1:-1] - levels[0]
    assert set(np.round(above / 10 ** np.floor(np.log10(above)), 6)) <= {1.0, 2.0, 5.0}
    _, _, Z = grid_values(optviz.get_function("sphere"))
    levels, log = contour_levels(Z)
    assert not log and np.allclose(np.diff(levels), levels[1] - levels[0])


def test_the_landscape_has_a_colour_bar_darkest_at_the_minimum(rosen):
    ax = render.paths(rosen)
    bars = ax.child_axes  # beside the axes, as tall as they are
    assert len(bars) == 1 and bars[0].get_ylabel().startswith("f")
    filled = next(c for c in ax.collections if hasattr(c, "optviz_log"))
    low, high = filled.cmap(filled.norm([filled.levels[0]]))[0], filled.cmap(filled.norm([filled.levels[-2]]))[0]
    assert contrast(low[:3], (0, 0, 0)) < contrast(high[:3], (0, 0, 0))  # darker at the low values


def test_diverged_path_is_labelled_inside_next_to_its_exit():
    result = optviz.simulate("ill_conditioned", {"sgd": optviz.sgd(lr=0.6)}, steps=20)
    ax = render.plot(result)
    label = next(t for t in ax.texts if t.get_text() == "diverged at step 19")
    renderer = ax.figure.canvas.get_renderer()
    ax.figure.draw_without_rendering()
    box, inside = label.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
    exit_ = ax.transData.transform(label.xy)
    nearest = np.clip(exit_, [box.x0, box.y0], [box.x1, box.y1])  # the label's point nearest the exit
    assert np.hypot(*(nearest - exit_)) < 120
    # and it covers no step of the path drawn (up to where it leaves), at its iterates or
    # between them (the box less 2 points: the room around the glyphs a line may graze)
    xy = ax.transData.transform(path_lines(ax)[0].get_xydata())
    along = np.concatenate([a + np.linspace(0, 1, 50)[:, None] * (b - a) for a, b in zip(xy[:-1], xy[1:])])
    assert not box.padded(-4).count_contains(along[np.isfinite(along).all(axis=1)])
    # the growing swings are in the picture, not one segment out of the corner
    drawn = path_lines(ax)[0].get_xydata()
    assert np.isfinite(drawn).all(axis=1).sum() >= 6


def test_1d_lessons_show_the_growing_zigzag():
    result = optviz.simulate("parabola", {"a": optviz.sgd(lr=0.2), "b": optviz.sgd(lr=1.1)}, steps=10)
    ax = render.plot(result)
    lines = path_lines(ax)
    assert np.array_equal(lines[0].get_xdata(), result.path("a")[:, 0].numpy())
    assert np.array_equal(lines[0].get_ydata(), result.losses[:, 0].numpy())
    assert lines[0].get_marker() == "o"  # iterates as dots joined by a line
    assert lines[0].get_color() != lines[1].get_color()
    swings = np.isfinite(lines[1].get_xydata()).all(axis=1).sum()
    assert swings >= 8  # 10 * 1.2^k: most of the ten swings stay in the frame


def test_several_starts_are_told_apart():
    one = optviz.simulate("himmelblau", optviz.adam(lr=0.1), starts=[[0, 0], [-1, 1], [1, -4]], steps=50)
    lines = path_lines(render.paths(one))
    assert len({line.get_color() for line in lines.values()}) == 3  # one optimizer: colour by start
    two = optviz.simulate("himmelblau", {"a": optviz.adam(lr=0.1), "s": optviz.sgd(lr=0.01)},
                          starts=[[0, 0], [-1, 1]], steps=50)
    ax = render.paths(two)
    lines = path_lines(ax)
    assert lines[0].get_color() == lines[1].get_color() and lines[0].get_linestyle() != lines[1].get_linestyle()
    labels = legend_texts(ax.figure)
    assert "from (0, 0)" in labels and "from (-1, 1)" in labels


def test_loss_and_distance_curves(rosen):
    ax = render.plot(rosen, "loss")
    assert ax.get_yscale() == "linear"  # from 12.5 to 3.7: no decades to span
    assert np.allclose(ax.lines[1].get_ydata(), rosen.gap()[:, 1].numpy())
    assert render.plot(optviz.simulate("quadratic", optviz.sgd(lr=0.1), steps=30), "loss").get_yscale() == "log"
    ticks = ax.xaxis.get_major_locator()()
    assert np.allclose(ticks, np.round(ticks))  # whole steps
    ax = render.plot(rosen, "distance")
    expected = torch.linalg.vector_norm(rosen.path("adam") - torch.tensor([1.0, 1.0], dtype=torch.float64), dim=1)
    assert np.allclose(ax.lines[1].get_ydata(), expected.numpy())
    saddle = optviz.simulate("saddle", {"s": optviz.sgd(lr=0.05), "a": optviz.adam(lr=0.1)}, steps=60)
    ax = render.plot(saddle, "loss")
    assert ax.get_yscale() == "symlog" and ax.get_ylabel() == "f"
    five = optviz.simulate("himmelblau", optviz.adam(lr=0.1), starts=[[0, 0], [-1, 1], [1, -4]], steps=50)
    ax = render.plot(five, "loss")
    assert len(ax.lines) == 3 and len({line.get_color() for line in ax.lines}) == 3  # a line per start


def test_surface_draws_the_paths_over_the_surface():
    result = optviz.simulate("sphere", {"adam": optviz.adam(lr=0.3)}, steps=30)
    ax = render.plot(result, "surface")
    assert ax.name == "3d" and ax.computed_zorder is False
    line = ax.lines[0]
    x, y, z = line.get_data_3d()
    assert np.array_equal(x, result.path("adam")[:, 0].numpy())
    assert (z >= result.losses[:, 0].numpy()).all()  # lifted a little, never below
    surface = ax.collections[0]
    assert line.get_zorder() > surface.get_zorder()
    assert len(ax.figure.axes) == 2  # and a colour bar


def test_axes_level_functions_draw_into_a_given_axes(rosen):
    fig, axes = render.figure(size="square", ncols=2)
    assert render.paths(rosen, ax=axes[0, 0]) is axes[0, 0]
    assert render.loss(rosen, ax=axes[0, 1]) is axes[0, 1]
    assert tuple(fig.get_size_inches() * fig.dpi) == (1080, 1080)


def test_grid_by_optimizer_start_and_function(rosen):
    fig = render.grid(rosen)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert [ax.get_title() for ax in visible] == ["SGD lr=0.001", "Adam lr=0.05"]  # one line where it fits
    assert visible[0].get_xlim() == visible[1].get_xlim()  # identical axes
    three = optviz.simulate("himmelblau", optviz.adam(lr=0.1), starts=[[0, 0], [-1, 1], [1, -4], [3, 3], [-3, -3]],
                            steps=50)
    fig = render.grid(three, by="start", ncols=3)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 5 and all(ax.get_visible() for ax in panels)  # no empty place in the grid
    fig.draw_without_rendering()
    top, bottom = [ax.get_position() for ax in panels[:3]], [ax.get_position() for ax in panels[3:]]
    middle = (top[0].x0 + top[2].x1) / 2
    assert (bottom[0].x0 + bottom[1].x1) / 2 == pytest.approx(middle, abs=0.01)  # the short row centred
    assert [ax.yaxis.get_tick_params()["labelleft"] for ax in panels] == [True, False, False, True, False]
    two = three.select(starts=[0, 1, 2])
    fig = render.grid([rosen, two])
    assert [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()] == ["Rosenbrock", "Himmelblau"]


def test_small_multiples_show_every_path_faint_and_one_in_full():
    six = optviz.simulate("ill_conditioned", {name: optviz.OPTIMIZERS[name](lr=0.1) for name in
                                              ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")}, steps=40)
    fig = render.picture(six)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    assert len(panels) == 6
    for k, ax in enumerate(panels):
        full = [line for line in ax.lines if line.get_gid() == f"path:{k}" and len(line.get_xdata()) > 2]
        faint = [line for line in ax.lines if (line.get_gid() or "").startswith("path:") and line.get_alpha() == FAINT]
        assert len(full) == 1 and len(faint) == 5
    assert len({ax.get_xlim() for ax in panels}) == 1
    assert not isinstance(render.picture(six.select(["sgd", "adam"])), type(None))


def test_same_optimizer_same_colour_and_repeats_get_other_families():
    light = THEMES["light"]
    assert colours(["adam", "sgd"], light) == [light.palette[5], light.palette[0]]
    picked = colours(["sgd", "sgd", "momentum"], light)
    assert picked[0] == light.palette[0] and picked[2] == light.palette[1] and len(set(picked)) == 3
    assert picked[1] == light.palette[5]  # vermilion: the family least like blue


@pytest.mark.parametrize("size,pixels", [("slide", (1920, 1080)), ("paper", (1050, 750)), ((800, 500), (800, 500))])
def test_png_has_the_requested_size_and_is_not_blank(rosen, tmp_path, size, pixels):
    ax = render.plot(rosen, size=size)
    path = render.save(ax.figure, tmp_path / "paths.png")
    image = Image.open(path)
    assert image.format == "PNG" and image.size == pixels
    rgb = np.asarray(image.convert("RGB")).astype(float)
    assert rgb.std() > 10  # there is a picture
    adam = np.array([int(THEMES["light"].palette[5][i: i + 2], 16) for i in (1, 3, 5)])
    assert (np.abs(rgb - adam).sum(axis=-1) < 30).sum() > 100  # Adam's path is in the picture


@pytest.mark.parametrize("kind", ["paths", "loss", "surface", "distance"])
def test_each_kind_of_still_is_a_real_picture(rosen, tmp_path, kind):
    path = render.save(render.plot(rosen, kind, theme="dark").figure, tmp_path / f"{kind}.png")
    rgb = np.asarray(Image.open(path).convert("RGB"))
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 50
    assert rgb[5, 5].tolist() == [13, 17, 23]  # the dark theme's background


def test_svg_keeps_text_as_text_and_stays_small(rosen, tmp_path):
    fig = render.picture(optviz.simulate("rosenbrock", {n: optviz.OPTIMIZERS[n](lr=1e-3) for n in
                                                        ("sgd", "momentum", "nesterov", "adam")}, steps=300))
    svg = render.save(fig, tmp_path / "a.svg")
    text = svg.read_text()
    assert "<text" in text and "Rosenbrock" in text  # editable labels, not outlines
    assert "<image" in text  # the filled landscape is kept as pixels
    assert svg.stat().st_size < 400_000
    assert render.save(fig, tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    clear = Image.open(render.save(render.plot(rosen).figure, tmp_path / "t.png", transparent=True))
    assert clear.mode == "RGBA" and np.asarray(clear)[..., 3].min() == 0
    assert Image.open(render.save(render.plot(rosen).figure, tmp_path / "hi.png", dpi=200)).size == (2666, 1500)  # 13.333 x 7.5 in


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
        (lambda r, p: render.save(render.plot(r).figure, p / "a.png", dpi=5000), ValueError,
         "dpi 5000 makes a 66667x37500 picture; at most 10000 pixels a side"),
        (lambda r, p: render.save(render.plot(r).figure, p / "a.png", dpi="high"), ValueError,
         "dpi must be a positive number, got 'high'"),
        (lambda r, p: render.plot(_all_nan(r)), ValueError, "every path in the result is NaN"),
    ],
)
def test_bad_input(rosen, tmp_path, call, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(rosen, tmp_path)
    assert list(tmp_path.iterdir()) == []


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
    png = registered[("optviz.core.simulation.result", "Result")](rosen)
    assert Image.open(io.BytesIO(png)).size == (get_size("slide").width, get_size("slide").height)


def test_a_path_that_ends_on_the_minimum_leaves_its_star_in_sight():
    result = optviz.simulate("sphere", optviz.sgd(lr=0.5), [2.0, 1.0], 5)  # lands on (0, 0) at step 1
    fig = render.picture(result, size=(960, 540))
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)
    ax = fig.axes[0]
    x, y = ax.transData.transform([[0.0, 0.0]])[0]
    centre = image[round(fig.bbox.height - y), round(x)]
    star = np.array([round(255 * c) for c in matplotlib.colors.to_rgb(THEMES["light"].foreground)])
    assert np.abs(centre - star).sum() < 30  # the star's own colour, not the end marker's over it


@pytest.fixture(scope="module")
def low_rank():
    return optviz.simulate(optviz.get_function("low_rank", dim="4x3r2"),
                           {"sgd": optviz.sgd(lr=2.0), "adam": optviz.adam(lr=0.05)}, steps=25)


def test_spectrum_draws_each_iterates_singular_values_against_the_optimums(low_rank):
    ax = render.plot(low_rank, "spectrum")
    lines = {line.get_gid(): line for line in ax.lines if (line.get_gid() or "").startswith("path:")}
    assert sorted(lines) == ["path:0:0", "path:0:1", "path:1:0", "path:1:1"]  # rank 2: two values a path
    stacked = low_rank.path("adam").reshape(26, 7, 2)
    expected = torch.linalg.svdvals(stacked[:, :4] @ stacked[:, 4:].mT)[:, :2]  # those of W = UVᵀ
    for k in range(2):
        assert np.allclose(lines[f"path:1:{k}"].get_ydata(), expected[:, k].numpy())
    dashed = sorted(line.get_ydata()[0] for line in ax.lines if line.get_gid() is None)
    assert dashed == pytest.approx([12**0.5 / 2, 12**0.5])  # the target's: √(mn) halving
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step" and ax.get_ylabel() == "singular value"
    known = optviz.simulate(optviz.get_function("least_squares", dim="2x2"), optviz.sgd(lr=0.0),
                            starts=[[3.0, 0.0, 0.0, -4.0]], steps=2)  # diag(3, -4): singular values 4 and 3
    ys = [line.get_ydata() for line in render.plot(known, "spectrum").lines if line.get_gid()]
    assert np.allclose(ys, [[4, 4, 4], [3, 3, 3]])
    with pytest.raises(ValueError, match="rosenbrock is no matrix problem"):
        render.plot(optviz.simulate("rosenbrock", optviz.sgd(lr=1e-3), steps=2), "spectrum")


def test_a_spectrum_grid_has_a_panel_per_optimizer_on_one_y_axis(low_rank):
    fig = render.grid(low_rank, kind="spectrum")
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["SGD lr=2", "Adam lr=0.05"]
    assert panels[0].get_ylim() == panels[1].get_ylim() and {ax.get_yscale() for ax in panels} == {"log"}
    assert fig.get_supxlabel() == "step" and fig.get_supylabel() == "singular value"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["the optimum's singular values"]


def test_a_function_known_on_a_grid_is_drawn_only_over_its_grid():
    import numpy as np

    from optviz.core.functions.surface import sampled_function
    from optviz.render.contours import grid_values

    fn = sampled_function(torch.arange(9.0).reshape(3, 3), ((-1.0, 1.0), (-1.0, 1.0)))
    X, Y, Z = grid_values(fn, (-2.0, 2.0, -1.0, 1.0), resolution=41)
    inside = np.abs(X) <= 1
    assert np.isfinite(Z[inside]).all() and np.isnan(Z[~inside]).all()  # no clamped copy of the edge beyond it
