"""Animated GIFs: comets that show nothing of the future, the loss strip and read-out, pacing,
loops, the poster, budgets, sizes, antialiased strokes where the coordinates say."""

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgb
from groups import GIF
from PIL import Image

import optviz
from optviz.documents.scenario import ScenarioError, load
from optviz.interface.cli import main
from optviz.render import animate
from optviz.render.gif import POSTER, TRAIL, _Film, _frame_steps, _Timing, band_steps
from optviz.render.style import KINDS, THEMES, get_theme, screen_size

LIGHT = THEMES["light"]
pytestmark = GIF  # the module's GIFs written once, for all its tests


@pytest.fixture(scope="module")
def rosen():
    return optviz.simulate(
        "rosenbrock", {"sgd": optviz.sgd(lr=1e-3), "adam": optviz.adam(lr=0.05)}, steps=120
    )


@pytest.fixture(scope="module")
def film(rosen):
    return _Film(rosen, "single", get_theme("light"), screen_size("slide"), None)


@pytest.fixture(scope="module")
def played(rosen, tmp_path_factory):
    """The rosen GIF as written by default: the animation, its frames and their durations."""
    anim = animate(rosen, tmp_path_factory.mktemp("gif") / "p.gif")
    image, frames, durations = frames_of(anim.path)
    return anim, image, frames, durations


def frames_of(path):
    image = Image.open(path)
    frames, durations = [], []
    for i in range(image.n_frames):
        image.seek(i)
        frames.append(np.asarray(image.convert("RGB")).astype(int))
        durations.append(image.info["duration"])
    return image, frames, durations


def rgb(hex_colour):
    return np.array([round(255 * v) for v in to_rgb(hex_colour)])


def colour_of(kind):
    return LIGHT.palette[KINDS.index(kind)]


def off(frame, point, colour):
    """How far the frame's pixel at an image point is from a colour (sum over channels)."""
    x, y = np.round(point).astype(int)
    return int(np.abs(frame[y, x] - colour).sum())


def test_frames_show_nothing_of_the_future(rosen, film, played):
    anim, _, frames, _ = played
    steps = film.moving(_frame_steps(rosen.steps, 1, 200))
    assert len(frames) == len(steps) + 1  # the poster, then one frame a step shown
    empty = frames[1]  # step 0: only the start rings and heads
    checked = 0
    for k in (10, 40, 80):
        step = steps[k]
        frame = frames[k + 1]
        for b, comet in film.comets.items():
            past = comet.pixels[: step + 1]
            for point in comet.pixels[step + 1:]:
                # a point of the path still to come, away from everything drawn so far (paths and heads)
                near = min(np.hypot(*(c.pixels[: step + 1] - point).T).min() for c in film.comets.values())
                if near > film.head + 12 and np.hypot(*(past[0] - point)) > film.head + 40:
                    assert off(frame, point, empty[round(point[1]), round(point[0])]) == 0
                    checked += 1
    assert checked > 100


def test_each_path_is_a_comet_with_a_start_ring(rosen, film, played):
    _, _, frames, _ = played
    steps = film.moving(_frame_steps(rosen.steps, 1, 200))
    k = 60
    frame, step = frames[k + 1], steps[k]
    adam = film.comets[rosen.index("adam")]
    colour = rgb(colour_of("adam"))
    assert off(frame, adam.head(step), colour) < 12  # the head, in its own colour, where its coordinates say
    # the head is large: its colour 0.8 * its radius away from its centre, and a white outline around it
    assert off(frame, adam.head(step) + [0.8 * film.head, 0], colour) < 12
    assert film.head >= 6
    # the tail's newest segment is brighter than the trail behind it, which is there but faint
    newest = (adam.pixels[step - 1] + adam.pixels[step]) / 2
    old = (adam.pixels[3] + adam.pixels[4]) / 2
    background = film.background
    assert off(frame, newest, colour) < off(frame, old, colour) < off(background, old, colour)
    faint = background[round(old[1]), round(old[0])] + TRAIL * (colour - background[round(old[1]), round(old[0])])
    assert off(frame, old, faint) < 60
    # the start: a ring in its colour (where no trail crosses it), open in the middle
    start, radius = adam.pixels[0], 0.8 * film.head - film.stroke / 2
    ring = [off(frame, start + radius * np.array([np.cos(a), np.sin(a)]), colour) for a in np.linspace(0, 6, 12)]
    assert sum(d < 40 for d in ring) >= 6
    assert off(frame, start, colour) > 200


