"""Scenarios to files, and the gallery: every scenario rendered, with an index page.

The folder's ``.manifest.json`` (what each scenario made, and from which file) is trusted
only as far as it checks out: a broken one is rebuilt, and an entry naming a file outside
the folder (``../x``, ``/x``, a symlink out) is dropped and its scenario rendered again.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import multiprocessing
import signal
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..analyses.penalties import regularization_paths
from ..core import __version__
from ..core.files import atomic, read_regular, remove_stale_parts
from ..core.limits import MAX_MANIFEST_BYTES, MAX_NUMBERS_BYTES, MAX_PAGE_BYTES
from ..core.simulation.result import Result
from ..core.simulation.runs import Progress
from ..render import animate, grid, penalty_paths, picture, plot, save, stability, training
from ..render.canvas import titled
from ..render.kinds import STILL_FORMATS
from ..render.page import html_page
from .scenario import LESSONS, ExperimentScenario, Outputs, Scenario, load, restyled

MANIFEST = ".manifest.json"
CAPTION = "-caption.txt"  # a scenario's description with its events' numbers filled in from the run


def render_outputs(scenario: Scenario | ExperimentScenario, folder: str | Path,
                   data: str | Path | None = None, page: str | Path | None = None) -> list[Path]:
    """Run a scenario and write its outputs into folder as <name>[-kind].<format>, its paths
    (or training curves) as data into ``data`` (.csv, .json or .npz) if given, and its
    interactive page into ``page`` if given (else <name>.html, if its outputs ask for one)."""
    folder = Path(folder)
    remove_stale_parts(folder)  # what killed writes left here
    outcome = scenario.run()
    written = [outcome.save(data)] if data is not None else []
    out = scenario.outputs
    for name, fig in stills(scenario, outcome).items():
        written += _stills(fig, folder / name, out)
    result = outcome.result() if hasattr(outcome, "result") else outcome
    if out.gif and isinstance(result, Result):
        written.append(_gif(result, folder / f"{scenario.name}.gif", out, scenario.title,
                            getattr(scenario, "colours", None), getattr(scenario, "frame", None)))
    if (out.html or page is not None) and isinstance(result, Result):
        target = Path(page) if page is not None else folder / f"{scenario.name}.html"
        html_page(result, target, **out.style, title=scenario.title,
                  bounds=getattr(scenario, "frame", None), palette=getattr(scenario, "colours", None) or None,
                  state=getattr(out, "state", None))
        written.append(target)
    if isinstance(scenario, ExperimentScenario):
        numbers = folder / f"{scenario.name}-numbers.txt"
        _write(numbers, outcome.summary() + "\n")
        written.append(numbers)
    elif scenario.events:  # the description's numbers, found in this run: the caption to show with it
        caption = folder / f"{scenario.name}{CAPTION}"
        _write(caption, scenario.caption(outcome) + "\n")
        written.append(caption)
    return written


def stills(scenario: Scenario | ExperimentScenario, outcome: Any) -> dict[str, Any]:
    """The scenario's still figures by file stem: <name> for its main picture, <name>-<kind>
    for the others; each with the scenario's title over it."""
    out = scenario.outputs
    style = out.style
    if isinstance(scenario, ExperimentScenario):
        if hasattr(outcome, "result"):
            # each path says how much of it the slice cannot show: the picture is a shadow of the run
            trust = outcome.trust.note() if outcome.trust else None  # how far the picture can be trusted
            return {scenario.name: picture(outcome.result(errors=True), title=scenario.title, note=trust, **style)}
        if hasattr(outcome, "family"):  # the edge of stability: gradient descent's runs, then Adam's
            found = [kind for kind in ("sgd", "adam") if outcome.family(kind)]
            return {scenario.name if k == 0 else f"{scenario.name}-{kind}": stability(
                outcome, optimizer=kind, title=None if k else scenario.title, **style) for k, kind in enumerate(found)}
        return {scenario.name: training(outcome, title=scenario.title, **style)}
    framed = dict(bounds=scenario.frame) if scenario.frame else {}
    palette = dict(palette=scenario.colours) if scenario.colours else {}
    events = list(scenario.events_in(outcome).values())  # what the caption says, marked where it happens
    figures = {}
    for kind in out.kinds:
        if kind == "paths":
            fig = picture(outcome, title=scenario.title, events=events, **framed, **palette, **style, state=out.state)
        elif kind == "spectrum":  # one panel per optimizer, on one y axis
            fig = grid(outcome, kind="spectrum", title=scenario.title, **palette, **style)
        elif kind == "grid":
            fig = grid(outcome, title=scenario.title, events=events, **framed, **palette, **style, state=out.state)
        elif kind == "regularization":
            regularized = regularization_paths(scenario.base_function or scenario.function, highlight=out.highlight)
            fig = titled(penalty_paths(regularized, **style).figure, scenario.title)
        else:
            fig = titled(plot(outcome, kind, **palette, **style).figure, scenario.title)
        figures[scenario.name if kind == "paths" else f"{scenario.name}-{kind}"] = fig
    return figures


