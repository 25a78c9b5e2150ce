"""Scenarios as a slide deck: one 16:9 PowerPoint slide per picture a scenario draws (its GIF
stays animated), the scenario's title over it, its description and what the picture shows in
the speaker notes; with ``build_up``, the steps of render.lessons before them.

Needs python-pptx (``pip install 'optviz[slides]'``); the pictures are the gallery's own,
drawn into a temporary folder, and the deck is written atomically.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ..core.extras import needs
from ..core.files import atomic, writable_path
from ..core.simulation.result import Result
from ..core.simulation.runs import Progress
from ..render.kinds import PICTURES
from ..render.lessons import STEPS, build_up
from .gallery import CAPTION, render_outputs
from .outputs import Written
from .scenario import ExperimentScenario, Scenario

EMU_PER_INCH = 914_400
SLIDE_WIDTH, SLIDE_HEIGHT = 12_192_000, 6_858_000  # 13.333 x 7.5 in: PowerPoint's widescreen 16:9
EDGE = EMU_PER_INCH // 3  # round the slide's edge
TITLE_HEIGHT = EMU_PER_INCH  # the title's band at the top; the picture gets the rest
TITLE_POINTS = (20, 32)  # the least and the most a title is set in: one line where it can
EM_PER_CHARACTER = 0.55  # a title's average character's width, in its size (a generous guess for sans-serif)
PICTURE_SUFFIXES = (".png", ".gif")  # what goes on a slide; the rest of a run's files do not
ANIMATION = "the paths advancing step by step (an animated GIF: it plays in the slide show)"
TRAINING = "the training and test loss per epoch"


@dataclass(frozen=True)
class Slide:
    """One slide: its title, the picture under it and the speaker's notes."""

    title: str
    picture: Path
    notes: str


def write_deck(scenarios: Sequence[Scenario | ExperimentScenario], path: str | Path, *, build_up: bool = False,
               progress: Progress | None = None) -> Written:
    """Write the scenarios' pictures as a 16:9 .pptx deck to ``path``, in order, a slide per
    picture (see scenario_slides); ``progress`` hears of each scenario done."""
    path = writable_path(path, ("pptx",))
    require_pptx()  # before the pictures are drawn
    with tempfile.TemporaryDirectory(prefix="optviz-deck-") as folder:
        slides: list[Slide] = []
        for done, scenario in enumerate(scenarios, start=1):
            own = Path(folder) / str(done)  # two scenarios of one name keep their own pictures
            own.mkdir()
            slides += scenario_slides(scenario, own, build_up=build_up)
            if progress is not None:
                progress("scenarios", done, len(scenarios))
        deck = presentation(slides)
        with atomic(path) as tmp:
            deck.save(str(tmp))
    return Written(path, f"{len(slides)} slide{'s' if len(slides) != 1 else ''}, {path.stat().st_size / 1e3:.0f} kB")


def require_pptx() -> None:
    """Nothing if python-pptx can be imported; else ImportError saying how to install it."""
    try:
        import pptx  # noqa: F401 - only whether it is there
    except ImportError:
        raise ImportError(needs("pptx", "writing a deck")) from None


def scenario_slides(scenario: Scenario | ExperimentScenario, folder: Path, *, build_up: bool = False) -> list[Slide]:
    """A scenario's slides, its pictures drawn into ``folder``: with ``build_up`` (a scenario
    on a test function), the steps of render.lessons.STEPS first; then each still the
    scenario's [outputs] ask for, as PNG, and its GIF if it asks for one. The pictures go
    without the scenario's title: the slide's title is it."""
    untitled = dataclasses.replace(scenario, title="", outputs=dataclasses.replace(
        scenario.outputs, png=True, svg=False, pdf=False, html=False))
    slides = _build_up(scenario, folder) if build_up and isinstance(scenario, Scenario) else []
    written = render_outputs(untitled, folder)
    captions = _captions(scenario)
    numbers = "".join(p.read_text(encoding="utf-8") for p in written if p.name.endswith("-numbers.txt"))
    described = "".join(p.read_text(encoding="utf-8").strip() for p in written if p.name.endswith(CAPTION))
    for picture in written:
        if picture.suffix in PICTURE_SUFFIXES:
            slides.append(Slide(scenario.title, picture, _notes(scenario, captions.get(picture.name, ""), numbers,
                                                               described)))
    return slides