def test_labels_name_the_paths_beside_their_heads_and_sit_on_none(rosen, film):
    for step in (0, 60, rosen.steps):
        labels = film._labels(step, {})
        assert [text for text, *_ in labels] == ["SGD", "Adam"]
        for (text, _, box, colour), comet in zip(labels, film.comets.values()):
            assert film._inked(*box) == 0  # no path covers it, at any step
            x0, y0, x1, y1 = comet.box
            assert x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1
            head = comet.head(step)
            assert np.hypot(head[0] - (box[0] + box[2]) / 2, head[1] - (box[1] + box[3]) / 2) < 150  # beside it


def test_a_diverged_path_says_so_clear_of_the_path(tmp_path):
    result = optviz.simulate("ill_conditioned", {"sgd": optviz.sgd(lr=0.6)}, steps=20)
    film = _Film(result, "single", get_theme("light"), screen_size("slide"), "A title")
    assert film._labels(18, {})[0][0] == "SGD"
    (text, _, box, _), = film._labels(20, {})
    assert text == "SGD\ndiverged at step 19"
    assert film._inked(*box) == 0


def test_the_read_out_and_the_strip_cursor_follow_the_step(rosen, film, played):
    _, _, frames, durations = played
    steps = film.moving(_frame_steps(rosen.steps, 1, 200))
    x, y = film.readout_at
    readout = (slice(round(y), round(y + 2.4 * film.big.size)), slice(round(x), film.width))
    ink = [(np.abs(f[readout] - rgb(LIGHT.foreground)).sum(axis=-1) < 60).sum() for f in frames]
    assert min(ink[1:]) > 300  # large text, in every frame
    assert film.big.size >= 36  # px, at 1280x720
    # it changes at most five times a second, and at the last frame
    changes = [k for k in range(2, len(frames)) if not np.array_equal(frames[k][readout], frames[k - 1][readout])]
    assert changes[-1] == len(frames) - 1 and len(changes) > 20
    times = np.cumsum(durations)
    assert all(times[b - 1] - times[a - 1] >= 190 for a, b in zip(changes, changes[1:-1]))
    shown = band_steps(steps, durations[1:])  # the step the strip and the read-out show, frame by frame
    assert shown[-1] == rosen.steps and shown[4] == steps[4] and shown[5] == steps[4] and shown[8] == steps[8]
    # the cursor: a line across the strip at the step, in the text colour
    x0, y0, x1, y1 = film.strip_box
    middle = film.height - (y0 + y1) // 2

    def cursor(frame):
        row = np.abs(frame[middle - 5: middle + 5, x0: x1 + 1] - rgb(LIGHT.foreground)).sum(axis=-1) < 30
        return x0 + np.flatnonzero(row.all(axis=0))

    for k in (6, 50, len(steps) - 1):
        expected = film.strip_axes.transData.transform((shown[k], film.strip_axes.get_ylim()[0]))[0]
        assert np.abs(cursor(frames[k + 1]) - expected).max() <= 2
    # the strip's curves so far, and none of their future
    curve = film.curves[rosen.index("adam")]
    assert np.array_equal(curve.colour, rgb(colour_of("adam")))
    assert off(frames[51], curve.pixels[shown[50] - 5], rgb(colour_of("adam"))) < 40
    assert off(frames[51], curve.pixels[shown[50] + 20], rgb(colour_of("adam"))) > 100


