"""Animated GIFs: sizes, pacing, antialiased strokes where the coordinates say, budgets."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

import optviz
from optviz.render import animate
from optviz.render.gif import _Film, _frame_steps
from optviz.render.style import KINDS, THEMES, get_theme, screen_size

LIGHT = THEMES["light"]


@pytest.fixture(scope="module")
def rosen():
    return optviz.simulate(
        "rosenbrock", {"sgd": optviz.sgd(lr=1e-3), "adam": optviz.adam(lr=0.05)}, steps=120
    )


def frames_of(path):
    image = Image.open(path)
    frames, durations = [], []
    for i in range(image.n_frames):
        image.seek(i)
        frames.append(np.asarray(image.convert("RGB")))
        durations.append(image.info["duration"])
    return image, frames, durations


def rgb(hex_colour):
    return np.array([round(255 * v) for v in to_rgb(hex_colour)])


def colour_of(kind):
    return LIGHT.palette[KINDS.index(kind)]


def test_slide_size_by_default_and_any_size_asked(rosen, tmp_path):
    assert Image.open(animate(rosen, tmp_path / "a.gif", max_frames=5).path).size == (1280, 720)
    assert Image.open(animate(rosen, tmp_path / "b.gif", max_frames=5, size=(800, 450)).path).size == (800, 450)
    assert Image.open(animate(rosen, tmp_path / "c.gif", max_frames=5, size="square").path).size == (720, 720)  # a screen's: 2/3 of the still's dpi


def test_pacing_follows_the_run(tmp_path):
    lesson = optviz.simulate("parabola", {"a": optviz.sgd(lr=0.2), "b": optviz.sgd(lr=0.05)}, steps=10)
    anim = animate(lesson, tmp_path / "lesson.gif", hold=1.0)
    _, frames, durations = frames_of(anim.path)
    assert len(frames) == 11 and durations[:-1] == [400] * 10 and durations[-1] == 1400  # 2.5 frames a second
    assert anim.duration == pytest.approx(11 / 2.5 + 1.0)
    long = optviz.simulate("rosenbrock", optviz.adam(lr=0.05), steps=400)
    _, _, durations = frames_of(animate(long, tmp_path / "long.gif", max_frames=50).path)
    assert durations[0] == 50  # 20 frames a second
    _, _, durations = frames_of(animate(long, tmp_path / "fps.gif", max_frames=20, fps=25).path)
    assert durations[0] == 40


def test_frames_where_nothing_moves_are_dropped(tmp_path):
    # lr 0.5 on the sphere lands on the minimum in one step, and nothing moves after
    still = optviz.simulate("sphere", optviz.sgd(lr=0.5), steps=30)
    anim = animate(still, tmp_path / "still.gif")
    assert anim.frames == 3  # the start, the step that moves, and the last
    assert _frame_steps(120, 50, None) == [0, 50, 100, 120]  # the last step is always shown
    assert _frame_steps(1000, 1, 5) == [0, 250, 500, 750, 1000]


def test_strokes_are_antialiased_wide_and_stay(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "p.gif")
    _, frames, _ = frames_of(anim.path)
    film = _Film(rosen, "single", get_theme("light"), screen_size("slide"), None)
    adam = rosen.index("adam")
    last = frames[-1].astype(int)
    # the current point is where its coordinates say, in Adam's own colour
    x, y = film._head(adam, rosen.steps)
    assert np.abs(last[round(y), round(x)] - rgb(colour_of("adam"))).sum() < 12
    # the path drawn early is still there at the end, and the data runs the right way up
    a, b = film.pixels[adam][2], film.pixels[adam][3]
    middle = np.round((a + b) / 2).astype(int)
    assert np.abs(last[middle[1], middle[0]] - rgb(colour_of("adam"))).sum() < 40
    step = (rosen.path("adam")[3] - rosen.path("adam")[2]).numpy()
    assert np.sign(b[0] - a[0]) == np.sign(step[0]) and np.sign(b[1] - a[1]) == -np.sign(step[1])
    # across the stroke: 3 to 5 pixels of colour, with blended pixels on its edges
    direction = (b - a) / np.linalg.norm(b - a)
    normal = np.array([-direction[1], direction[0]])
    across = [last[tuple(np.round(middle + t * normal).astype(int)[::-1])] for t in np.arange(-6, 6.5, 0.5)]
    distance = [np.abs(c - rgb(colour_of("adam"))).sum() for c in across]
    assert 3 <= sum(d < 40 for d in distance) / 2 <= 5.5
    assert any(40 <= d <= 300 for d in distance)  # antialiased edges, not a hard step


def test_legend_swatches_are_the_paths_exact_colours(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "l.gif")
    _, frames, _ = frames_of(anim.path)
    colours = {tuple(c) for c in frames[0].reshape(-1, 3)}
    assert tuple(rgb(colour_of("sgd"))) in colours and tuple(rgb(colour_of("adam"))) in colours
    assert tuple(rgb(LIGHT.background)) in colours


def test_step_counter_changes_five_times_a_second(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "c.gif")  # 20 frames a second: a new count every 4 frames
    _, frames, _ = frames_of(anim.path)
    corner = (slice(680, 720), slice(1100, 1280))  # the bottom right corner
    assert not np.array_equal(frames[4][corner], frames[8][corner])
    assert np.array_equal(frames[5][corner], frames[6][corner])
    assert not np.array_equal(frames[-2][corner], frames[-1][corner])  # the last frame shows the last step


def test_panels_per_optimizer(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "panels.gif", panels="optimizer", max_frames=20, theme="dark")
    image, frames, _ = frames_of(anim.path)
    assert image.size == (1280, 720) and len(frames) == 20
    # each panel animates its own optimizer: Adam's colour is in its panel only (the second:
    # below the first, or beside it, as the frame's shape lays them out)
    adam = np.abs(frames[-1].astype(int) - rgb(THEMES["dark"].palette[5])).sum(axis=-1) < 12
    rows, cols = np.flatnonzero(adam.any(axis=1)), np.flatnonzero(adam.any(axis=0))
    assert rows.min() > 360 or cols.min() > 640


def test_1d_gif(tmp_path):
    result = optviz.simulate("xcos", {"lr 2": optviz.sgd(lr=2.0)}, steps=10)
    anim = animate(result, tmp_path / "x.gif")
    assert anim.frames == 11 and anim.bytes > 1000


def test_byte_budget(tmp_path, rosen):
    full = animate(rosen, tmp_path / "full.gif")
    budget = full.bytes // 3
    small = animate(rosen, tmp_path / "small.gif", max_bytes=budget)
    assert small.bytes <= budget
    with pytest.raises(ValueError, match="cannot fit the GIF in 2000 bytes"):
        animate(rosen, tmp_path / "tiny.gif", max_bytes=2000)
    assert not (tmp_path / "tiny.gif").exists()


def test_a_diverged_path_is_labelled_inside_the_axes_once_it_diverges(tmp_path):
    result = optviz.simulate("ill_conditioned", {"sgd": optviz.sgd(lr=0.6)}, steps=20)
    film = _Film(result, "single", get_theme("light"), screen_size("slide"), "A title")
    (text, (x, y), _, font), = film.labels.values()
    assert text == "diverged at step 19"
    left, _, right, _ = font.getbbox(text)
    assert right - left < film.axes_of[0].get_window_extent().width  # as wide as fits its panel at most
    ax = film.axes_of[0]
    inside = ax.get_window_extent()
    assert inside.x0 < x < inside.x1 and inside.y0 < film.height - y < inside.y1  # not over any title
    anim = animate(result, tmp_path / "d.gif", title="A title")
    _, frames, _ = frames_of(anim.path)
    region = (slice(int(y) - 8, int(y) + 8), slice(int(x) - 60, int(x) + 60))
    assert not np.array_equal(frames[-1][region], frames[-3][region])  # it appears at step 19


def test_notebook_html(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "n.gif", max_frames=5)
    assert anim._repr_html_().startswith('<img src="data:image/gif;base64,R0lGOD')


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(fps=0), "fps must be a number from 0.5 to 50"),
        (dict(fps="20"), "fps must be a number from 0.5 to 50, got '20'"),
        (dict(every=0), "every must be a whole number >= 1"),
        (dict(max_frames=1), "max_frames must be a whole number from 2 to 2000"),
        (dict(panels="grid"), "panels must be one of auto, single, optimizer"),
        (dict(theme="neon"), "unknown theme 'neon'"),
        (dict(hold=-1), "hold must be a number of seconds from 0 to 60"),
        (dict(size=(20000, 100)), "between 64 and 10000 pixels"),
    ],
)
def test_bad_options(rosen, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        animate(rosen, tmp_path / "bad.gif", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_bad_paths(rosen, tmp_path):
    with pytest.raises(ValueError, match="suffix must be one of .gif"):
        animate(rosen, tmp_path / "a.png")
    with pytest.raises(ValueError, match="does not exist"):
        animate(rosen, tmp_path / "nope" / "a.gif")
