"""Pictures that drop into a slide: their pixels and dpi read back, their size and scale,
SVG text a slide program can show and edit, backgrounds and transparency in every format,
and bundled scenarios restyled from the command line."""

import base64
import io
import json
import re
import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import optviz
from optviz import render
from optviz.documents.gallery import MANIFEST, build
from optviz.documents.scenario import ScenarioError, find, load, restyled
from optviz.interface.cli import main
from optviz.render.style import FONT_STACK, SIZES, get_size, screen_size
from optviz.render.typeset import formula_text, power_of_ten

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def rosen():
    return optviz.simulate("rosenbrock", {"sgd": optviz.sgd(lr=1e-3), "adam": optviz.adam(lr=0.05)}, steps=60)


@pytest.fixture(scope="module")
def decades():
    # losses over several decades: a log axis
    return optviz.simulate("ill_conditioned", {"sgd": optviz.sgd(lr=0.4), "adam": optviz.adam(lr=0.5)},
                           starts=[-5, -2], steps=60)


def inches(path):
    image = Image.open(path)
    dpi = image.info["dpi"]
    return image.size, (image.size[0] / dpi[0], image.size[1] / dpi[1])


# --- size, dpi and scale ----------------------------------------------------------------------

def test_the_slide_is_1080p_and_drops_into_a_16_9_slide_exactly(rosen, tmp_path):
    (pixels, (width, height)) = inches(render.save(render.picture(rosen), tmp_path / "s.png"))
    assert pixels == (1920, 1080)
    assert width == pytest.approx(40 / 3, abs=2e-3) and height == pytest.approx(7.5, abs=2e-3)  # pHYs is per metre


def test_full_slide_text_is_at_least_18_points(rosen):
    fig = render.picture(rosen, title="A title")
    fig.draw_without_rendering()
    sizes = [t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_visible() and t.get_text().strip()]
    assert len(sizes) > 10 and min(sizes) >= 18
    assert tuple(fig.get_size_inches()) == pytest.approx((40 / 3, 7.5))


def test_dpi_gives_more_pixels_with_the_same_look(rosen, tmp_path):
    normal = render.picture(rosen)
    sharp = render.picture(rosen, dpi=288)
    assert inches(render.save(normal, tmp_path / "normal.png"))[0] == (1920, 1080)
    (pixels, size) = inches(render.save(sharp, tmp_path / "sharp.png"))
    assert pixels == (3840, 2160) and size == pytest.approx((40 / 3, 7.5), abs=2e-3)
    # the same layout: every axes where it was, as a share of the figure, as each was saved
    for a, b in zip(normal.axes, sharp.axes):
        assert np.allclose(a.get_position().bounds, b.get_position().bounds, atol=3e-3)  # text snaps to pixels
    # and save(dpi=) says the same of a figure made at the slide's dpi
    assert inches(render.save(normal, tmp_path / "again.png", dpi=288))[0] == (3840, 2160)


def test_scale_grows_text_lines_markers_and_arrowheads_together(rosen):
    def measured(scale):
        fig = render.plot(rosen, scale=scale).figure
        fig.canvas.draw()
        ax = fig.axes[0]
        text = max(t.get_window_extent().height for t in ax.get_xticklabels() if t.get_text())
        # the top path's: one under it is drawn wider (its rim) where thicker lines come to hide it
        top = max((line for line in ax.lines if (line.get_gid() or "").startswith("path:")), key=lambda l: l.get_zorder())
        own = [line for line in ax.lines if line.get_gid() == top.get_gid()]
        line = top.get_linewidth() * fig.dpi / 72
        marker = max(line.get_markersize() * fig.dpi / 72 for line in own)
        arrows = [a.arrow_patch.get_mutation_scale() * fig.dpi / 72 for a in ax.texts if a.get_gid() == top.get_gid()
                  and getattr(a, "arrow_patch", None) is not None]
        return text, line, marker, max(arrows), fig.canvas.get_width_height()

    one, two = measured(1), measured(2)
    assert one[4] == two[4] == (1920, 1080)  # the same pixels
    for a, b in zip(one[:4], two[:4]):
        assert b / a == pytest.approx(2, rel=0.08)


def test_a_pixel_size_is_laid_out_as_the_slide_in_proportion():
    slide, small, big = get_size("slide"), get_size((1280, 720)), get_size((3840, 2160))
    assert (small.width, small.height, small.dpi) == (1280, 720, 144)  # the pixels asked for, the slide's dpi tag
    assert small.figsize == pytest.approx(slide.figsize) == big.figsize  # the same inches: the same look
    assert get_size((1920, 1080), dpi=300).figsize == pytest.approx(slide.figsize)  # dpi only tags it


def test_gifs_and_pages_are_a_screens_size():
    assert (screen_size("slide").width, screen_size("slide").height) == (1280, 720)
    assert screen_size("slide").figsize == pytest.approx(SIZES["slide"].figsize)
    assert (screen_size("slide", dpi=144).width, screen_size((800, 450)).width) == (1920, 800)