def test_pacing_hold_and_the_poster(rosen, film, played):
    anim, image, frames, durations = played
    assert np.array_equal(frames[0], frames[-1])  # the poster is the last frame, first
    assert durations[0] == 1000 * POSTER and durations[-1] == 3000  # held 3 s by default
    assert image.info["loop"] == 0  # forever
    assert sum(durations) / 1000 == pytest.approx(anim.duration)
    lesson = optviz.simulate("parabola", {"a": optviz.sgd(lr=0.2), "b": optviz.sgd(lr=0.05)}, steps=10)
    anim = animate(lesson, anim.path.with_name("lesson.gif"), hold=1.5, poster=False)
    _, frames, durations = frames_of(anim.path)
    assert len(frames) == 11 and durations[-1] == 1500
    assert sum(durations[:-1]) == 6000  # a short lesson plays in 6 s before its hold
    assert not np.array_equal(frames[0], frames[-1])  # no poster: the first frame is the start
    assert _Timing(6.0, 3.0, 0.5, 0).durations(4) == [500, 2000, 2000, 2000, 3000]
    assert _Timing(10.0, 0, 0, 0).durations(3) == [5000, 5000, 5000]  # no hold: a frame's length


@pytest.mark.parametrize("loop,count", [("forever", 0), (3, 2), (2, 1)])
def test_loop_count_is_written(tmp_path, loop, count):
    lesson = optviz.simulate("sphere", optviz.sgd(lr=0.3), steps=4)
    with Image.open(animate(lesson, tmp_path / "l.gif", loop=loop).path) as image:
        assert image.info["loop"] == count  # repeats after the first play


def test_once_writes_no_loop_block(tmp_path):
    lesson = optviz.simulate("sphere", optviz.sgd(lr=0.3), steps=4)
    for loop in ("once", 1):
        with Image.open(animate(lesson, tmp_path / "o.gif", loop=loop).path) as image:
            assert "loop" not in image.info and image.n_frames == 6


def test_byte_budget_keeps_the_duration(tmp_path, rosen):
    full = animate(rosen, tmp_path / "full.gif", size=(640, 360), max_frames=30)
    budget = full.bytes // 2
    small = animate(rosen, tmp_path / "small.gif", size=(640, 360), max_frames=30, max_bytes=budget)
    assert small.bytes <= budget and small.frames < full.frames
    _, frames, durations = frames_of(small.path)
    frame = max(durations[1:-1])
    assert abs(sum(durations) - 1000 * full.duration) <= frame
    assert small.duration == pytest.approx(sum(durations) / 1000)
    with pytest.raises(ValueError, match="cannot fit the GIF in 2000 bytes"):
        animate(rosen, tmp_path / "tiny.gif", size=(640, 360), max_frames=30, max_bytes=2000)
    assert not (tmp_path / "tiny.gif").exists()


def test_slide_size_by_default_and_any_size_asked(played, rosen, tmp_path):
    assert played[1].size == (1280, 720)
    assert Image.open(animate(rosen, tmp_path / "b.gif", max_frames=5, size=(800, 450)).path).size == (800, 450)


def test_frames_where_nothing_moves_are_dropped(tmp_path):
    # lr 0.5 on the sphere lands on the minimum in one step, and nothing moves after
    still = optviz.simulate("sphere", optviz.sgd(lr=0.5), steps=30)
    anim = animate(still, tmp_path / "still.gif", poster=False)
    assert anim.frames == 3  # the start, the step that moves, and the last
    assert _frame_steps(120, 50, None) == [0, 50, 100, 120]  # the last step is always shown
    assert _frame_steps(1000, 1, 5) == [0, 250, 500, 750, 1000]


