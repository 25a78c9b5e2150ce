"""Animated GIFs: frame counts and timing, paths' pixels where their coordinates say, budgets."""

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

import optviz
from optviz.render import animate
from optviz.render.gif import _Scene, _frame_steps
from optviz.render.style import PALETTE, get_size, get_theme


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


def test_frames_timing_and_looping(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "a.gif", fps=25, hold=2.0)
    image, frames, durations = frames_of(anim.path)
    assert image.format == "GIF" and image.size == (640, 480)
    assert len(frames) == anim.frames == 121
    assert durations[:-1] == [40] * 120 and durations[-1] == 40 + 2000
    assert image.info["loop"] == 0
    assert anim.duration == pytest.approx(121 / 25 + 2.0)


def test_subsampling(rosen, tmp_path):
    assert animate(rosen, tmp_path / "e.gif", every=10).frames == 13  # 0, 10, ..., 120
    assert animate(rosen, tmp_path / "m.gif", max_frames=30).frames == 30
    assert _frame_steps(120, 50, None) == [0, 50, 100, 120]  # the last step is always shown
    assert _frame_steps(1000, 1, 5) == [0, 250, 500, 750, 1000]


def test_the_current_point_is_where_its_coordinates_say(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "p.gif", trail=5)
    _, frames, _ = frames_of(anim.path)
    scene = _Scene(rosen, "single", get_theme("light"), get_size("gif"), 5)
    adam = rosen.index("adam")
    for step in (0, 40, 120):
        x, y = scene.pixels[adam][step][1] if step else scene.pixels[adam][0][0]
        pixel = frames[step][round(y), round(x)]
        assert np.abs(pixel.astype(int) - rgb(PALETTE["adam"])).sum() < 12, step
    # and the mapping runs the right way: data x to the right, data y upwards
    start = rosen.path("adam")[0].numpy()
    x0, y0 = scene.pixels[adam][0][0]
    x1, y1 = scene.pixels[adam][1][1]
    step = rosen.path("adam")[1].numpy() - start
    assert np.sign(x1 - x0) == np.sign(step[0]) and np.sign(y1 - y0) == -np.sign(step[1])


def test_legend_swatches_are_the_paths_exact_colours(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "l.gif")
    _, frames, _ = frames_of(anim.path)
    colours = {tuple(c) for c in frames[0].reshape(-1, 3)}
    assert tuple(rgb(PALETTE["sgd"])) in colours and tuple(rgb(PALETTE["adam"])) in colours


def test_step_counter_changes_between_frames(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "c.gif")
    _, frames, _ = frames_of(anim.path)
    scene = _Scene(rosen, "single", get_theme("light"), get_size("gif"), 15)
    x, y = scene.counter_at
    region = (slice(int(y) - 25, int(y)), slice(int(x), int(x) + 120))
    assert not np.array_equal(frames[5][region], frames[6][region])


def test_panels_per_optimizer(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "panels.gif", panels="optimizer", max_frames=20, theme="dark")
    image, frames, _ = frames_of(anim.path)
    assert image.size == (1280, 720) and len(frames) == 20
    # each panel shows only its own optimizer: Adam's colour appears in the second panel only
    adam = np.abs(frames[-1].astype(int) - rgb(PALETTE["adam"])).sum(axis=-1) < 12
    cols = np.flatnonzero(adam.any(axis=0))
    assert cols.min() > 1280 // 3


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


def test_a_diverged_path_is_labelled_in_the_gif(tmp_path):
    result = optviz.simulate("parabola", {"a": optviz.sgd(lr=40.0)}, starts=[5.0], steps=8)
    assert result.diverged_at.item() >= 0
    anim = animate(result, tmp_path / "d.gif")
    _, frames, _ = frames_of(anim.path)
    assert not np.array_equal(frames[-1], frames[0])


def test_notebook_html(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "n.gif", max_frames=5)
    html = anim._repr_html_()
    assert html.startswith('<img src="data:image/gif;base64,R0lGOD')


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(fps=0), "fps must be between 1 and 100"),
        (dict(every=0), "every must be a whole number >= 1"),
        (dict(max_frames=1), "max_frames must be a whole number >= 2"),
        (dict(panels="grid"), "panels must be 'single' or 'optimizer'"),
        (dict(theme="neon"), "unknown theme 'neon'"),
        (dict(hold=-1), "hold must be >= 0"),
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