@pytest.mark.parametrize("call,message", [
    (lambda: get_size("slide", dpi=0), "dpi must be a number from 10 to 2400, got 0"),
    (lambda: get_size("slide", dpi=float("nan")), "dpi must be a number from 10 to 2400, got nan"),
    (lambda: get_size("slide", scale=9), "scale must be a number from 0.25 to 8, got 9"),
    (lambda: get_size("slide", scale=True), "scale must be a number from 0.25 to 8, got True"),
    (lambda: get_size("slide", dpi=1000), "size must be between 64 and 10000 pixels a side, got 13333x7500 (at dpi 1000)"),
    (lambda: render.figure(background="nocolour"), "unknown colour 'nocolour'"),
])
def test_bad_looks_are_refused_in_one_line(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# --- SVG text ---------------------------------------------------------------------------------

def svg_texts(path):
    root = ET.parse(path).getroot()
    return [(("".join(t.itertext())), t) for t in root.iter(f"{SVG}text")]


def test_svg_text_is_whole_editable_runs_in_a_font_stack(rosen, decades, tmp_path):
    paths = render.save(render.picture(rosen, title="Rosenbrock's valley"), tmp_path / "paths.svg")
    loss = render.save(render.plot(decades, "loss").figure, tmp_path / "loss.svg")
    for path in (paths, loss):
        assert "tspan" not in path.read_text()  # no glyph-by-glyph mathtext
        for text, element in svg_texts(path):
            assert len(list(element)) == 0
            family = re.search(r"font-family: ([^;]+)", element.get("style")).group(1)
            assert all(f"'{name}'" in family for name in FONT_STACK) and family.endswith("sans-serif"), family
    titles = [text for text, _ in svg_texts(paths)]
    assert "Rosenbrock    (1−x)² + 100(y−x²)²" in titles and "Rosenbrock's valley" in titles
    assert {"10⁻³", "10⁻²", "10⁰"} <= {text for text, _ in svg_texts(loss)}  # the log axis, as text


def test_colour_bars_in_powers_of_ten_are_plain_text(tmp_path):
    ax = render.contour(optviz.get_function("rosenbrock"))
    texts = {text for text, _ in svg_texts(render.save(ax.figure, tmp_path / "p.svg"))}
    assert {"10⁰", "10¹", "10²", "10³"} <= texts


def test_formulas_read_as_text():
    assert formula_text("x**2 - 3*x*y + y^-1") == "x² − 3·x·y + y⁻¹"
    assert formula_text("-20e^(-0.2x)") == "−20exp(−0.2x)"
    assert power_of_ten(-12) == "10⁻¹²"


def test_paper_vector_files_keep_the_fill_at_the_pngs_resolution(rosen, tmp_path):
    fig = render.picture(rosen, size="paper")
    svg = render.save(fig, tmp_path / "p.svg").read_text()
    png = Image.open(render.save(fig, tmp_path / "p.png"))
    assert png.size == (1050, 750) and png.info["dpi"][0] == pytest.approx(300, abs=0.01)
    fill = re.search(r"<image[^>]*>", svg, re.S).group(0)
    shown = float(re.search(r' width="([\d.]+)"', fill).group(1))  # points, 72 an inch
    data = re.search(r'base64,([^"]+)"', fill).group(1)
    pixels = Image.open(io.BytesIO(base64.b64decode(data))).size[0]
    assert pixels / (shown / 72) == pytest.approx(300, rel=0.02)


# --- backgrounds and transparency -------------------------------------------------------------

def test_a_background_colour_fills_the_picture_and_transparent_none(rosen, tmp_path):
    black = Image.open(render.save(render.picture(rosen, theme="dark", background="black"), tmp_path / "b.png"))
    assert black.convert("RGB").getpixel((1, 1)) == (0, 0, 0)
    clear = Image.open(render.save(render.picture(rosen, transparent=True), tmp_path / "c.png"))
    assert clear.mode == "RGBA" and clear.getpixel((1, 1))[3] == 0
    # the landscape itself stays opaque
    assert clear.getpixel((clear.width // 2, clear.height // 2))[3] == 255


def test_a_transparent_gif_shows_through_where_its_background_was(rosen, tmp_path):
    gif = render.animate(rosen, tmp_path / "t.gif", theme="dark", transparent=True, max_frames=20)
    opaque = render.animate(rosen, tmp_path / "o.gif", theme="dark", background="black", max_frames=20)
    with Image.open(gif.path) as image:
        assert image.info["transparency"] == 254 and image.size == (1280, 720)
        first = np.asarray(image)
        assert first[1, 1] == 254 and 0.1 < (first == 254).mean() < 0.9
        image.seek(image.n_frames - 1)
        last = np.asarray(image.convert("RGBA"))
        assert last[1, 1, 3] == 0 and last[360, 640, 3] == 255  # the corner clear, the landscape not
        corner = last[-20:, -150:, 3]
        assert (corner == 255).all()  # the step counter sits on its plate
    with Image.open(opaque.path) as image:
        assert "transparency" not in image.info
        assert image.convert("RGB").getpixel((1, 1)) == (0, 0, 0)


def test_the_page_takes_the_background_and_transparency(rosen):
    def background(page):
        return re.search(r'<body style="margin: 0; background: ([^;]+);', page).group(1)

    def picture(page):
        data = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page).group(1)
        return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGBA")

    black = render.html(rosen, theme="dark", background="#000000")
    clear = render.html(rosen, transparent=True)
    assert background(black) == "#000000" and picture(black).getpixel((1, 1)) == (0, 0, 0, 255)
    assert background(clear) == "transparent" and picture(clear).getpixel((1, 1))[3] == 0


# --- scenarios and the command line -----------------------------------------------------------

def test_a_scenario_takes_dpi_scale_and_background(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('function = "rosenbrock"\n[[optimizers]]\nname = "adam"\nlr = 0.05\n'
                    '[outputs]\ndpi = 72\nscale = 1.5\nbackground = "black"\ntransparent = true\n')
    out = load(path).outputs
    assert (out.dpi, out.scale, out.background, out.transparent) == (72.0, 1.5, "#000000", True)
    for line, message in [("dpi = 5", "outputs.dpi: must be between 10 and 2400, got 5"),
                          ("scale = 0", "outputs.scale: must be between 0.25 and 8, got 0"),
                          ('background = "nocolour"', "outputs.background: unknown colour 'nocolour'"),
                          ("dpi = 2000", "outputs.dpi: size must be between 64 and 10000 pixels a side")]:
        path.write_text(f'function = "rosenbrock"\n[[optimizers]]\nname = "adam"\n[outputs]\n{line}\n')
        with pytest.raises(ScenarioError, match=re.escape(message)):
            load(path)


def test_restyling_checks_what_it_is_given():
    scenario = load(find("rosenbrock"))
    assert restyled(scenario, theme="dark", svg=True).outputs.theme == "dark"
    with pytest.raises(ValueError, match="cannot restyle fps"):
        restyled(scenario, fps=3)
    with pytest.raises(ScenarioError, match="pixels a frame"):
        restyled(scenario, gif=True, size=(10_000, 10_000))


def test_run_restyles_a_bundled_scenario_without_editing_it(tmp_path):
    before = find("rosenbrock").read_bytes()
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", "rosenbrock", "--out", str(out), "--theme", "dark", "--background",
                                       "black", "--svg", "--no-gif", "--dpi", "72", "--scale", "1.5", "-q"])
    assert result.exit_code == 0, result.output
    assert find("rosenbrock").read_bytes() == before
    png = Image.open(out / "11-rosenbrock.png")
    assert png.size == (960, 540) and png.info["dpi"][0] == pytest.approx(72, abs=0.01)
    assert png.convert("RGB").getpixel((1, 1)) == (0, 0, 0)
    assert (out / "11-rosenbrock.svg").exists() and not (out / "11-rosenbrock.gif").exists()


@pytest.mark.parametrize("args,message", [
    (["--dpi", "0"], "Invalid value for --dpi: dpi must be a number from 10 to 2400, got 0.0"),
    (["--scale", "big"], "Invalid value for --scale: 'big' is not a number"),
    (["--background", "nocolour"], "Invalid value for --background: unknown colour 'nocolour'"),
    (["--size", "99999x10"], "Invalid value for --size: size must be between 64 and 10000 pixels a side"),
    (["--dpi", "2000"], "Invalid value for --dpi: size must be between 64 and 10000 pixels a side"),
])
@pytest.mark.parametrize("command", [["run", "rosenbrock"], ["gallery"], ["compare", "sphere", "sgd"]])
def test_bad_looks_on_the_command_line_are_one_line(tmp_path, command, args, message):
    result = CliRunner().invoke(main, [*command, "--out" if command[0] != "compare" else "--png",
                                       str(tmp_path / ("o" if command[0] != "compare" else "o.png")), *args])
    assert result.exit_code == 2 and message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_restyled_gallery_is_not_unchanged(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "s.toml").write_text('function = "sphere"\nsteps = 5\n[[optimizers]]\nname = "sgd"\nlr = 0.1\n')
    folder = tmp_path / "g"
    assert build([source / "s.toml"], folder, jobs=1)[1] == ["s"]
    assert build([source / "s.toml"], folder, jobs=1)[1] == []  # unchanged
    assert build([source / "s.toml"], folder, jobs=1, overrides={"theme": "dark"})[1] == ["s"]
    assert Image.open(folder / "s.png").convert("RGB").getpixel((1, 1)) == (13, 17, 23)  # the dark theme's
    assert "dark" in json.loads((folder / MANIFEST).read_text())["s"]["fingerprint"]
    assert build([source / "s.toml"], folder, jobs=1, overrides={"theme": "dark"})[1] == []
    assert build([source / "s.toml"], folder, jobs=1)[1] == ["s"]  # back to the file's own look