def _stills(fig: Any, stem: Path, out: Outputs) -> list[Path]:
    return [save(fig, stem.with_name(f"{stem.name}.{fmt}")) for fmt in STILL_FORMATS if getattr(out, fmt)]


def _gif(result: Any, path: Path, out: Outputs, title: str, palette: dict[str, str] | None, bounds: Any) -> Path:
    return animate(result, path, fps=out.fps, every=out.every, max_frames=out.frames, panels=out.panels,
                   max_bytes=out.max_bytes, loop=out.loop, hold=out.hold, poster=out.poster, title=title,
                   palette=palette or None, bounds=bounds, state=out.state, **out.style).path


def _render_file(args: tuple[str, str, bool, dict]) -> tuple[str, list[str]]:
    """Worker: load, restyle and render one scenario file (top level, so processes can run it)."""
    path, folder, allow_import, overrides = args
    with _ctrl_c(signal.default_int_handler):  # a worker ignores Ctrl-C but while it renders
        import torch

        torch.set_num_threads(1)  # the processes share the cores; threads inside them would fight
        scenario = restyled(load(path, allow_import=allow_import), **overrides)
        return path, [p.name for p in render_outputs(scenario, folder)]


@contextlib.contextmanager
def _ctrl_c(handler: Any) -> Iterator[None]:
    """SIGINT handled by ``handler`` inside (in the main thread: only it can set one)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def build(
    scenario_files: Iterable[str | Path],
    folder: str | Path,
    *,
    jobs: int = 2,
    force: bool = False,
    allow_import: bool = False,
    progress: Progress | None = None,
    overrides: dict[str, Any] | None = None,
) -> tuple[list[dict], list[str]]:
    """Render every scenario into folder (only those changed since the last build, unless
    force) and write folder/index.html. Returns the index entries and the names rendered.
    ``allow_import`` lets the files name optimizers by import path; ``overrides`` restyle
    every scenario (optviz.documents.scenario.restyled): a build restyled otherwise than
    the last renders everything again."""
    overrides = dict(overrides or {})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(folder)  # what a killed build left
    scenarios = [restyled(load(p, allow_import=allow_import), **overrides)
                 for p in sorted(map(Path, scenario_files))]  # all validated first
    manifest = _read_manifest(folder)
    stale = [s for s in scenarios if force or not _up_to_date(s, manifest.get(s.name), folder, overrides)]
    by_path = {str(s.path): s for s in stale}
    work = [(path, str(folder), allow_import, overrides) for path in by_path]
    for done, (path, files) in enumerate(_rendered(work, jobs), start=1):
        scenario = by_path[path]
        files = [*files, _source(scenario, folder)]  # the file itself, offered beside what it made
        gone = set(manifest.get(scenario.name, {}).get("files", [])) - set(files)
        manifest[scenario.name] = {"fingerprint": _fingerprint(scenario, overrides), "files": files}
        _write(folder / MANIFEST, _manifest_text(manifest))  # an interrupted build keeps what it finished
        for name in gone:
            (folder / Path(name).name).unlink(missing_ok=True)  # an output the scenario no longer makes
        if progress is not None:
            progress("scenarios", done, len(work))
    entries = [index_entry(s, manifest[s.name]["files"], folder) for s in scenarios]
    manifest = {s.name: manifest[s.name] for s in scenarios}
    _write(folder / MANIFEST, _manifest_text(manifest))
    _write(folder / "index.html", index_page(entries))
    return entries, [s.name for s in stale]


def index_entry(scenario: Scenario | ExperimentScenario, files: list[str], folder: Path) -> dict:
    """What the index shows of a scenario whose ``files`` are in ``folder``."""
    description = _caption(folder, files) or scenario.description  # its events' numbers, from the run
    return {"name": scenario.name, "title": scenario.title, "description": description, "files": files,
            "numbers": _numbers(folder, files), "lesson": scenario.lesson, "live": _live(folder, files)}


def _rendered(work: list[tuple[str, str, bool, dict]], jobs: int) -> Iterator[tuple[str, list[str]]]:
    """Each scenario file with the names of what it wrote, as soon as it is done (in whatever
    order), rendered in ``jobs`` processes when there is more than one file."""
    if jobs == 1 or len(work) < 2:
        yield from map(_render_file, work)
        return
    # spawn, not fork: a forked copy of a process whose torch threads are running can hang
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        # the workers start here and keep Ctrl-C ignored (SIG_IGN lasts through exec): one caught
        # between scenarios, importing or waiting, would print a traceback; inside a scenario
        # it interrupts the work, which the pool hands back as any failure
        with _ctrl_c(signal.SIG_IGN):
            futures = [pool.submit(_render_file, item) for item in work]
        try:
            for future in as_completed(futures):
                yield future.result()
        except KeyboardInterrupt:  # stop now: a worker would render the scenario it has queued first
            for worker in multiprocessing.active_children():
                worker.terminate()
            raise
        finally:  # on Ctrl-C or a failure, start nothing more (each worker would report it and go on)
            pool.shutdown(wait=False, cancel_futures=True)


def _manifest_text(manifest: dict) -> str:
    return json.dumps(manifest, indent=1, sort_keys=True)


def _numbers(folder: Path, files: list[str]) -> str:
    texts = []
    for name in files:
        if name.endswith("-numbers.txt") and _inside(folder, name):
            try:
                texts.append(read_regular(folder / name, MAX_NUMBERS_BYTES).decode("utf-8", "replace"))
            except ValueError:
                pass  # not a file we wrote: the page goes without it
    return "".join(texts)


def _caption(folder: Path, files: list[str]) -> str:
    """The caption a scenario's render wrote, if it wrote one (and it reads back)."""
    for name in files:
        if name.endswith(CAPTION) and _inside(folder, name):
            try:
                return read_regular(folder / name, MAX_NUMBERS_BYTES).decode("utf-8", "replace").strip()
            except ValueError:
                pass  # not a file we wrote: the description goes as the file gives it
    return ""


