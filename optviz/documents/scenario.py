"""Scenario files: a TOML description of one experiment, validated before any work starts.

    title = "Rosenbrock's valley"
    description = "Momentum follows the valley; plain SGD crawls."
    lesson = "landscapes"            # the gallery's group: one of LESSONS (beyond if absent)
    function = "rosenbrock"          # a registered name, or expression = "x**2 + 10*sin(y)"
    bounds = [[-2, 2], [-1, 3]]      # optional for a named function
    dim = 2                          # optional: sphere, rosenbrock, ... come in any dimension;
                                     # a matrix problem's size: "8x8", or "8x8r2" with its rank
    start = [-1.5, 2]                # or starts = [[...], [...]]
    steps = 500
    noise = 0.5                      # optional: Gaussian gradient noise (with seed = 0)

    [[optimizers]]
    name = "sgd"                     # any of `optviz list optimizers`; torch's in any case (nadam)
    lr = 1e-3                        # its hyperparameters, torch.optim's names
    label = "plain SGD"              # optional: its legend entry
    colour = "crimson"               # optional: its colour (a name or #rrggbb)
    schedule = { name = "StepLR", step_size = 100, gamma = 0.5 }   # optional; a list chains

    [[events]]                       # optional: a step the description names, found in the run
    name = "out"                     # the description says {out}: "leaves at step {out}"
    optimizer = "plain SGD"          # the label of the path it is on
    kind = "passes"                  # or "diverges", or "step" (with step = k)
    coordinate = 2                   # passes: |y| exceeds value
    value = 1

    [outputs]
    png = true                       # also svg, pdf, gif, html (the interactive page)
    kinds = ["paths", "loss"]        # the stills to draw: any of render.kinds.STILL_KINDS
    size = "slide"                   # a name of render.style.SIZES, or [width, height]
    dpi = 288                        # optional: more pixels, the same look (the slide's is 144)
    scale = 1.5                      # optional: text, lines and markers 1.5 times as large
    theme = "light"                  # a name of render.style.THEMES
    background = "black"             # optional: the background colour; transparent = true for none
    frames = 200                     # the GIF's max_frames (also fps, every, panels, max_bytes)

A ``penalty = {l1 = ..., l2 = ...}`` adds a penalty to the function (or, inside an
``[[optimizers]]`` table, to that optimizer's loss only). A real-model experiment is
``experiment = "linear_regression" | "mlp" | "landscape"`` with a ``[settings]`` table of
its keyword arguments (see optviz.experiments and optviz.landscape).

A scenario file is data: an optimizer named by an import path (``name =
"pytorch_optimizer:Lion"``) imports that module, so it is refused unless the file is loaded
with ``allow_import=True`` (``--allow-import`` on the command line).

Every key a table may hold is a row of SCENARIO_TABLE, OPTIMIZER_TABLE, OUTPUTS_TABLE or
EXPERIMENT_TABLE: its type, its range or choices, its default and what it means.

Every problem is a ScenarioError naming the file, the key, the value and what is allowed.
A file from elsewhere cannot hang or flood a run: it must be a regular file of at most
MAX_SCENARIO_BYTES, nested at most MAX_DEPTH deep, with strings of at most MAX_STRING
characters, and an experiment's settings within their ceilings (optviz/core/limits.py); its
paths (starts x steps x optimizers) and its optimizers are counted against MAX_FILE_PATH_STEPS
and MAX_FILE_OPTIMIZERS unless OPTVIZ_ALLOW_LARGE=1 is set.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analyses.events import KINDS as EVENT_KINDS, Event, EventSpec, filled, found
from ..analyses.penalties import Penalty, penalise, penalised
from ..core.functions import FUNCTIONS, TestFunction, get_function
from ..core.functions.formulas import ExpressionError, parse_expression
from ..core.functions.surface import unreachable
from ..core.limits import (MAX_ASKED_STEPS, MAX_DEPTH, MAX_DIM, MAX_EVERY, MAX_FPS, MAX_FRAMES, MAX_GIF_BYTES,
                           MAX_HOLD, MAX_DPI, MAX_FILE_OPTIMIZERS, MAX_FILE_PATH_STEPS, MAX_HIGHLIGHT, MAX_KEY, MAX_SCALE,
                           MAX_SCENARIO_BYTES, MAX_SEED, MAX_SIDE, MAX_STRING, MIN_DPI, MIN_FPS, MIN_FRAMES,
                           MIN_GIF_BYTES, MIN_SCALE, MIN_SIDE, BudgetError, WorkError, check_memory, check_work)
from ..core.names import closest, cut, did_you_mean, quoted
from ..core.optimizers.base import Optimizer
from ..core.optimizers.registry import get_optimizer, hyperparameter_names, known_names, scheduled
from ..core.simulation.noise import check_noise
from ..core.simulation.result import Result
from ..core.simulation.runs import peak_bytes, simulate
from ..render.kinds import GIF_PANELS, STATE_GLYPHS, STILL_FORMATS, STILL_KINDS, check_hold, loop_count
from ..render.style import SIZES, THEMES, check_colour, get_size, screen_size
from .sources import BUNDLED, ScenarioError, bundled, find, listing, nesting, read  # noqa: F401 - optviz.scenario.*


@dataclass(frozen=True)
class Outputs:
    png: bool = True
    svg: bool = False
    pdf: bool = False
    gif: bool = False
    html: bool = False  # the interactive page (2D paths only)
    kinds: tuple[str, ...] = ("paths",)
    size: Any = "slide"
    theme: str = "light"
    frames: int = 200
    fps: float | None = None  # the run's own pace
    every: int = 1
    panels: str = "auto"  # the GIF's: small multiples for four or more optimizers from one start
    transparent: bool = False
    max_bytes: int | None = None
    loop: str | int = "forever"  # the GIF plays forever, once, or n times
    hold: float = 3.0  # seconds the GIF's last frame is held
    poster: bool = True  # the GIF's first frame is its last: the whole story, for previews
    highlight: float = 1.0  # the lambda whose level sets the "regularization" still draws
    dpi: float | None = None  # the size's own
    scale: float = 1.0
    background: str | None = None  # the theme's
    state: str | None = None  # the optimizer's state drawn on the paths: one of STATE_GLYPHS

    @property
    def style(self) -> dict[str, Any]:
        """The look of every picture, as the render functions take it."""
        return {"theme": self.theme, "size": self.size, "dpi": self.dpi, "scale": self.scale,
                "background": self.background, "transparent": self.transparent}


@dataclass(frozen=True)
class Scenario:
    path: Path
    title: str
    description: str
    function: TestFunction
    starts: tuple[tuple[float, ...], ...]
    steps: int
    optimizers: dict[str, Any]
    outputs: Outputs = field(default_factory=Outputs)
    base_function: TestFunction | None = None  # before the scenario's penalty, if it has one
    fingerprint: str = ""  # a hash of the file's bytes: unchanged files need no re-render
    frame: tuple[tuple[float, float], ...] | None = None  # the bounds the file gives: the pictures show them
    colours: dict[str, str] = field(default_factory=dict)  # label -> colour, where the file names one
    noise: float | list[float] | None = None  # gradient noise's standard deviation
    seed: int = 0
    lesson: str = "beyond"  # the gallery's group
    events: tuple[EventSpec, ...] = ()  # the steps the description names, found in the run

    @property
    def name(self) -> str:
        return self.path.stem

    def run(self) -> Result:
        return simulate(self.function, self.optimizers, list(self.starts), self.steps, noise=self.noise,
                        seed=self.seed, state=self.outputs.state is not None or "sharpness" in self.outputs.kinds)

    def events_in(self, result: Result) -> dict[str, Event]:
        """The declared events, found in the run: what the caption says and the picture marks."""
        return found(result, self.events)

    def caption(self, result: Result) -> str:
        """The description with its {event} placeholders filled from the run."""
        return filled(self.description, self.events_in(result))


@dataclass(frozen=True)
class ExperimentScenario:
    """A real-model experiment (optviz.experiments) with its settings."""

    path: Path
    title: str
    description: str
    experiment: str
    settings: dict[str, Any]
    outputs: Outputs
    fingerprint: str = ""
    lesson: str = "beyond"  # the gallery's group
    events: tuple[EventSpec, ...] = ()  # none: a model's training has no path to mark steps on

    @property
    def name(self) -> str:
        return self.path.stem

    def run(self) -> Any:
        return experiments()[self.experiment](**self.settings)

    def caption(self, outcome: Any) -> str:
        """The description, as a Scenario's caption (an experiment declares no events)."""
        return self.description