def test_strokes_are_antialiased_wide_and_the_right_way_up(rosen, film, played):
    last = played[2][-2]  # the frame before the last: the early steps are trail there
    adam = film.comets[rosen.index("adam")]
    a, b = adam.pixels[2], adam.pixels[3]
    step = (rosen.path("adam")[3] - rosen.path("adam")[2]).numpy()
    assert np.sign(b[0] - a[0]) == np.sign(step[0]) and np.sign(b[1] - a[1]) == -np.sign(step[1])
    # across the trail: 3 to 5 pixels of its faint colour, with blended pixels on its edges
    middle = np.round((a + b) / 2).astype(int)
    under = film.background[middle[1], middle[0]]
    faint = under + TRAIL * (rgb(colour_of("adam")) - under)
    direction = (b - a) / np.linalg.norm(b - a)
    normal = np.array([-direction[1], direction[0]])
    across = [last[tuple(np.round(middle + t * normal).astype(int)[::-1])] for t in np.arange(-6, 6.5, 0.5)]
    distance = [np.abs(c - faint).sum() for c in across]
    assert 3 <= sum(d < 40 for d in distance) / 2 <= 5.5
    assert any(40 <= d <= 150 for d in distance)  # antialiased edges, not a hard step
    # the last frame is the finished picture: the same stroke in the path's own colour
    full = [played[2][-1][tuple(np.round(middle + t * normal).astype(int)[::-1])] for t in np.arange(-6, 6.5, 0.5)]
    assert 3 <= sum(np.abs(c - rgb(colour_of("adam"))).sum() < 40 for c in full) / 2 <= 5.5


def test_legend_swatches_are_the_paths_exact_colours(played):
    colours = {tuple(c) for c in played[2][1].reshape(-1, 3)}
    assert tuple(rgb(colour_of("sgd"))) in colours and tuple(rgb(colour_of("adam"))) in colours
    assert tuple(rgb(LIGHT.background)) in colours


def test_panels_per_optimizer_show_the_others_trails_as_they_go(rosen, tmp_path):
    anim = animate(rosen, tmp_path / "panels.gif", panels="optimizer", max_frames=20, theme="dark")
    image, frames, _ = frames_of(anim.path)
    assert image.size == (1280, 720) and len(frames) == 21
    # each panel animates its own optimizer: Adam's colour is in its panel only (the second:
    # below the first, or beside it, as the frame's shape lays them out; the band under the maps aside)
    adam = np.abs(frames[-1] - rgb(THEMES["dark"].palette[5])).sum(axis=-1) < 12
    adam = adam[: round(720 * 0.8)]
    rows, cols = np.flatnonzero(adam.any(axis=1)), np.flatnonzero(adam.any(axis=0))
    assert rows.min() > 280 or cols.min() > 640
    # the other's trail is drawn faint as it goes: at the first frame of the story, no trail anywhere yet
    assert (np.abs(frames[1] - frames[2]).sum(axis=-1) > 0).sum() < (np.abs(frames[1] - frames[-1]).sum(axis=-1) > 0).sum()


def test_1d_gif(tmp_path):
    result = optviz.simulate("xcos", {"lr 2": optviz.sgd(lr=2.0)}, steps=10)
    anim = animate(result, tmp_path / "x.gif")
    assert anim.frames == 12 and anim.bytes > 1000


def test_notebook_html(played):
    assert played[0]._repr_html_().startswith('<img src="data:image/gif;base64,R0lGOD')


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(fps=0), "fps must be a number from 0.5 to 50"),
        (dict(fps="20"), "fps must be a number from 0.5 to 50, got '20'"),
        (dict(every=0), "every must be a whole number >= 1"),
        (dict(max_frames=1), "max_frames must be a whole number from 2 to 2000"),
        (dict(panels="grid"), "panels must be one of auto, single, optimizer"),
        (dict(theme="neon"), "unknown theme 'neon'"),
        (dict(hold=-1), "hold must be a number of seconds from 0 to 60, got -1"),
        (dict(hold="3"), "hold must be a number of seconds from 0 to 60, got '3'"),
        (dict(hold=float("nan")), "hold must be a number of seconds from 0 to 60, got nan"),
        (dict(loop="twice"), "loop must be forever, once or a whole number of plays from 1 to 65,536, got 'twice'"),
        (dict(loop=0), "loop must be forever, once or a whole number"),
        (dict(loop=True), "loop must be forever, once or a whole number"),
        (dict(poster="yes"), "poster must be True or False, got 'yes'"),
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