def _fingerprint(scenario: Scenario | ExperimentScenario, overrides: dict[str, Any] | None = None) -> str:
    # a new optviz version may draw differently, and a build restyled otherwise looks otherwise:
    # re-render everything then
    restyle = f":{json.dumps(overrides, sort_keys=True)}" if overrides else ""
    return f"{scenario.fingerprint}:{__version__}{restyle}"


def _up_to_date(scenario: Scenario | ExperimentScenario, recorded: dict | None, folder: Path,
                overrides: dict[str, Any]) -> bool:
    return (
        recorded is not None
        and recorded.get("fingerprint") == _fingerprint(scenario, overrides)
        and all((folder / f).exists() for f in recorded.get("files", []))
    )


def _read_manifest(folder: Path) -> dict:
    """The last build's records by scenario name, keeping only well-formed ones whose files
    all lie in folder; anything else is as if never built (so it is rendered again)."""
    try:
        recorded = json.loads(read_regular(folder / MANIFEST, MAX_MANIFEST_BYTES, "manifest"))
    except (ValueError, RecursionError):  # missing, not a file, too big, not JSON, or nested without end
        return {}
    if not isinstance(recorded, dict):
        return {}
    return {name: entry for name, entry in recorded.items() if _valid_entry(folder, entry)}


