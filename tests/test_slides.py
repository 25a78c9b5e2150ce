"""optviz slides: decks read back with python-pptx (size, one slide per picture, where each
picture sits, animated GIFs, titles, notes), the build-up's steps read back pixel by pixel,
and bad input refused in one line with nothing written. OPTVIZ_LIBREOFFICE=1 also renders a
deck with LibreOffice."""

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from optviz.documents import deck as deck_module
from optviz.documents.deck import ANIMATION, EDGE, SLIDE_HEIGHT, SLIDE_WIDTH, TITLE_HEIGHT, write_deck
from optviz.documents.scenario import find, load
from optviz.interface.cli import main
from optviz.render.kinds import PICTURES
from optviz.render.lessons import STEPS
from optviz.render.style import get_theme
from optviz.render.trajectories import path_colours
from groups import SLIDES

PLAIN = ("03-gd-2d-quadratic", "01-gd-1d-learning-rates")  # quick: 20 and 10 steps, a GIF each
BUILT_UP = ("05-momentum", "01-gd-1d-learning-rates")  # two optimizers on a plane, three on a curve
pytestmark = SLIDES  # the two decks, made once


def scenario(name):
    return load(find(name))


def slides_command(*args):
    return CliRunner().invoke(main, ["slides", *args])


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    path = tmp_path_factory.mktemp("plain") / "talk.pptx"
    out = slides_command(*PLAIN, "-o", str(path))
    assert out.exit_code == 0, out.output
    return path, out


@pytest.fixture(scope="module")
def built_up(tmp_path_factory):
    path = tmp_path_factory.mktemp("built") / "lecture.pptx"
    out = slides_command(*BUILT_UP, "--build-up", "-o", str(path))
    assert out.exit_code == 0, out.output
    return Presentation(path)


def pictures(slide):
    return [shape for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]


def notes(slide):
    return slide.notes_slide.notes_text_frame.text


def expected_captions(s):
    """What each picture of a scenario shows, in the order the deck puts them."""
    return [PICTURES[kind] for kind in s.outputs.kinds] + ([ANIMATION] if s.outputs.gif else [])


def test_the_deck_is_16_9_with_one_slide_per_picture_titled_and_noted(plain):
    path, out = plain
    deck = Presentation(path)
    assert (deck.slide_width, deck.slide_height) == (12_192_000, 6_858_000)  # 13.333 x 7.5 in
    assert deck.slide_width * 9 == deck.slide_height * 16
    wanted = [(scenario(name), caption) for name in PLAIN for caption in expected_captions(scenario(name))]
    assert len(deck.slides) == len(wanted) == 6
    assert out.output.strip() == f"wrote {path} (6 slides, {path.stat().st_size / 1e3:.0f} kB)"
    for slide, (s, caption) in zip(deck.slides, wanted):
        assert slide.shapes.title.text == s.title
        assert all(run.font.size.pt >= 18 for p in slide.shapes.title.text_frame.paragraphs for run in p.runs)
        assert notes(slide) == f"{s.description}\n\nThis slide: {caption}."
        (picture,) = pictures(slide)
        assert picture.image.content_type == ("image/gif" if caption == ANIMATION else "image/png")