# --- the command line and scenario files ---------------------------------------------------------

def test_loop_and_hold_on_the_command_line(tmp_path):
    out = CliRunner().invoke(main, ["compare", "sphere", "sgd:lr=0.3", "--steps", "4", "--gif", str(tmp_path / "c.gif"),
                                    "--loop", "3", "--hold", "1.5", "-q"])
    assert out.exit_code == 0, out.output
    _, _, durations = frames_of(tmp_path / "c.gif")
    assert Image.open(tmp_path / "c.gif").info["loop"] == 2 and durations[-1] == 1500
    (tmp_path / "s.toml").write_text('function = "sphere"\nsteps = 4\n[[optimizers]]\nname = "sgd"\nlr = 0.3\n'
                                     '[outputs]\npng = false\ngif = true\nloop = 5\nsize = [640, 360]\n')
    out = CliRunner().invoke(main, ["run", str(tmp_path / "s.toml"), "--out", str(tmp_path), "--loop", "once",
                                    "--hold", "0.5", "-q"])
    assert out.exit_code == 0, out.output
    image, _, durations = frames_of(tmp_path / "s.gif")
    assert "loop" not in image.info and durations[-1] == 500


@pytest.mark.parametrize("args,message", [
    (["--loop", "twice"], "Invalid value for --loop: loop must be forever, once or a whole number of plays from 1 to "
                          "65,536, got 'twice'"),
    (["--loop", "0"], "Invalid value for --loop: loop must be forever, once or a whole number"),
    (["--hold", "-1"], "Invalid value for --hold: hold must be a number of seconds from 0 to 60, got -1.0"),
    (["--hold", "soon"], "Invalid value for --hold: 'soon' is not a number"),
])
@pytest.mark.parametrize("command", [["compare", "sphere", "sgd", "--gif", "c.gif"], ["run", "03-gd-2d-quadratic"],
                                     ["gallery"]])
def test_bad_loop_or_hold_is_one_line_and_exit_2_before_any_drawing(tmp_path, monkeypatch, command, args, message):
    monkeypatch.chdir(tmp_path)
    out = CliRunner().invoke(main, command + ["--out", "o"] * (command[0] != "compare") + args)
    assert out.exit_code == 2 and message in out.output
    assert len(out.output.strip().splitlines()) == 1 and "Traceback" not in out.output
    assert list(tmp_path.iterdir()) == []


def test_a_scenario_sets_loop_hold_and_poster(tmp_path):
    path = tmp_path / "s.toml"
    head = 'function = "sphere"\n[[optimizers]]\nname = "sgd"\nlr = 0.3\n[outputs]\ngif = true\n'
    path.write_text(head + 'loop = 2\nhold = 1\nposter = false\n')
    out = load(path).outputs
    assert (out.loop, out.hold, out.poster) == (2, 1.0, False)
    path.write_text(head)
    out = load(path).outputs
    assert (out.loop, out.hold, out.poster) == ("forever", 3.0, True)
    for line, message in [('loop = "often"', "outputs.loop: loop must be forever, once or a whole number"),
                          ("loop = 0", "outputs.loop: loop must be forever"),
                          ("hold = -2", "outputs.hold: must be between 0 and 60, got -2"),
                          ('hold = "long"', "outputs.hold: expected int or float, got 'long'"),
                          ("poster = 1", "outputs.poster: expected bool, got 1")]:
        path.write_text(head + line + "\n")
        with pytest.raises(ScenarioError, match=message):
            load(path)