def _valid_entry(folder: Path, entry: Any) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("fingerprint"), str)
            and isinstance(entry.get("files"), list) and all(_inside(folder, f) for f in entry["files"]))


def _inside(folder: Path, name: Any) -> bool:
    """Whether name is a plain file name whose file, if there, stays in folder: not ../x, not
    /x, not a symlink out (the page would show what it points to)."""
    if not isinstance(name, str) or name in ("", ".", "..", MANIFEST) or "\0" in name or "\\" in name:
        return False
    if Path(name).name != name:
        return False
    target = folder / name
    try:
        return not target.is_symlink() or target.resolve().parent == folder.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return False


def _write(path: Path, text: str) -> None:
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


LIVE = re.compile(r'"live":\s*true')  # the page's data says its controls recompute the paths


def _live(folder: Path, files: list[str]) -> dict[str, bool]:
    """Each interactive page's name, and whether its live controls are on (as its data says)."""
    live = {}
    for name in files:
        if name.endswith(".html") and _inside(folder, name):
            try:
                text = read_regular(folder / name, MAX_PAGE_BYTES).decode("utf-8", "replace")
            except ValueError:
                text = ""  # not a page we wrote: no promise made for it
            live[name] = bool(LIVE.search(text))
    return live


def _source(scenario: Scenario | ExperimentScenario, folder: Path) -> str:
    """The scenario's file copied into folder, for the index to offer; its name there."""
    name = f"{scenario.name}.toml"
    with atomic(folder / name) as tmp:
        Path(tmp).write_bytes(Path(scenario.path).read_bytes())
    return name


def index_page(entries: list[dict]) -> str:
    """A self-contained HTML page: every scenario as a card, grouped by lesson (in the order of
    LESSONS), with its main picture as a thumbnail (its GIF plays only under the pointer or
    focus), its lesson in a sentence, the live controls promised only where its page has them,
    and a link to every file it wrote."""
    groups = []
    for lesson in LESSONS:
        members = [entry for entry in entries if entry.get("lesson", "beyond") == lesson]
        if members:
            cards = "\n".join(_card(entry) for entry in members)
            groups.append(f'  <section class="lesson" id="{_anchor(lesson)}">\n'
                          f'    <h2>{html.escape(lesson.capitalize())}</h2>\n'
                          f'    <div class="cards">\n{cards}\n    </div>\n  </section>')
    menu = " · ".join(f'<a href="#{_anchor(lesson)}">{html.escape(lesson)}</a>' for lesson in LESSONS
                      if any(entry.get("lesson", "beyond") == lesson for entry in entries))
    return (_PAGE.replace("{cards}", "\n".join(groups)).replace("{count}", str(len(entries)))
            .replace("{menu}", menu))


def _anchor(lesson: str) -> str:
    return "lesson-" + lesson.replace(" ", "-")