@dataclass(frozen=True)
class Key:
    """One key a table of a scenario file may hold: the TOML types of its value, the range or
    the choices it must be within, its value when absent (None where the reader works it out,
    as help says) and what it means. The reader checks a simple key by this row alone; a key
    with logic of its own has a check of its own, which reads the same row."""

    kind: type | tuple[type, ...]
    default: Any
    help: str
    between: tuple[float, float] | None = None  # the lowest and highest value allowed
    choices: tuple[str, ...] = ()  # a value is one of them: that says its type too
    cast: Callable[[Any], Any] | None = None  # applied to a value the file gives
    range_text: str = ""  # the range as its message says it, where "low and high" would not read well


# The gallery's groups, in the order it shows them: what a scenario teaches
LESSONS = ("basics", "conditioning", "adaptive methods", "landscapes", "regularization", "beyond")
LESSON = Key(str, "beyond", "the gallery's group it is shown in", choices=LESSONS)

# The top level of a scenario file, in the order its "unknown key" message lists them.
SCENARIO_TABLE = {
    "title": Key(str, None, "the pictures' title; the file's name, with spaces, if absent"),
    "description": Key(str, "", "a sentence or two on what the scenario shows"),
    "lesson": LESSON,
    "function": Key(str, None, "a registered function's name; this or expression is required"),
    "expression": Key(str, None, "a formula in x (and y, ...), like x**2 + 10*sin(y)"),
    "bounds": Key(list, None, "[[lo, hi], ...]: a formula's domain, a named function's frame"),
    "dim": Key((int, str), None, "the dimension of a function that comes in any; a formula's bounds are then "
                                 "[-5, 5] each; a matrix problem's size, \"8x8\" or with its rank \"8x8r2\""),
    "condition": Key((int, float), None, "the condition number, for a named function that takes one"),
    "start": Key(list, None, "the one starting point; the function's own if neither start nor starts"),
    "starts": Key(list, None, "several starting points"),
    "steps": Key(int, 100, "steps of each run", between=(0, MAX_ASKED_STEPS)),
    "noise": Key((int, float, list), None, "the standard deviation of Gaussian gradient noise, or one per coordinate"),
    "seed": Key(int, 0, "the noise's random seed", between=(0, MAX_SEED), range_text="0 and 2**63 - 1"),
    "penalty": Key(dict, None, "{l1 = ..., l2 = ...}: a penalty added to the function"),
    "optimizers": Key(list, None, "the [[optimizers]] entries, one or more: required"),
    "events": Key(list, [], "the [[events]] entries: steps the description names as {name}, marked on the path"),
    "outputs": Key(dict, Outputs(), "the [outputs] table: what to draw and write"),
}