def _build_up(scenario: Scenario, folder: Path) -> list[Slide]:
    result: Result = scenario.run()
    targets = [folder / f"{scenario.name}-step{k}.png" for k in range(1, len(STEPS) + 1)]
    build_up(result, targets, bounds=scenario.frame, palette=scenario.colours or None, **scenario.outputs.style)
    total = len(STEPS)
    described = scenario.caption(result)
    return [Slide(scenario.title, target, _notes(scenario, f"step {k} of {total}: {caption}", described=described))
            for k, (target, caption) in enumerate(zip(targets, STEPS.values()), start=1)]


def _captions(scenario: Scenario | ExperimentScenario) -> dict[str, str]:
    """What each picture file of the scenario shows, by file name (as render_outputs names them)."""
    name = scenario.name
    if isinstance(scenario, ExperimentScenario):
        return {f"{name}.png": PICTURES["paths"] if scenario.experiment == "landscape" else TRAINING}
    captions = {f"{name}.png" if kind == "paths" else f"{name}-{kind}.png": PICTURES[kind]
                for kind in scenario.outputs.kinds}
    return {**captions, f"{name}.gif": ANIMATION}


def _notes(scenario: Scenario | ExperimentScenario, caption: str, numbers: str = "", described: str = "") -> str:
    """A slide's notes: the scenario's description (``described``: with its events' numbers
    filled in), what the slide shows, and the experiment's numbers."""
    parts = [described or scenario.description, f"This slide: {caption}." if caption else "", numbers.strip()]
    return "\n\n".join(part for part in parts if part)


def presentation(slides: Sequence[Slide]) -> Any:
    """A 16:9 python-pptx Presentation of the slides: each slide's title in a band at the top,
    its picture as large as fits below it, aspect kept and centred, its notes in the notes."""
    from pptx import Presentation
    from pptx.util import Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    layout = next(layout for layout in deck.slide_layouts if layout.name == "Title Only")
    for slide in slides:
        page = deck.slides.add_slide(layout)
        title = page.shapes.title
        title.left, title.top, title.width, title.height = EDGE, EDGE // 2, SLIDE_WIDTH - 2 * EDGE, TITLE_HEIGHT
        title.text = slide.title
        for paragraph in title.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(title_points(slide.title))
        page.shapes.add_picture(str(slide.picture), *placed(slide.picture))
        page.notes_slide.notes_text_frame.text = slide.notes
    return deck


def title_points(title: str) -> float:
    """The size a title is set in: the most of TITLE_POINTS that keeps it on one line, but no
    less than the least (a longer title wraps onto a second line in its band)."""
    room = (SLIDE_WIDTH - 2 * EDGE) / EMU_PER_INCH * 72  # points
    least, most = TITLE_POINTS
    return max(least, min(most, room / (EM_PER_CHARACTER * max(len(title), 1))))


def placed(picture: Path) -> tuple[int, int, int, int]:
    """Left, top, width and height (EMU) of the picture as large as it fits in the slide's
    content area (below the title, within the margins), its aspect kept, centred there."""
    with Image.open(picture) as image:
        width, height = image.size
    left, top = EDGE, EDGE // 2 + TITLE_HEIGHT
    room_width, room_height = SLIDE_WIDTH - 2 * EDGE, SLIDE_HEIGHT - top - EDGE // 2
    scale = min(room_width / width, room_height / height)
    shown_width, shown_height = round(width * scale), round(height * scale)
    return left + (room_width - shown_width) // 2, top + (room_height - shown_height) // 2, shown_width, shown_height
