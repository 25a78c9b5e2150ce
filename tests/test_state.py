"""The optimizer's state, recorded and drawn: simulate(state=True) keeps what the step
functions hold, bit for bit; the glyph vectors follow their formulas; the pictures draw them
apart from each other; bad state options are one line."""

import io
import itertools
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import optviz
from optviz.analyses.state import state_vectors
from optviz.core.errors import StateWarning
from optviz.interface.cli import main
from optviz.render import picture
from optviz.render.glyphs import check_state

from browser import browser, console_errors  # noqa: F401 - the fixture
from groups import PAGE

START = [[-5.0, -2.0], [1.5, 2.5]]
STEPS = 12


def by_hand(opt, steps=STEPS):
    """The states the step functions hold, step by step, on the same function and starts."""
    fn = optviz.get_function("ill_conditioned")
    params = torch.tensor(START, dtype=torch.float64)
    state = opt.init(params)
    states = [state]
    for _ in range(steps):
        params, state = opt.step(params, fn.grad(params), state)
        states.append(state)
    return states


@pytest.mark.parametrize("opt", [
    optviz.momentum(lr=0.05, momentum=0.9), optviz.nesterov(lr=0.05), optviz.adagrad(lr=0.4),
    optviz.rmsprop(lr=0.01, momentum=0.5, centered=True), optviz.adam(lr=0.1),
], ids=["momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_the_recorded_state_is_the_state_the_step_functions_hold(opt):
    result = optviz.simulate("ill_conditioned", {"o": opt}, START, STEPS, state=True)
    recorded = result.state["o"]
    held = by_hand(opt)
    fields = [name for name, value in held[-1]._asdict().items() if isinstance(value, torch.Tensor)]
    assert sorted(recorded) == sorted(fields)
    for t, state in enumerate(held):
        for name in fields:
            value = getattr(state, name)
            if value is None:  # SGD's buffer before the first step
                assert torch.isnan(recorded[name][t]).all()
            else:
                assert torch.equal(recorded[name][t], value), (name, t)


def test_torch_optimizers_state_is_read_by_their_keys_batched_and_per_start():
    sources = {"adam": optviz.torch_optimizer(torch.optim.Adam, lr=0.1), "muon": torch.optim.Muon}
    result = optviz.simulate("ill_conditioned", sources, START, 3, state=True)
    own = optviz.simulate("ill_conditioned", {"o": optviz.adam(lr=0.1)}, START, 3, state=True)
    assert result.modes == {"adam": "batched", "muon": "per-start (1 x 2 matrix)"}
    assert set(result.state["adam"]) == {"exp_avg", "exp_avg_sq"}
    assert torch.equal(result.state["adam"]["exp_avg_sq"][1:], own.state["o"]["exp_avg_sq"][1:])
    assert torch.isnan(result.state["adam"]["exp_avg_sq"][0]).all()  # torch keeps none before the first step
    fn = optviz.get_function("ill_conditioned")
    for i, start in enumerate(START):  # Muon by hand, one instance per start
        param = torch.tensor([start], dtype=torch.float64, requires_grad=True)
        muon = torch.optim.Muon([param])
        for t in range(1, 4):
            param.grad = fn.grad(param.detach().reshape(-1)).reshape(1, 2)
            muon.step()
            assert torch.equal(result.state["muon"]["momentum_buffer"][t, i], muon.state[param]["momentum_buffer"][0])


def test_glyph_vectors_follow_their_formulas():
    lr, b2, eps = 0.1, 0.999, 1e-8
    result = optviz.simulate("ill_conditioned", {"m": optviz.momentum(lr=0.05), "a": optviz.adam(lr=lr),
                                                 "g": optviz.adagrad(lr=0.4)}, START, STEPS, state=True)
    found = state_vectors(result)
    buf = result.state["m"]["momentum_buffer"].numpy()
    assert np.array_equal(found.velocity[1:, :2], -0.05 * buf[1:])
    v = result.state["a"]["exp_avg_sq"].numpy()
    t = np.arange(STEPS + 1)[:, None, None]
    with np.errstate(invalid="ignore"):  # row 0, before the first step: 0 / 0
        expected = lr / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(found.step_size[1:, 2:4], expected[1:], rtol=1e-14)
    total = result.state["g"]["sum"].numpy()
    np.testing.assert_allclose(found.step_size[1:, 4:], 0.4 / (np.sqrt(total[1:]) + 1e-10), rtol=1e-14)
    fn = result.function
    np.testing.assert_allclose(found.gradient[:, 2:4], -lr * fn.grad(result.positions[:, 2:4]).numpy(), rtol=1e-14)
    positions = result.positions.numpy()
    assert np.array_equal(found.taken[:-1], positions[1:] - positions[:-1]) and np.isnan(found.taken[-1]).all()
    assert np.isnan(found.velocity[0]).all() and np.isnan(found.velocity[:, 2:]).all()
    # Adam's first step: lr in each coordinate, the step size the inverse of the gradient's size
    assert found.step_size[1, 2] == pytest.approx([0.1, 0.0125], rel=1e-6)


def test_glyphs_never_overlap_and_the_scale_is_stated():
    result = optviz.simulate("ill_conditioned", {"m": optviz.momentum(lr=0.6, momentum=0.5), "a": optviz.adam(lr=0.5)},
                             [-5, -2], 40, state=True)
    fig = picture(result, state="both", size=(960, 540))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    points = {}
    for artist in fig.axes[0].patches:
        gid = artist.get_gid() or ""
        if gid.startswith("state:"):
            _, path, step, _ = gid.split(":")
            box = artist.get_window_extent(renderer)
            points.setdefault((path, step), []).append(box)
    assert len(points) >= 4
    boxes = [matplotlib.transforms.Bbox.union(found) for found in points.values()]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    caption = next(t.get_text() for t in fig.texts if t.get_gid() == "state:caption")
    assert "velocity" in caption and "ellipses" in caption and "gradient" in caption and "step taken" in caption
    plt.close(fig)


def test_a_glyph_that_would_leave_the_frame_is_left_out():
    from optviz.render.glyphs import Scales, candidates, kinds_of, vectors

    # momentum's velocities on Rosenbrock's wall, ten times their size: many would reach outside a frame around the path
    result = optviz.simulate("rosenbrock", {"m": optviz.momentum(lr=1e-3)}, [-1.5, 2], 200, state=True)
    positions = result.positions.numpy()
    box = (positions[:, 0, 0].min(), positions[:, 0, 0].max(), positions[:, 0, 1].min(), positions[:, 0, 1].max())
    found = vectors(result, "state")
    glyphs = [g for here in candidates(found, kinds_of("state"), [0], Scales(velocity=10.0), positions, box).values()
              for g in here]
    velocities = found.velocity[1:, 0] * 10
    tips = positions[1:, 0] + velocities
    inside = (tips[:, 0] >= box[0]) & (tips[:, 0] <= box[1]) & (tips[:, 1] >= box[2]) & (tips[:, 1] <= box[3])
    assert 10 <= len(glyphs) == int(inside.sum()) < len(tips)  # every glyph that stays in, none that would leave
    for g in glyphs:
        (x, y), (dx, dy) = g.centre, g.vector
        assert box[0] <= x + dx <= box[1] and box[2] <= y + dy <= box[3]


def test_no_glyph_covers_a_marked_minimum():
    # Adam passes right over the minimum at (0, 0): its ellipse there would hide the star
    result = optviz.simulate("ill_conditioned", {"adam": optviz.adam(lr=0.2)}, [-5, -2], 40, state=True)
    fig = picture(result, state=True, size=(960, 540))
    fig.canvas.draw()
    renderer, ax = fig.canvas.get_renderer(), fig.axes[0]
    star = ax.transData.transform([[0.0, 0.0]])[0]
    glyphs = [a.get_window_extent(renderer) for a in ax.patches if (a.get_gid() or "").startswith("state:")]
    assert len(glyphs) >= 5
    assert not any(box.padded(4).contains(*star) for box in glyphs)
    plt.close(fig)


def test_an_optimizer_with_no_drawable_state_draws_the_rest_and_says_which():
    result = optviz.simulate("ill_conditioned", {"plain": optviz.sgd(lr=0.1), "nadam": torch.optim.NAdam,
                                                 "m": optviz.momentum(lr=0.05)}, [-5, -2], 10, state=True)
    with pytest.warns(StateWarning, match=r"^state: plain, nadam keep no state optviz can draw; drawn without it$"):
        fig = picture(result, state=True)
    drawn = {a.get_gid().split(":")[1] for a in fig.axes[0].patches if (a.get_gid() or "").startswith("state:")}
    assert drawn == {str(result.index("m"))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picture(result, state="gradient")  # every optimizer has a gradient: nothing to say


@pytest.mark.parametrize("bad, error", [("arrows", ValueError), (2, TypeError)])
def test_bad_state_values_are_one_line(bad, error):
    with pytest.raises(error, match="state") as caught:
        check_state(bad)
    assert "\n" not in str(caught.value)


def test_fast_mode_runs_exact_when_state_is_asked(recwarn):
    result = optviz.simulate("sphere", optviz.momentum(lr=0.1), [1.0, 1.0], 3, fast=True, state=True)
    assert "fast mode: it keeps no optimizer state; running in exact mode" in str(recwarn.pop().message)
    assert result.modes == {next(iter(result.optimizers)): "batched"} and result.state


def test_cli_state_writes_glyphs_and_refuses_bad_values(tmp_path):
    runner = CliRunner()
    png = tmp_path / "state.png"
    args = ["compare", "ill_conditioned", "momentum:lr=0.05", "sgd:lr=0.1", "--steps", "24", "--start", "-5,-1",
            "--size", "640x360"]
    done = runner.invoke(main, [*args, "--state", "--png", str(png)])
    assert done.exit_code == 0, done.output
    assert done.stderr.strip().splitlines() == ["state: SGD lr=0.1 keeps no state optviz can draw; drawn without it"]
    plain = tmp_path / "plain.png"
    assert runner.invoke(main, [*args, "--png", str(plain)]).exit_code == 0
    with_glyphs, without = (np.asarray(Image.open(p).convert("RGB")).astype(int) for p in (png, plain))
    assert with_glyphs.shape == without.shape == (360, 640, 3)
    changed = np.abs(with_glyphs - without).sum(axis=-1) > 60
    assert changed.sum() > 200  # the arrows (and the line that says what they are)
    bad = runner.invoke(main, [*args, "--state", "arrows", "--png", str(tmp_path / "x.png")])
    assert bad.exit_code == 2 and "'arrows' is not one of 'state', 'gradient', 'both'" in bad.output
    assert not (tmp_path / "x.png").exists()


def test_a_scenario_state_key_is_checked(tmp_path):
    from optviz.documents.scenario import ScenarioError, load

    path = tmp_path / "s.toml"
    path.write_text('function = "sphere"\nsteps = 3\n[[optimizers]]\nname = "adam"\n[outputs]\nstate = "arrows"\n')
    with pytest.raises(ScenarioError, match=r"outputs.state: expected true, false or one of 'state', 'gradient', "
                                            r"'both', 'stability', got 'arrows'"):
        load(path)
    path.write_text(path.read_text().replace('"arrows"', "true"))
    scenario = load(path)
    assert scenario.outputs.state == "state" and set(scenario.run().state) == set(scenario.optimizers)


def test_the_gif_draws_the_state_at_the_moving_head(tmp_path):
    from PIL import ImageSequence

    from optviz.render import animate, gif
    from optviz.render.style import get_theme, screen_size

    result = optviz.simulate("ill_conditioned", {"m": optviz.momentum(lr=0.05)}, [-5, -1], 24, state=True)
    path = tmp_path / "state.gif"
    assert animate(result, path, state=True, size=(640, 360), poster=False).frames == 25  # one frame a step
    frames = {True: [np.asarray(f.convert("RGB")).astype(int) for f in ImageSequence.Iterator(Image.open(path))]}
    # the same film without the state: the frames it draws then
    film = gif._Film(result, "single", get_theme("light"), screen_size((640, 360), None, None), None, state="state")
    glyphs, film.glyphs = film.glyphs, None
    plain = Image.open(io.BytesIO(film.encode(list(range(25)), gif.TRANSPARENT, gif._Timing(6.0, 1.5, 0.0, 0))))
    frames[None] = [np.asarray(f.convert("RGB")).astype(int) for f in ImageSequence.Iterator(plain)]
    film.glyphs = glyphs
    for step in (6, 12):
        changed = np.argwhere(np.abs(frames[True][step] - frames[None][step]).sum(axis=-1) > 60)
        head = film.comets[0].head(step)[::-1]  # (row, column)
        arrow = float(np.hypot(*film.glyphs.at(0, step)[0].vector)) * (640 / 6)  # at most: the frame is over 6 wide
        assert len(changed) > 40
        assert np.hypot(*(changed - head).T).max() < arrow + 12  # all of it at the head, none elsewhere


def test_the_page_carries_the_state_per_point_and_draws_it_at_the_head(tmp_path):
    import json
    import re

    from optviz.render.glyphs import HeadGlyphs
    from optviz.render.page import html_page

    result = optviz.simulate("ill_conditioned", {"m": optviz.momentum(lr=0.05), "a": optviz.adam(lr=0.2)}, [-5, -1],
                             24, state=True)
    text = html_page(result, tmp_path / "state.html", state=True, size=(640, 360))
    data = json.loads(re.search(r'class="optviz-data">(.*?)</script>', text).group(1))
    axes = data["axes"]
    glyphs = HeadGlyphs(result, "state", axes["width"] / (axes["x"][1] - axes["x"][0]), axes["width"])
    for b in range(2):
        for t in (0, 1, 12, 24):
            assert data["state"]["paths"][b][t] == [[g.kind, *g.vector] for g in glyphs.at(b, t)]
    assert data["state"]["paths"][0][12][0][0] == "velocity" and data["state"]["paths"][1][12][0][0] == "step_size"
    assert data["state"]["legend"] in data["notes"]
    alone = html_page(result.select(["m"]), tmp_path / "momentum.html", state=True, size=(640, 360))
    notes = json.loads(re.search(r'class="optviz-data">(.*?)</script>', alone).group(1))["state"]["legend"]
    assert "velocity" in notes and "ellipses" not in notes  # what this page draws, no more


@PAGE
def test_the_page_draws_the_state_at_the_moving_point_in_a_browser(browser, tmp_path):
    from optviz.render.page import html_page

    result = optviz.simulate("ill_conditioned", {"m": optviz.momentum(lr=0.05)}, [-5, -1], 24, state=True)
    inked = {}
    for state in (True, None):
        target = tmp_path / f"{state}.html"
        html_page(result, target, state=state, size=(640, 360))
        browser.get(target.as_uri())
        inked[state] = browser.execute_script("""
            const api = window.optviz; api.setStep(12);
            const [u, v] = api.toPixel(api.paths[0].points[12]);
            const canvas = document.querySelector("canvas"), ctx = canvas.getContext("2d");
            const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            const near = [], far = [];
            for (let y = 0; y < canvas.height; y++) for (let x = 0; x < canvas.width; x++) {
              if (pixels[4 * (y * canvas.width + x) + 3] === 0) continue;
              (Math.hypot(x - u, y - v) < 60 ? near : far).push(1);
            }
            return [near.length, far.length];""")
    assert inked[True][0] > inked[None][0] + 40  # the arrow's ink at the moving point
    assert inked[True][1] == inked[None][1]  # and nowhere else
    assert console_errors(browser) == []