# An [[events]] entry: a step found in the run, named in the description, marked on its path.
EVENT_TABLE = {
    "name": Key(str, None, "the description's placeholder: {name} is the step, {name.length:.2f} its length"),
    "optimizer": Key(str, None, "the label of the optimizer whose path it is on"),
    "kind": Key(str, None, "what to look for", choices=EVENT_KINDS),
    "coordinate": Key(int, 2, "passes: the coordinate (1 is x, 2 is y)", between=(1, 2)),
    "value": Key((int, float), 1.0, "passes: the first step where |coordinate| exceeds it", cast=float),
    "step": Key(int, 0, "step: the step to mark", between=(0, MAX_ASKED_STEPS)),
    "start": Key(int, 0, "the start's index, where the scenario has several", between=(0, MAX_FILE_OPTIMIZERS)),
}

# An [[optimizers]] entry's own keys; its other keys are the optimizer's hyperparameters.
OPTIMIZER_TABLE = {
    "name": Key(str, None, "one of `optviz list optimizers`, or an import path with allow_import: required"),
    "label": Key(str, None, "its legend entry; the optimizer's own label if absent or empty"),
    "colour": Key(str, None, "its colour: a name or #rrggbb; its place in the theme's palette if absent"),
    "penalty": Key(dict, None, "{l1 = ..., l2 = ...}: a penalty added to this optimizer's loss only"),
    "schedule": Key((dict, list), None, "{name = ..., ...}: a learning-rate schedule; a list chains them"),
}

