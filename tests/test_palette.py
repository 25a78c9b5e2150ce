"""The palette measured as a reader sees it: the fill's lightness in CIE L*, every path's
contrast against every fill colour (WCAG), the distance between path colours for readers with
and without a red-green deficiency, one colour per optimizer across the gallery, and the
projector theme's type and lines at slide size."""

import functools
import itertools

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from matplotlib.colors import to_rgb

from optviz import render
from optviz.documents.scenario import Scenario, bundled, load
from optviz.interface.cli import main
from optviz.render.style import MIN_CONTRAST, THEMES, colours, contrast, get_size, get_theme, palette_slots, rc
import optviz

SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
WHITE = np.array([0.95047, 1.0, 1.08883])  # D65
# Machado, Oliveira and Fernandes (2009), full severity, on linear RGB
PROTANOPIA = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]])
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]])


@functools.cache
def six():
    return optviz.simulate("ill_conditioned", {
        "sgd": optviz.sgd(lr=0.4), "momentum": optviz.momentum(lr=0.6, momentum=0.5),
        "nesterov": optviz.nesterov(lr=0.3, momentum=0.5), "adagrad": optviz.adagrad(lr=2.0),
        "rmsprop": optviz.rmsprop(lr=0.1, alpha=0.9), "adam": optviz.adam(lr=0.5)}, starts=[-5, -2], steps=60)


def linear(rgb):
    rgb = np.asarray(rgb, dtype=float)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def lab(colour, seen_by=None):
    """CIE L*a*b* of a colour, as a reader with ``seen_by``'s deficiency would see it."""
    rgb = linear(to_rgb(colour) if isinstance(colour, str) else colour[:3])
    if seen_by is not None:
        rgb = np.clip(seen_by @ rgb, 0, 1)
    xyz = SRGB_TO_XYZ @ rgb / WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def difference(a, b, seen_by=None):
    """CIE76 colour difference: 2.3 is just noticeable, 20 or more reads as another colour."""
    return float(np.linalg.norm(lab(a, seen_by) - lab(b, seen_by)))


def fill_samples(theme):
    return THEMES[theme].colormap(np.linspace(0, 1, 256))[:, :3]


def test_lab_matches_known_values():
    assert lab("#ffffff") == pytest.approx([100, 0, 0], abs=0.01)
    assert lab("#000000") == pytest.approx([0, 0, 0], abs=0.01)
    assert lab("#808080")[0] == pytest.approx(53.59, abs=0.01)
    assert lab("#ff0000") == pytest.approx([53.24, 80.09, 67.20], abs=0.02)


@pytest.mark.parametrize("theme,darkest,lightest", [("light", 38, 97), ("projector", 38, 97), ("dark", 10, 34)])
def test_fill_lightness_rises_in_even_steps_from_dark_basins(theme, darkest, lightest):
    lightness = np.array([lab(rgb)[0] for rgb in fill_samples(theme)])
    assert lightness[0] == pytest.approx(darkest, abs=1.0) and lightness[-1] == pytest.approx(lightest, abs=1.0)
    assert (np.diff(lightness) > 0).all()  # darker at every lower value
    even = np.linspace(lightness[0], lightness[-1], len(lightness))
    assert np.abs(lightness - even).max() < 1.0  # perceptually even: L* on a straight line


@pytest.mark.parametrize("theme", list(THEMES))
def test_every_path_reads_against_every_fill_colour(theme):
    look = THEMES[theme]
    for colour, fill in itertools.product(look.palette, fill_samples(theme)):
        edge = contrast(look.casing, fill) if look.casing else 1.0
        assert max(contrast(colour, fill), edge) >= MIN_CONTRAST, (colour, fill)
    if look.casing:
        assert min(contrast(colour, look.casing) for colour in look.palette) >= MIN_CONTRAST
        assert min(contrast(look.casing, fill) for fill in fill_samples(theme)) >= MIN_CONTRAST


def test_light_fill_needs_the_casing():
    # no colour keeps 3:1 against both ends of a fill from L* 38 to 97: the casing is not decoration
    fill = fill_samples("light")
    assert all(min(contrast(colour, f) for f in fill) < MIN_CONTRAST for colour in THEMES["light"].palette)


@pytest.mark.parametrize("theme", list(THEMES))
def test_path_colours_are_far_apart_for_every_reader(theme):
    palette = THEMES[theme].palette
    for a, b in itertools.combinations(palette, 2):
        assert difference(a, b) >= 18, (a, b)
    # the six that share the six-optimizer lesson, as readers with protanopia and deuteranopia see them
    six_kinds = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
    together = colours(list(six_kinds), THEMES[theme])
    for a, b in itertools.combinations(together, 2):
        assert min(difference(a, b, PROTANOPIA), difference(a, b, DEUTERANOPIA)) >= 15, (a, b)


def test_light_palette_is_okabe_and_itos_for_the_six_built_ins():
    okabe_ito = {"#0072b2", "#009e73", "#56b4e9", "#f0e442", "#cc79a7", "#d55e00", "#e69f00", "#000000"}
    assert set(colours(["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"], THEMES["light"])) <= okabe_ito


@pytest.mark.parametrize("theme", ["light", "dark"])  # the projector's palette is the light one
def test_the_same_optimizer_has_the_same_colour_in_every_gallery_scenario(theme):
    look, seen = get_theme(theme), {}
    for path in bundled():
        scenario = load(path)
        if isinstance(scenario, Scenario):
            kinds = [optimizer.kind for optimizer in scenario.optimizers.values()]
            picked = colours(kinds, look)
            for kind in kinds:  # the first path of each kind (repeats take free colours)
                seen.setdefault(kind, set()).add(picked[kinds.index(kind)])
    slots = palette_slots()
    assert set(seen) >= set(slots)  # every built-in is in the gallery, torch's own too (24)
    assert all(len(found) == 1 for found in seen.values()), seen
    assert all(seen[kind] == {look.palette[slot]} for kind, slot in slots.items())


