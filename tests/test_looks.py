"""How the pictures look, measured as a lecturer would judge them on a 16:9 slide: every path
visible, no text over text or over the paths, equal units on both axes, every path colour
readable on the landscape under it; for every kind of still and every gallery picture."""

import matplotlib.pyplot as plt
import pytest
import torch

import bundled_runs
import optviz
from groups import BUNDLED_RUNS
from looks import (aspect_error, bar_label_gaps, data_share, empty_cells, held, ink_under_text, legend_clashes,
                   legend_texts, minima_under_labels, outside_figure, paths_under_labels, text_collisions, title_margins,
                   visible_shares, worst_contrast)
from optviz import render
from optviz.documents.gallery import stills
from optviz.documents.scenario import Scenario

MIN_VISIBLE = 0.2  # of a path's own pixels, still seen in the whole picture
MAX_UNDER_TEXT = 0.05  # of a path's pixels, covered by text
MIN_BAR_LABEL_GAP = 6.0  # points between a colour bar's label and its tick labels
MIN_TITLE_MARGIN = 12.0  # points between a figure title and the figure's sides
MIN_DATA = {1: 0.65, "grid": 0.55}  # of a slide's area, the axes' (panels and colour bars): one panel, several
# The stills that do not yet give their data that much of the slide, at (a hundredth under)
# the share they have now: none may lose room, and every other still must reach MIN_DATA. The small
# multiples 10 and 19 lose most to their panels' two-line titles (19: five wide frames in a 3 + 2 grid),
# the 3D surface to its perspective box, the regularization picture to a legend of eight long entries
# beside a frame of its own shape.
SHORT_OF_ROOM = {
    "10-six-optimizers": 0.47, "11-rosenbrock-surface": 0.28, "18-l1-l2-penalties-regularization": 0.24,
    "19-weight-decay": 0.36,
    "22-loss-landscape": 0.62,  # a line under the axes says how far the slice can be trusted
    "28-muon-low-rank": 0.6,  # the principal plane's heading takes two lines under the title
}


def six():
    return optviz.simulate("ill_conditioned", {
        "sgd": optviz.sgd(lr=0.4), "momentum": optviz.momentum(lr=0.6, momentum=0.5),
        "nesterov": optviz.nesterov(lr=0.3, momentum=0.5), "adagrad": optviz.adagrad(lr=2.0),
        "rmsprop": optviz.rmsprop(lr=0.1, alpha=0.9), "adam": optviz.adam(lr=0.5)}, starts=[-5, -2], steps=60)


def same_twice():
    # weight decay and the L2 penalty: the same path to the pixel, drawn twice
    fn = optviz.get_function("rosenbrock")
    from optviz.analyses.penalties import l2, penalised

    return optviz.simulate(fn, {"decay": optviz.momentum(lr=1e-3, weight_decay=0.1),
                                "penalty": penalised(optviz.momentum(lr=1e-3), l2(0.1)),
                                "adam": optviz.adam(lr=0.05)}, steps=400)


STILLS = {
    "paths, six from one start": lambda: render.plot(six()).figure,
    "paths, the same path twice": lambda: render.plot(same_twice()).figure,
    "paths, a runaway path": lambda: render.plot(optviz.simulate(
        "ill_conditioned", {"a": optviz.sgd(lr=0.4), "b": optviz.sgd(lr=0.6)}, steps=20)).figure,
    "paths, several starts": lambda: render.plot(optviz.simulate(
        "himmelblau", optviz.adam(lr=0.1), starts=[[-0.5, -0.5], [0.5, 0.5], [-1, 1], [1, -4], [-4, 0]],
        steps=200)).figure,
    "small multiples": lambda: render.picture(six()),
    "1D curve": lambda: render.plot(optviz.simulate(
        "parabola", {"a": optviz.sgd(lr=0.2), "b": optviz.sgd(lr=0.05), "c": optviz.sgd(lr=1.1)}, steps=10)).figure,
    "loss": lambda: render.plot(six(), "loss").figure,
    "surface": lambda: render.plot(six(), "surface").figure,
}