# [outputs], field for field as Outputs, whose defaults they are.
OUTPUTS_TABLE = {
    **{still: Key(bool, getattr(Outputs, still), f"write the stills as {still.upper()}") for still in STILL_FORMATS},
    "gif": Key(bool, Outputs.gif, "write an animated GIF of the paths"),
    "html": Key(bool, Outputs.html, "write the interactive page (2D paths only)"),
    "kinds": Key(list, Outputs.kinds, "the stills to draw", choices=STILL_KINDS),
    "dpi": Key((int, float), Outputs.dpi, "pixels per inch: a named size's pixels, a PNG's tag; the size's own if absent",
               between=(MIN_DPI, MAX_DPI), cast=float),
    "scale": Key((int, float), Outputs.scale, "text, lines and markers, times their own size",
                 between=(MIN_SCALE, MAX_SCALE), cast=float),
    "size": Key((str, list), Outputs.size, "a named size, or [width, height] in pixels",
                choices=tuple(SIZES), between=(MIN_SIDE, MAX_SIDE)),
    "theme": Key(str, Outputs.theme, "the colours of every picture", choices=tuple(THEMES)),
    "background": Key(str, Outputs.background, "the background colour (a name or #rrggbb); the theme's if absent"),
    "frames": Key(int, Outputs.frames, "the GIF's most frames", between=(MIN_FRAMES, MAX_FRAMES)),
    "fps": Key((int, float), Outputs.fps, "the GIF's frames per second; the run's own pace if absent",
               between=(MIN_FPS, MAX_FPS)),
    "every": Key(int, Outputs.every, "the GIF shows every n-th step", between=(1, MAX_EVERY)),
    "panels": Key(str, Outputs.panels, "the GIF's layout: one panel, or one per optimizer", choices=GIF_PANELS),
    "transparent": Key(bool, Outputs.transparent, "every picture with no fill behind it (GIFs: their background "
                                                  "colour's pixels)"),
    "max_bytes": Key(int, Outputs.max_bytes, "the GIF's largest file size: frames are dropped to fit",
                     between=(MIN_GIF_BYTES, MAX_GIF_BYTES)),
    "state": Key((bool, str), Outputs.state, "draw the optimizer's state on the paths: true (velocity arrows, "
                                             "step-size ellipses), \"gradient\" or \"both\""),
    "loop": Key((str, int), Outputs.loop, "how often the GIF plays: forever, once, or a whole number of times"),
    "hold": Key((int, float), Outputs.hold, "seconds the GIF's last frame is held", between=(0, MAX_HOLD), cast=float),
    "poster": Key(bool, Outputs.poster, "the GIF's first frame is its last (the whole story, for documents, "
                                        "thumbnails and slide previews)"),
    "highlight": Key((int, float), Outputs.highlight, "the lambda whose level sets the regularization still draws",
                     between=(0, MAX_HIGHLIGHT), cast=float),
}

# The top level of an experiment file (a file with an experiment key).
EXPERIMENT_TABLE = {
    "title": Key(str, None, "the pictures' title; the file's name if absent"),
    "description": Key(str, "", "a sentence or two on what the experiment shows"),
    "lesson": LESSON,
    "experiment": Key(str, None, "one of experiments(): required"),
    "settings": Key(dict, {}, "the experiment's keyword arguments"),
    "outputs": Key(dict, Outputs(), "the [outputs] table: what to draw and write"),
}

TOP_KEYS = tuple(SCENARIO_TABLE)
EXPERIMENT_KEYS = tuple(EXPERIMENT_TABLE)


def experiments() -> dict[str, Any]:
    """The real-model experiments a scenario can run (loaded on first use: they train models)."""
    from ..analyses.models.experiments import EXPERIMENTS
    from ..analyses.models.landscapes import landscape

    return {**EXPERIMENTS, "landscape": landscape}


RESTYLE_KEYS = ("png", "svg", "pdf", "gif", "theme", "size", "dpi", "scale", "background", "transparent", "state",
                "loop", "hold")


def restyled(scenario: Scenario | ExperimentScenario, **overrides: Any) -> Scenario | ExperimentScenario:
    """The scenario with its [outputs] overridden by ``overrides`` (keys of RESTYLE_KEYS:
    what it writes and how it looks), checked as the file's own would be."""
    unknown = sorted(set(overrides) - set(RESTYLE_KEYS))
    if unknown:
        raise ValueError(f"cannot restyle {', '.join(unknown)} (only {', '.join(RESTYLE_KEYS)})")
    if not overrides:
        return scenario
    outputs = dataclasses.replace(scenario.outputs, **overrides)
    try:
        get_size(outputs.size, outputs.dpi, outputs.scale)
        loop_count(outputs.loop)
        check_hold(outputs.hold)
        if outputs.gif:
            from ..render.gif import check_gif_size  # loads matplotlib: only for a run that writes a GIF

            check_gif_size(screen_size(outputs.size, outputs.dpi, outputs.scale))
    except (TypeError, ValueError) as error:
        raise ScenarioError(f"{scenario.path}: {error}") from None
    return dataclasses.replace(scenario, outputs=outputs)


def load(path: str | Path, *, allow_import: bool = False) -> Scenario | ExperimentScenario:
    """Read and validate a scenario file; ``allow_import`` lets its optimizers be import paths."""
    path = Path(path)
    data, fingerprint = read(path)
    reader = _Reader(path, allow_import)
    reader.bounded(data)
    return reader.scenario(data, fingerprint)