def _card(entry: dict) -> str:
    files, name, title = entry["files"], entry["name"], html.escape(entry["title"])
    stills = [f for f in files if f.endswith(".png")]
    thumb = f"{name}.png" if f"{name}.png" in stills else (stills[0] if stills else None)
    gif = f"{name}.gif" if f"{name}.gif" in files else None
    picture = ""
    if thumb or gif:
        shown = thumb or gif
        moving = f' data-gif="{html.escape(gif)}" data-still="{html.escape(shown)}"' if gif and thumb else ""
        picture = (f'      <a class="thumb" href="{html.escape(gif or shown)}"><img src="{html.escape(shown)}" '
                   f'loading="lazy" decoding="async" alt="{title}"{moving}></a>\n')
    live = entry.get("live", {})
    pages = "".join(
        f'      <p class="page"><a href="{html.escape(f)}">Interactive page</a>: '
        + ("drag the start or move the learning rate, and every path follows.</p>\n" if live.get(f)
           else "play the run back and hover for the numbers.</p>\n")
        for f in files if f.endswith(".html"))
    numbers = (f'      <details><summary>Numbers</summary><pre>{html.escape(entry["numbers"])}</pre></details>\n'
               if entry.get("numbers") else "")
    links = " ".join(f'<a href="{html.escape(f)}" download>{html.escape(_file_label(name, f))}</a>'
                     for f in files if not f.endswith((".html", "-numbers.txt", CAPTION)))
    return (f'      <article class="card" id="{html.escape(name)}">\n{picture}'
            f'      <h3>{title}</h3>\n'
            f'      <p class="lesson-text">{html.escape(entry["description"])}</p>\n'
            f'{pages}{numbers}'
            + (f'      <p class="files">{links}</p>\n' if links else "")
            + "      </article>")


def _file_label(name: str, file: str) -> str:
    """What a download link says: the file's format, and its kind beside the main picture
    (loss PNG, grid SVG), the scenario file as TOML."""
    stem, _, ext = file.rpartition(".")
    kind = stem[len(name) + 1:] if stem.startswith(f"{name}-") else ""
    return f"{kind} {ext.upper()}" if kind else ext.upper()


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>optviz gallery</title>
<style>
  body { font: 16px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1400px; padding: 1rem 2rem; color: #1f2328; }
  h1 { margin-bottom: 0; }
  nav { margin: 0.5rem 0 1rem; }
  .lesson { border-top: 1px solid #d0d7de; padding: 0.5rem 0 1rem; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr)); gap: 1rem; }
  .card { border: 1px solid #d0d7de; border-radius: 8px; padding: 0.6rem; display: flex; flex-direction: column; }
  .card h3 { font-size: 1.02rem; margin: 0.5rem 0 0.25rem; }
  .card p { margin: 0.25rem 0; font-size: 0.92rem; }
  .lesson-text { display: -webkit-box; -webkit-line-clamp: 4; -webkit-box-orient: vertical; overflow: hidden; }
  .thumb img { width: 100%; aspect-ratio: 16 / 9; object-fit: contain; background: #f6f8fa; display: block; }
  .files a { margin-right: 0.5rem; white-space: nowrap; }
  pre { font-size: 0.75rem; overflow-x: auto; }
  img.broken { outline: 3px solid #cf222e; }
</style>
</head>
<body>
<h1>optviz gallery</h1>
<p>{count} scenarios from <code>scenarios/</code>, rendered by <code>optviz gallery</code>. Point at a picture to play its animation.</p>
<nav>{menu}</nav>
{cards}
<script>
  // A card's GIF plays under the pointer or keyboard focus only; its still shows otherwise.
  for (const img of document.querySelectorAll("img[data-gif]")) {
    const link = img.parentElement;
    const play = () => { img.src = img.dataset.gif; };
    const stop = () => { img.src = img.dataset.still; };
    for (const [on, run] of [["mouseenter", play], ["focus", play], ["mouseleave", stop], ["blur", stop]]) {
      link.addEventListener(on, run);
    }
  }
  // Mark each image as it loads (lazily, as it nears the screen): a broken one is outlined in red.
  const mark = (img) => {
    const ok = img.naturalWidth > 0;
    img.dataset.state = ok ? "loaded" : "broken";
    img.classList.toggle("broken", !ok);
  };
  for (const img of document.images) {
    if (img.complete && img.currentSrc) mark(img);
    img.addEventListener("load", () => mark(img));
    img.addEventListener("error", () => mark(img));
  }
  window.addEventListener("load", () => { document.body.dataset.ready = "true"; });
</script>
</body>
</html>
"""