@pytest.mark.parametrize("name", list(STILLS))
def test_every_still_looks_finished(name):
    """No text over text; on a paths picture every path visible and clear of text; on a 2D one
    equal units on both axes and every path's colour readable on the landscape under it.
    Each still is drawn once for all of it."""
    fig = STILLS[name]()
    with held(fig):
        assert text_collisions(fig) == []
        if name.startswith(("paths", "small", "1D")):
            shares = visible_shares(fig)
            assert shares and min(shares.values()) >= MIN_VISIBLE, shares
            assert max(ink_under_text(fig).values()) <= MAX_UNDER_TEXT
        if name.startswith(("paths", "small")):
            result = six() if "six" in name or "small" in name else None
            for ax in fig.axes:
                if ax.get_visible() and ax.get_aspect() == 1.0:
                    assert aspect_error(ax) < 0.01
                    if result is not None:
                        assert min(worst_contrast(ax, result).values()) >= 3.0


def test_a_path_drawn_twice_says_so():
    fig = STILLS["paths, the same path twice"]()
    labels = legend_texts(fig)
    assert any("same path as" in label for label in labels), labels


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_contrast_holds_in_both_themes(theme):
    ax = render.plot(six(), theme=theme)
    assert min(worst_contrast(ax, six()).values()) >= 3.0


@BUNDLED_RUNS  # the runs test_captions checks, run once for both
@pytest.mark.parametrize("scenario_name", bundled_runs.NAMES)
def test_gallery_pictures(scenario_name):
    scenario, outcome = bundled_runs.scenario(scenario_name), bundled_runs.outcome(scenario_name)
    for name, fig in stills(scenario, outcome).items():
        with held(fig):
            assert fig.get_size_inches().tolist() == pytest.approx([40 / 3, 7.5]), name
            assert text_collisions(fig) == [], name
            assert outside_figure(fig) == [], name
            assert legend_clashes(fig) == [], name
            assert min(bar_label_gaps(fig).values(), default=MIN_BAR_LABEL_GAP) >= MIN_BAR_LABEL_GAP, name
            assert title_margins(fig) >= MIN_TITLE_MARGIN, name
            assert _title_reads_as_one(fig), name
            assert empty_cells(fig) == 0, name
            panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
            assert data_share(fig) >= SHORT_OF_ROOM.get(name, MIN_DATA[1 if len(panels) == 1 else "grid"]), name
            assert minima_under_labels(fig) == [], name
            assert max(paths_under_labels(fig).values(), default=0.0) <= MAX_UNDER_TEXT, name
            if isinstance(scenario, Scenario) and (name == scenario.name or name.endswith("-grid")):
                shares = visible_shares(fig)
                assert min(shares.values()) >= MIN_VISIBLE, (name, shares)
                assert max(ink_under_text(fig).values()) <= MAX_UNDER_TEXT, name
                for ax in fig.axes:
                    if ax.get_visible() and ax.get_aspect() == 1.0:
                        assert aspect_error(ax) < 0.01, name
                        if scenario.function.dim == 2:
                            assert min(worst_contrast(ax, outcome).values()) >= 3.0, name
        plt.close(fig)


def test_the_measures_of_room_and_cover_see_what_they_measure():
    fig = render.picture(optviz.simulate("quadratic", optviz.sgd(lr=0.1), steps=20))
    ax = fig.axes[0]
    with held(fig):
        assert empty_cells(fig) == 0 and 0.6 < data_share(fig) < 1
        assert paths_under_labels(fig) == {0: 0.0} and minima_under_labels(fig) == []
    legend = ax.get_legend()
    legend.set_loc("center")  # over the path's middle
    ax.text(0, 0, "over the minimum", ha="center", va="center")
    with held(fig):
        assert paths_under_labels(fig)[0] > 0.05 and minima_under_labels(fig) == [(0.0, 0.0)]
    fig.axes[0].set_visible(False)
    with held(fig):
        assert empty_cells(fig) == 1


def _title_reads_as_one(fig):
    """The figure's title is set no smaller than its axes' titles: it does not read as a footnote."""
    title = fig._suptitle
    sizes = [ax.title.get_fontsize() for ax in fig.axes if ax.get_visible() and ax.title.get_text()]
    return title is None or not sizes or title.get_fontsize() >= max(sizes)