def _text_points_at_slide_size(fig):
    """Every visible text's size in points, as it is when the figure fills a 7.5 in tall slide."""
    fig.canvas.draw()
    grow = 7.5 / fig.get_size_inches()[1]
    texts = [t for t in fig.findobj(lambda a: hasattr(a, "get_fontsize") and hasattr(a, "get_text"))
             if t.get_visible() and t.get_text().strip()]
    return {t.get_text(): t.get_fontsize() * grow for t in texts}


@pytest.mark.parametrize("size", ["slide", "paper"])
def test_projector_text_is_at_least_18_points_on_a_slide(size):
    result = six()
    figures = [render.plot(result, theme="projector", size=size).figure,
               render.plot(result, "loss", theme="projector", size=size).figure,
               render.grid(result, theme="projector", size=size)]
    for fig in figures:
        sizes = _text_points_at_slide_size(fig)
        assert sizes and min(sizes.values()) >= 18, min(sizes.items(), key=lambda kv: kv[1])


def test_projector_type_and_lines_are_the_light_themes_larger():
    light, projector = rc(THEMES["light"], get_size("slide")), rc(THEMES["projector"], get_size("slide"))
    assert projector["font.size"] == pytest.approx(light["font.size"] * 1.15)
    assert projector["xtick.labelsize"] == pytest.approx(22 * 0.85 * 1.15)
    assert projector["lines.linewidth"] == pytest.approx(light["lines.linewidth"] * 1.5)
    assert THEMES["projector"].palette == THEMES["light"].palette and THEMES["projector"].fill == THEMES["light"].fill


def test_projector_paths_are_drawn_thicker_with_their_casing():
    light = render.plot(six(), theme="light")
    projector = render.plot(six(), theme="projector")
    width = {name: min(line.get_linewidth() for line in ax.lines if (line.get_gid() or "").startswith("path:"))
             for name, ax in (("light", light), ("projector", projector))}
    assert width["projector"] == pytest.approx(width["light"] * 1.5)
    cased = [line for line in projector.lines if (line.get_gid() or "").startswith("path:") and line.get_path_effects()]
    assert cased and all(line.get_path_effects()[0]._gc["foreground"] == "#000000" for line in cased)


def test_unknown_theme_is_one_line_and_exit_2_before_any_drawing(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["compare", "--theme", "projecter", "--png", str(out / "x.png")])
    assert result.exit_code == 2 and not out.exists()
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "'projecter' is not one of 'light', 'dark', 'projector'" in lines[0]
    scenario = tmp_path / "neon.toml"
    scenario.write_text('title = "t"\nfunction = "rosenbrock"\nstart = [-1, 1]\nsteps = 5\n'
                        '[[optimizers]]\nname = "sgd"\nlr = 0.001\n[outputs]\ntheme = "neon"\n')
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert result.output.strip() == (f"optviz: error: {scenario}: outputs.theme: expected one of light, dark, "
                                     "projector, got 'neon' (see 'main run --help')")
    with pytest.raises(ValueError, match="unknown theme 'projecter'.*projector"):
        render.plot(six(), theme="projecter")


@functools.cache
def valley():
    return optviz.simulate("rosenbrock", {"sgd": optviz.sgd(lr=1e-3), "adam": optviz.adam(lr=0.05)},
                           starts=[-1.2, 1.5], steps=150)


def test_surface_is_lit_labelled_in_plain_words_and_its_paths_are_seen(tmp_path):
    ax = render.plot(valley(), "surface", size=(1280, 720))
    bar = ax.figure.axes[-1]
    assert bar.get_ylabel() == "f  (log scale)"  # not a formula of logarithms
    assert [t.get_text() for t in ax.get_zticklabels()] == ["≤ 10⁰", "10¹", "10²"]
    faces = ax.collections[0].get_facecolor()
    assert len(np.unique(np.round(faces[:, :3], 3), axis=0)) > 5000  # shaded by the light, not the 9 fill colours
    path = render.save(ax.figure, tmp_path / "surface.png")
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    for kind in ("sgd", "adam"):
        colour = np.array([round(255 * v) for v in to_rgb(THEMES["light"].palette[palette_slots()[kind]])])
        assert (np.abs(rgb - colour).sum(axis=-1) < 24).sum() > 150, kind  # drawn over the surface, not under it


def test_the_page_edges_its_paths_with_the_themes_casing():
    light, dark = render.html(valley(), theme="light"), render.html(valley(), theme="dark")
    assert '"outline":"#000000"' in light  # as the stills: black under every path on the light fill
    assert f'"outline":"{THEMES["dark"].outline}"' in dark  # the dark theme has none: its background's halo


def test_level_lines_are_a_shade_darker_than_the_fill():
    ax = render.plot(valley())
    lines = next(c for c in ax.collections if c.get_alpha() and c.get_alpha() < 1 and not hasattr(c, "optviz_log"))
    ink, alpha = np.array(lines.get_edgecolor()[0][:3]), lines.get_alpha()
    for fill in fill_samples("light"):
        drawn = alpha * ink + (1 - alpha) * fill
        assert 3 <= lab(fill)[0] - lab(drawn)[0] <= 18  # seen, yet never louder than the paths