class _Reader:
    """Validation of one file's data, each error prefixed with the file and key."""

    def __init__(self, path: Path, allow_import: bool = False) -> None:
        self.path = path
        self.allow_import = allow_import

    def fail(self, key: str, message: str) -> ScenarioError:
        # other modules' messages may echo a long value of the file: one line stays readable
        return ScenarioError(f"{self.path}: {key}: {cut(message, 400)}")

    def unknown_keys(self, table: dict, allowed: Any, where: str) -> None:
        for key in table:
            if key not in allowed:
                match = closest(key, allowed)
                hint = f"; did you mean {match!r}?" if match else f" (allowed: {', '.join(allowed)})"
                raise self.fail(f"{where}{cut(key)}", f"unknown key{hint}")

    def checked(self, keys: dict[str, Key], table: dict, key: str, where: str = "") -> Any:
        """``table[key]`` checked against its row of ``keys`` (its choices, or its type and then
        its range), or the row's default if the table does not have the key."""
        row = keys[key]
        if key not in table:
            return row.default
        value = table[key]
        if row.choices:  # membership alone: the message lists what is allowed, whatever was given
            if value not in row.choices:
                raise self.fail(f"{where}{key}", f"expected one of {', '.join(row.choices)}, got {quoted(value)}")
            return value
        kinds = _as_tuple(row.kind)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.fail(f"{where}{key}", f"expected {' or '.join(k.__name__ for k in kinds)}, got {quoted(value)}")
        if row.between:
            low, high = row.between
            if not low <= value <= high:
                span = row.range_text or f"{low} and {high}"
                raise self.fail(f"{where}{key}", f"must be between {span}, got {value}")
        return row.cast(value) if row.cast else value

    def bounded(self, value: Any, where: str = "", depth: int = 0) -> None:
        """Every table and array at most MAX_DEPTH deep, every key and string short enough,
        every number finite (TOML writes inf and nan; no setting of optviz takes them)."""
        if depth > MAX_DEPTH:
            raise self.fail(cut(where), f"nested more than {MAX_DEPTH} deep")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(cut(where), f"{value} is not a finite number; every number must be")
        if isinstance(value, str) and len(value) > MAX_STRING:
            raise self.fail(cut(where), f"a string of {len(value):,} characters, more than the {MAX_STRING:,} "
                                         f"allowed: {quoted(value)}")
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            if isinstance(key, str) and len(key) > MAX_KEY:
                raise self.fail(cut(f"{where}.{key}" if where else key),
                                f"a key of {len(key):,} characters, more than the {MAX_KEY} allowed")
            inner = f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}" if where else key
            self.bounded(item, inner, depth + 1)

    def scenario(self, data: dict, fingerprint: str) -> Scenario | ExperimentScenario:
        # each check needs what those before it read: the starts, penalty and noise need the function
        if "experiment" in data:
            return self.experiment(data, fingerprint)
        self.unknown_keys(data, SCENARIO_TABLE, "")
        title = (self.checked(SCENARIO_TABLE, data, "title") if "title" in data
                 else self.path.stem.replace("-", " ").replace("_", " "))
        description = self.checked(SCENARIO_TABLE, data, "description")
        function = self.function(data)
        starts = self.starts(data, function)
        base = function
        if "penalty" in data:
            function = penalise(function, self.penalty(data["penalty"], "penalty"))
        steps = self.checked(SCENARIO_TABLE, data, "steps")
        optimizers, colours = self.optimizers(data.get("optimizers"))
        paths = len(starts) * len(optimizers)
        try:  # time, before memory: a file must not start a run of hours
            check_work(paths * steps, MAX_FILE_PATH_STEPS, "path steps",
                       f"{len(starts):,} starts x {steps:,} steps x {len(optimizers)} optimizers = ")
        except WorkError as error:
            raise self.fail("steps" if "steps" in data else "starts", str(error)) from None
        try:
            check_memory(peak_bytes(steps, paths, function.dim, 8), f"{steps} steps x {paths} paths", "use fewer steps or starts")
        except BudgetError as error:
            raise self.fail("steps", str(error)) from None
        outputs = self.outputs(data.get("outputs", {}))
        self.kinds_fit(outputs.kinds, function)
        noise, seed = self.noise(data, function)
        # the bounds a file gives frame its pictures: a named function's, and a formula's domain
        frame = self.bounds(data["bounds"]) if "bounds" in data else None
        events = self.events(data.get("events", []), optimizers, len(starts), description)
        return Scenario(self.path, title, description, function, starts, steps, optimizers, outputs,
                        fingerprint=fingerprint, base_function=base, frame=frame, colours=colours,
                        noise=noise, seed=seed, events=events,
                        lesson=self.checked(SCENARIO_TABLE, data, "lesson"))

    def events(self, entries: Any, optimizers: dict[str, Any], n_starts: int, description: str) -> tuple[EventSpec, ...]:
        """The [[events]] entries, each on a path the file has; the description's placeholders
        all name one of them."""
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise self.fail("events", "expected [[events]] tables, each with a name, an optimizer and a kind")
        specs = []
        for i, entry in enumerate(entries):
            where = f"events[{i}]."
            self.unknown_keys(entry, EVENT_TABLE, where)
            for key in ("name", "optimizer", "kind"):
                if key not in entry:
                    raise self.fail(f"{where}{key}", f"missing ({EVENT_TABLE[key].help})")
            spec = EventSpec(**{key: self.checked(EVENT_TABLE, entry, key, where) for key in EVENT_TABLE})
            if not spec.name.isidentifier():
                raise self.fail(f"{where}name", f"expected a name like leaves_saddle, got {quoted(spec.name)}")
            if spec.optimizer not in optimizers:
                raise self.fail(f"{where}optimizer", f"no optimizer labelled {quoted(spec.optimizer)} "
                                                     f"(labels: {', '.join(optimizers)})")
            if spec.start >= n_starts:
                raise self.fail(f"{where}start", f"the scenario has {n_starts} start(s), got {spec.start}")
            specs.append(spec)
        names = {spec.name for spec in specs}
        try:
            named = {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(description)
                     if field is not None} if specs else set()
        except ValueError as error:
            raise self.fail("description", f"{error} (a literal brace is written twice: {{{{ or }}}})") from None
        if named - names:
            raise self.fail("description", f"{{{sorted(named - names)[0]}}} names no event "
                                           f"(events: {', '.join(sorted(names)) or 'none'})")
        return tuple(specs)

    def noise(self, data: dict, function: TestFunction) -> tuple[Any, int]:
        noise = data.get("noise")
        if noise is not None:
            try:
                check_noise(noise, function.dim)
            except (TypeError, ValueError) as error:
                raise self.fail("noise", str(error)) from None
        return noise, self.checked(SCENARIO_TABLE, data, "seed")

    def kinds_fit(self, kinds: tuple[str, ...], function: TestFunction) -> None:
        """Every picture asked for can be drawn of this function (checked before any run)."""
        for kind in kinds:
            if kind == "distance" and not function.minima:
                raise self.fail("outputs.kinds", f"'distance' needs known minima to measure to; {function.name} has none")
            if kind in ("surface", "regularization") and function.dim != 2:
                raise self.fail("outputs.kinds", f"{kind!r} draws 2D functions; {function.name} is {function.dim}D")
            if kind == "spectrum" and function.matrix is None:
                raise self.fail("outputs.kinds", f"'spectrum' draws a matrix problem's singular values (low_rank, "
                                                 f"matrix_sensing, least_squares); {function.name} is none")

    def experiment(self, data: dict, fingerprint: str) -> ExperimentScenario:
        known = experiments()
        self.unknown_keys(data, EXPERIMENT_TABLE, "")
        kind = self.checked(EXPERIMENT_TABLE, data, "experiment")
        if kind not in known:
            raise self.fail("experiment", f"unknown experiment {quoted(kind)}{did_you_mean(kind, known)}")
        settings = self.settings(kind, known[kind], data.get("settings", {}))
        title = self.checked(EXPERIMENT_TABLE, data, "title") if "title" in data else self.path.stem
        description = self.checked(EXPERIMENT_TABLE, data, "description")
        return ExperimentScenario(self.path, title, description, kind, settings, self.outputs(data.get("outputs", {})),
                                  fingerprint, self.checked(EXPERIMENT_TABLE, data, "lesson"))

    def settings(self, kind: str, run: Any, table: Any) -> dict[str, Any]:
        """The keyword arguments of experiment ``kind`` (the function ``run``), checked without
        training anything yet."""
        from ..analyses.models.experiments import SettingError, check_settings

        if not isinstance(table, dict):
            raise self.fail("settings", f"expected a table, got {quoted(table)}")
        signature = inspect.signature(run)
        self.unknown_keys(table, list(signature.parameters), "settings.")
        settings = {k: _tuples(v) for k, v in table.items()}
        try:
            signature.bind(**settings)
        except TypeError as error:
            raise self.fail("settings", str(error)) from None
        try:  # ranges and ceilings: a file must not start a run of days
            check_settings(kind, settings)
        except SettingError as error:
            raise self.fail(f"settings.{error.key}", error.reason) from None
        for i, spec in enumerate(settings.get("optimizers", ()) if kind == "landscape" else ()):
            if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[1], dict)):
                raise self.fail(f"settings.optimizers[{i}]", f'expected ["name", {{hyperparameters}}], got {quoted(spec)}')
            try:
                get_optimizer(spec[0], allow_import=self.allow_import, **spec[1])
            except (TypeError, ValueError) as error:
                raise self.fail(f"settings.optimizers[{i}]", str(error)) from None
        return settings

    def penalty(self, table: Any, where: str) -> Penalty:
        if not isinstance(table, dict):
            raise self.fail(where, f"expected a table like {{l1 = 0.1, l2 = 0.5}}, got {quoted(table)}")
        self.unknown_keys(table, [f.name for f in dataclasses.fields(Penalty)], f"{where}.")
        try:
            return Penalty(**table)
        except ValueError as error:
            raise self.fail(where, str(error)) from None

    def function(self, data: dict) -> TestFunction:
        if ("function" in data) == ("expression" in data):
            raise self.fail("function", "give exactly one of function (a name) or expression (a formula)")
        bounds = data.get("bounds")
        if bounds is not None:
            bounds = self.bounds(bounds)
        dim = self.checked(SCENARIO_TABLE, data, "dim")
        if "expression" in data:
            text = self.checked(SCENARIO_TABLE, data, "expression")
            if isinstance(dim, str):
                raise self.fail("dim", f"a formula takes dim as a whole number; {quoted(dim)} is a matrix problem's size")
            if bounds is None and dim is not None:
                bounds = ((-5.0, 5.0),) * dim
            try:
                return parse_expression(text, bounds, name=text)
            except ExpressionError as error:
                raise self.fail("expression", str(error)) from None
        name = self.checked(SCENARIO_TABLE, data, "function")
        condition = self.checked(SCENARIO_TABLE, data, "condition")
        try:
            function = get_function(name, dim=dim, condition=condition)
        except ValueError as error:
            raise self.fail("dim" if dim is not None and name in FUNCTIONS else "function", str(error)) from None
        if bounds is not None:
            if len(bounds) != function.dim:
                raise self.fail("bounds", f"{name} is {function.dim}D: give {function.dim} pairs [lo, hi]")
            function = dataclasses.replace(function, bounds=bounds)
        return function

    def bounds(self, value: Any) -> tuple[tuple[float, float], ...]:
        ok = isinstance(value, list) and 1 <= len(value) <= MAX_DIM and all(
            isinstance(pair, list) and len(pair) == 2 and all(_is_number(v) for v in pair) and pair[0] < pair[1]
            for pair in value
        )
        if not ok:
            raise self.fail("bounds", f"expected [[lo, hi]] or [[x_lo, x_hi], [y_lo, y_hi]], ... with lo < hi, "
                                      f"got {quoted(value)}")
        return tuple((float(lo), float(hi)) for lo, hi in value)

    def starts(self, data: dict, function: TestFunction) -> tuple[tuple[float, ...], ...]:
        if "start" in data and "starts" in data:
            raise self.fail("start", "give start (one point) or starts (a list of points), not both")
        key = "starts" if "starts" in data else "start"
        points = data.get("starts", [data["start"]] if "start" in data else [list(function.start)])
        shape = f"{function.dim} numbers" + (" like [-1.5, 2]" if function.dim == 2 else " like [10]")
        if not isinstance(points, list) or not points:
            raise self.fail(key, f"expected a list of points of {shape}, got {quoted(points)}")
        for point in points:
            if not (isinstance(point, list) and len(point) == function.dim and all(_is_number(v) for v in point)):
                raise self.fail(key, f"expected a point of {shape}, got {quoted(point)}")
            problem = unreachable(point, function.bounds)  # outside the bounds is fine: the frame takes it in
            if problem is not None:
                raise self.fail(key, f"{quoted(point)} cannot start a run: {problem}")
        return tuple(tuple(float(v) for v in p) for p in points)

    def optimizers(self, entries: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """The optimizers by label, and the colours the file gives some of them."""
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise self.fail("optimizers", "expected one or more [[optimizers]] tables, each with a name")
        try:  # each is a path, a legend entry and a GIF panel of its own
            check_work(len(entries), MAX_FILE_OPTIMIZERS, "optimizers")
        except WorkError as error:
            raise self.fail("optimizers", str(error)) from None
        made: dict[str, Any] = {}
        colours: dict[str, str] = {}
        for i, entry in enumerate(entries):
            where = f"optimizers[{i}]"
            label, opt, colour = self.optimizer(entry, where)
            if label in made:
                raise self.fail(f"{where}.label", f"{quoted(label)} is used twice: give each optimizer its own label")
            made[label] = opt
            if colour is not None:
                try:
                    colours[label] = check_colour(colour)
                except ValueError as error:
                    raise self.fail(f"{where}.colour", str(error)) from None
        return made, colours

    def optimizer(self, entry: dict, where: str) -> tuple[str, Any, Any]:
        """One [[optimizers]] entry: its label, the optimizer, and the colour it asks for."""
        entry = {key: _tuples(value) if key != "schedule" else value for key, value in entry.items()}
        if "name" not in entry:
            raise self.fail(f"{where}.name", f"missing (one of `optviz list optimizers`: {', '.join(known_names())})")
        name = self.checked(OPTIMIZER_TABLE, entry, "name", f"{where}.")
        own = {key: value for key, value in entry.items() if key in OPTIMIZER_TABLE}
        hyperparameters = {key: value for key, value in entry.items() if key not in OPTIMIZER_TABLE}
        penalty = self.penalty(own["penalty"], f"{where}.penalty") if "penalty" in own else None
        schedule = own.get("schedule")
        try:
            accepted = hyperparameter_names(name, allow_import=self.allow_import)
        except ValueError as error:
            raise self.fail(f"{where}.name", str(error)) from None
        self.unknown_keys(hyperparameters, accepted, f"{where}.")
        try:
            opt = get_optimizer(name, allow_import=self.allow_import, **hyperparameters)
            if schedule is not None:
                opt = scheduled(opt, schedule)
        except (TypeError, ValueError) as error:
            key = f"{where}.schedule" if schedule is not None and "schedul" in str(error).lower() else where
            raise self.fail(key, str(error)) from None
        if penalty is not None:
            if not isinstance(opt, Optimizer):
                raise self.fail(f"{where}.penalty", f"a penalty works with optviz's own optimizers, not {name}")
            opt = penalised(opt, penalty)
        label = own.get("label")
        if not (isinstance(label, str) and label):  # anything else leaves the optimizer its own label
            label = opt.label
        return label, opt, own.get("colour")

    def outputs(self, table: Any) -> Outputs:
        """The [outputs] table, key by key in OUTPUTS_TABLE's order; kinds and size have checks of their own."""
        if not isinstance(table, dict):
            raise self.fail("outputs", f"expected a table, got {quoted(table)}")
        self.unknown_keys(table, OUTPUTS_TABLE, "outputs.")
        values: dict[str, Any] = {}
        own_checks = {"kinds": lambda: self.kinds(table), "size": lambda: self.size(table, values),
                      "background": lambda: self.background(table), "state": lambda: self.state(table),
                      "loop": lambda: self.loop(table)}
        for key in OUTPUTS_TABLE:  # in the table's order: the size's check reads gif, dpi and scale
            own_check = own_checks.get(key)
            values[key] = own_check() if own_check else self.checked(OUTPUTS_TABLE, table, key, "outputs.")
        return Outputs(**values)

    def state(self, table: dict) -> str | None:
        """outputs.state: true is "state", false none, or one of STATE_GLYPHS by name."""
        value = table.get("state", False)
        if value is True or value is False:
            return "state" if value else None
        if not isinstance(value, str) or value not in STATE_GLYPHS:
            raise self.fail("outputs.state", f"expected true, false or one of {', '.join(map(quoted, STATE_GLYPHS))}, "
                                             f"got {quoted(value)}")
        return value

    def kinds(self, table: dict) -> tuple[str, ...]:
        row = OUTPUTS_TABLE["kinds"]
        if "kinds" not in table:
            return row.default
        kinds = table["kinds"]
        if not isinstance(kinds, list) or not kinds or any(k not in row.choices for k in kinds):
            raise self.fail("outputs.kinds",
                            f"expected a list drawn from {', '.join(row.choices)}, got {quoted(kinds)}")
        return tuple(kinds)

    def loop(self, table: dict) -> str | int:
        if "loop" not in table:
            return OUTPUTS_TABLE["loop"].default
        try:
            loop_count(table["loop"])
        except ValueError as error:
            raise self.fail("outputs.loop", str(error)) from None
        return table["loop"]

    def background(self, table: dict) -> str | None:
        if "background" not in table:
            return None
        try:
            return check_colour(table["background"])
        except ValueError as error:
            raise self.fail("outputs.background", str(error)) from None

    def size(self, table: dict, values: dict) -> str | tuple[int, int]:
        """A named size or (width, height) in pixels, at the dpi asked for; one a GIF can be,
        if the file asks for one."""
        row = OUTPUTS_TABLE["size"]
        given = table.get("size", row.default)
        size = given if isinstance(given, str) else tuple(given) if isinstance(given, list) else None
        low, high = row.between
        if not (size in row.choices or (isinstance(size, tuple) and len(size) == 2
                                        and all(isinstance(v, int) and low <= v <= high for v in size))):
            raise self.fail("outputs.size", f"expected {', '.join(row.choices)} or [width, height] in pixels "
                                            f"({low} to {high}), got {quoted(given)}")
        try:
            get_size(size, values["dpi"], values["scale"])
        except ValueError as error:
            raise self.fail("outputs.dpi" if "dpi" in table else "outputs.size", str(error)) from None
        if values["gif"]:
            from ..render.gif import check_gif_size  # loads matplotlib: only for a file that asks for a GIF

            try:
                check_gif_size(screen_size(size, values["dpi"], values["scale"]))
            except ValueError as error:
                raise self.fail("outputs.size", str(error)) from None
        return size


def _tuples(value: Any) -> Any:
    """TOML arrays as tuples, and [name, {hyperparameters}] pairs as (name, dict)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _as_tuple(kind: type | tuple) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) != float("inf")