def test_pictures_fill_the_room_under_the_title_aspect_kept_and_centred(plain):
    deck = Presentation(plain[0])
    for slide in deck.slides:
        title = slide.shapes.title
        assert title.left >= 0 and title.left + title.width <= SLIDE_WIDTH
        (picture,) = pictures(slide)
        width, height = Image.open(io.BytesIO(picture.image.blob)).size
        assert picture.left >= 0 and picture.left + picture.width <= SLIDE_WIDTH
        assert picture.top >= title.top + title.height and picture.top + picture.height <= SLIDE_HEIGHT
        assert picture.width / picture.height == pytest.approx(width / height, rel=1e-5)
        assert abs(picture.left + picture.width / 2 - SLIDE_WIDTH / 2) <= 1
        room_width, room_bottom = SLIDE_WIDTH - 2 * EDGE, SLIDE_HEIGHT - EDGE // 2
        fills_width = abs(picture.width - room_width) <= 1
        fills_height = abs(picture.top - (EDGE // 2 + TITLE_HEIGHT)) <= 1 and abs(picture.top + picture.height - room_bottom) <= 1
        assert fills_width or fills_height  # as large as fits


def frames(image):
    """Each frame's duration (ms), in order."""
    durations = []
    for k in range(image.n_frames):
        image.seek(k)
        durations.append(image.info["duration"])
    return durations


def test_the_animation_is_embedded_whole_and_plays(plain, tmp_path):
    deck = Presentation(plain[0])
    gifs = [p for slide in deck.slides for p in pictures(slide) if p.image.content_type == "image/gif"]
    assert len(gifs) == 2
    for gif in gifs:
        image = Image.open(io.BytesIO(gif.image.blob))
        assert image.format == "GIF" and image.n_frames > 1 and image.info.get("loop") == 0
    # every frame of the GIF optviz run draws for the scenario, at its pace
    out = CliRunner().invoke(main, ["run", PLAIN[0], "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    drawn = Image.open(tmp_path / f"{PLAIN[0]}.gif")
    assert frames(Image.open(io.BytesIO(gifs[0].image.blob))) == frames(drawn)


def test_build_up_tells_each_scenario_in_five_steps_before_its_pictures(built_up):
    slides = list(built_up.slides)
    for name in BUILT_UP:
        s = scenario(name)
        steps, slides = slides[: len(STEPS)], slides[len(STEPS):]
        for k, (slide, caption) in enumerate(zip(steps, STEPS.values()), start=1):
            assert slide.shapes.title.text == s.title
            assert notes(slide) == f"{s.description}\n\nThis slide: step {k} of 5: {caption}."
        rest = len(expected_captions(s))
        assert [notes(slide).rsplit("This slide: ", 1)[1] for slide in slides[:rest]] == [
            f"{caption}." for caption in expected_captions(s)]
        slides = slides[rest:]
    assert not slides


def step_images(deck, first):
    return [np.asarray(Image.open(io.BytesIO(pictures(slide)[0].image.blob)).convert("RGB")).astype(int)
            for slide in list(deck.slides)[first:first + len(STEPS)]]


def ink(image, colour):
    """How many pixels are the colour (within antialiasing's reach of it)."""
    rgb = np.array(Image.new("RGB", (1, 1), colour).getpixel((0, 0)))
    return int((np.abs(image - rgb).max(axis=-1) <= 6).sum())


@pytest.mark.parametrize("index", range(len(BUILT_UP)))
def test_build_up_shows_more_at_each_step_on_one_frame(built_up, index):
    s = scenario(BUILT_UP[index])
    images = step_images(built_up, index * (len(STEPS) + len(expected_captions(scenario(BUILT_UP[0])))))
    colours = list(path_colours(s.run(), get_theme(s.outputs.theme)).values())
    first, others = colours[0], colours[1:]
    seen = [[ink(image, c) > 40 for c in colours] for image in images]
    assert seen[0] == seen[1] == [False] * len(colours)  # the landscape, then the start: no path yet
    assert seen[2] == seen[3] == [True] + [False] * len(others)  # the first step, then its path
    assert seen[4] == [True] * len(colours)  # every path
    assert ink(images[3], first) > 1.5 * ink(images[2], first)  # the whole path is more than one step
    dark = get_theme(s.outputs.theme).foreground  # the start ring, the arrow and its label
    assert ink(images[0], dark) < ink(images[1], dark) < ink(images[2], dark) > ink(images[3], dark)
    # nothing moves: the frame's ticks and labels along the bottom are the same pixels in every step
    band = images[0].shape[0] // 12
    assert all(np.array_equal(image[-band:], images[0][-band:]) for image in images)


def test_missing_python_pptx_is_one_line_before_any_work(tmp_path):
    target = tmp_path / "deck.pptx"
    code = ("import sys; sys.modules['pptx'] = None\n"
            "from optviz.interface.cli import main\n"
            "try:\n"
            f"    main(['slides', '03-gd-2d-quadratic', '-o', {str(target)!r}])\n"
            "except SystemExit as exit:\n"
            "    print(exit.code, 'torch' in sys.modules, 'matplotlib' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr == "optviz: error: optviz slides needs python-pptx: pip install 'optviz[slides]'\n"
    assert done.stdout == "2 False False\n"  # refused before torch or matplotlib loaded
    assert not target.exists()


@pytest.mark.parametrize("args, message", [
    (["no-such-scenario"], "no-such-scenario"),
    (["03-gd-2d-quadratic", "-o", "deck.ppt"], "the suffix must be one of .pptx"),
    (["03-gd-2d-quadratic", "-o", "missing/deck.pptx"], "folder missing does not exist"),
    (["03-gd-2d-quadratic", "-o", "folder.pptx"], "it is a folder"),
    (["03-gd-2d-quadratic", "no-such-scenario", "-o", "keep.pptx"], "no-such-scenario"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.pptx").mkdir()
    (tmp_path / "keep.pptx").write_bytes(b"the old deck")
    out = CliRunner().invoke(main, ["slides", *args])
    assert out.exit_code == 2
    assert out.stdout == "" and len(out.stderr.splitlines()) == 1 and message in out.stderr
    assert out.stderr.startswith("optviz: error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.pptx", "keep.pptx"]
    assert (tmp_path / "keep.pptx").read_bytes() == b"the old deck"


def test_a_deck_that_fails_half_way_leaves_the_old_one(tmp_path, monkeypatch):
    target = tmp_path / "talk.pptx"
    target.write_bytes(b"the old deck")

    class HalfWritten:
        def save(self, path):
            Path(path).write_bytes(b"PK\x03\x04 half a zip")
            raise OSError("No space left on device")

    monkeypatch.setattr(deck_module, "render_outputs", lambda scenario, folder: [])
    monkeypatch.setattr(deck_module, "presentation", lambda slides: HalfWritten())
    with pytest.raises(OSError, match="No space left"):
        write_deck([scenario("03-gd-2d-quadratic")], target)
    assert target.read_bytes() == b"the old deck"
    assert [p.name for p in tmp_path.iterdir()] == ["talk.pptx"]


def test_help_teaches_with_examples():
    out = CliRunner().invoke(main, ["slides", "--help"])
    assert out.exit_code == 0
    assert "optviz slides 03-gd-2d-quadratic 05-momentum --build-up -o lecture.pptx" in out.output
    text = " ".join(out.output.split())  # as wrapped to the terminal's width
    assert "Needs python-pptx: pip install 'optviz[slides]'" in text and "--build-up Before each scenario's" in text


@pytest.mark.skipif(not os.environ.get("OPTVIZ_LIBREOFFICE"),
                    reason="renders the deck with LibreOffice (slow): set OPTVIZ_LIBREOFFICE=1, with soffice installed "
                           "(Debian: apt-get install libreoffice-impress)")
def test_libreoffice_renders_one_16_9_page_per_slide(plain, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "OPTVIZ_LIBREOFFICE is set but soffice is not installed"
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(plain[0])],
                          capture_output=True, text=True, timeout=300)
    pdf = (tmp_path / "talk.pdf").read_bytes()
    assert done.returncode == 0, done.stderr
    pages = re.findall(rb"/Type\s*/Page\b", pdf)
    assert len(pages) == len(Presentation(plain[0]).slides) == 6
    boxes = {tuple(map(float, box.split())) for box in re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+?)\s*\]", pdf)}
    assert len(boxes) == 1
    x0, y0, x1, y1 = boxes.pop()
    assert (x1 - x0) == pytest.approx(960, abs=0.05) and (y1 - y0) == pytest.approx(540, abs=0.05)  # 13.333 x 7.5 in
    assert (x1 - x0) / (y1 - y0) == pytest.approx(16 / 9, rel=1e-4)


def test_the_deck_restyles_its_scenarios_as_run_does(tmp_path):
    """--theme, --background and --dpi reach every picture, the build-up's steps included."""
    path = tmp_path / "dark.pptx"
    out = slides_command("03-gd-2d-quadratic", "--build-up", "--theme", "dark", "--background", "black",
                         "--dpi", "72", "-o", str(path))
    assert out.exit_code == 0, out.output
    stills = [Image.open(io.BytesIO(shape.image.blob)) for slide in Presentation(path).slides
              for shape in pictures(slide) if shape.image.content_type == "image/png"]
    assert len(stills) == len(STEPS) + 2  # the build-up, the paths and the loss
    for still in stills:
        assert still.size == (960, 540) and still.convert("RGB").getpixel((2, 2)) == (0, 0, 0)
    assert slides_command("03-gd-2d-quadratic", "--theme", "sepia", "-o", str(tmp_path / "x.pptx")).exit_code == 2
