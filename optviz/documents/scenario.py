"""Scenario files: a TOML description of one experiment, validated before any work starts.

    title = "Rosenbrock's valley"
    description = "Momentum follows the valley; plain SGD crawls."
    function = "rosenbrock"          # a registered name, or expression = "x**2 + 10*sin(y)"
    bounds = [[-2, 2], [-1, 3]]      # optional for a named function
    dim = 2                          # optional: sphere, rosenbrock, ... come in any dimension
    start = [-1.5, 2]                # or starts = [[...], [...]]
    steps = 500
    noise = 0.5                      # optional: Gaussian gradient noise (with seed = 0)

    [[optimizers]]
    name = "sgd"                     # any of `optviz list optimizers`; torch's in any case (nadam)
    lr = 1e-3                        # its hyperparameters, torch.optim's names
    label = "plain SGD"              # optional: its legend entry
    colour = "crimson"               # optional: its colour (a name or #rrggbb)
    schedule = { name = "StepLR", step_size = 100, gamma = 0.5 }   # optional; a list chains

    [outputs]
    png = true                       # also svg, pdf, gif, html (the interactive page)
    kinds = ["paths", "loss"]        # stills to draw: paths, loss, distance, surface, grid
    size = "slide"                   # slide, square, paper or [width, height]
    theme = "light"                  # light or dark
    frames = 200                     # the GIF's max_frames (also fps, every, panels, max_bytes)

A ``penalty = {l1 = ..., l2 = ...}`` adds a penalty to the function (or, inside an
``[[optimizers]]`` table, to that optimizer's loss only). A real-model experiment is
``experiment = "linear_regression" | "mlp" | "landscape"`` with a ``[settings]`` table of
its keyword arguments (see optviz.experiments and optviz.landscape).

A scenario file is data: an optimizer named by an import path (``name =
"pytorch_optimizer:Lion"``) imports that module, so it is refused unless the file is loaded
with ``allow_import=True`` (``--allow-import`` on the command line).

Every problem is a ScenarioError naming the file, the key, the value and what is allowed.
A file from elsewhere cannot hang or flood a run: it must be a regular file of at most
MAX_SCENARIO_BYTES, nested at most MAX_DEPTH deep, with strings of at most MAX_STRING
characters, and an experiment's settings within the ceilings of optviz.experiments.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.functions.formulas import ExpressionError, parse_expression
from ..core.files import read_regular
from ..core.functions import FUNCTIONS, TestFunction, get_function
from ..core.names import closest, cut, did_you_mean, quoted
from ..core.simulation.noise import check_noise
from ..core.optimizers.base import Optimizer
from ..core.optimizers.registry import get_optimizer, hyperparameter_names, known_names, scheduled
from ..analyses.penalties import Penalty, penalise, penalised
from ..core.simulation.result import Result
from ..core.limits import (MAX_DEPTH, MAX_DIM, MAX_KEY, MAX_SCENARIO_BYTES, MAX_SCENARIO_STEPS, MAX_STRING,
                           BudgetError, check)
from ..core.simulation.runs import peak_bytes, simulate
from ..render.kinds import STILL_KINDS

BUNDLED = Path(__file__).parent.parent / "scenarios"  # shipped with the package, in optviz/scenarios

TOP_KEYS = ("title", "description", "function", "expression", "bounds", "dim", "condition", "start", "starts",
            "steps", "noise", "seed", "penalty", "optimizers", "outputs")


class ScenarioError(ValueError):
    """A scenario file that cannot be run, with the place and the reason."""


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
    highlight: float = 1.0  # the lambda whose level sets the "regularization" still draws


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

    @property
    def name(self) -> str:
        return self.path.stem

    def run(self) -> Result:
        return simulate(self.function, self.optimizers, list(self.starts), self.steps, noise=self.noise,
                        seed=self.seed)


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

    @property
    def name(self) -> str:
        return self.path.stem

    def run(self) -> Any:
        return experiments()[self.experiment](**self.settings)


def experiments() -> dict[str, Any]:
    """The real-model experiments a scenario can run (loaded on first use: they train models)."""
    from ..analyses.models.experiments import EXPERIMENTS
    from ..analyses.models.landscapes import landscape

    return {**EXPERIMENTS, "landscape": landscape}


EXPERIMENT_KEYS = ("title", "description", "experiment", "settings", "outputs")


def bundled() -> list[Path]:
    """The scenario files shipped with optviz, in gallery order."""
    return sorted(BUNDLED.glob("*.toml"))


def listing() -> str:
    """The bundled scenarios: each file's name and title."""
    return "\n".join(f"{path.stem:<34} {tomllib.loads(path.read_text(encoding='utf-8')).get('title', '')}"
                     for path in bundled())


def find(name: str | Path) -> Path:
    """A scenario file: the path itself if it exists, else the bundled scenario of that name,
    with or without its number, or its number alone ("rosenbrock", "11-rosenbrock", "11")."""
    path = Path(name)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    names = {}
    for p in bundled():
        number, _, rest = p.stem.partition("-")
        names.update({p.stem: p, rest: p, number: p})
    if str(name) in names:
        return names[str(name)]
    raise ScenarioError(f"{name}: no such file, and no bundled scenario of that name"
                        f"{did_you_mean(name, [p.stem.split('-', 1)[-1] for p in bundled()])}")


def load(path: str | Path, *, allow_import: bool = False) -> Scenario | ExperimentScenario:
    """Read and validate a scenario file; ``allow_import`` lets its optimizers be import paths."""
    path = Path(path)
    try:
        raw = read_regular(path, MAX_SCENARIO_BYTES, "scenario file")
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    if nesting(text, MAX_DEPTH) > MAX_DEPTH:  # before parsing: tomllib's time grows with a key's depth squared
        raise ScenarioError(f"{path}: nested more than {MAX_DEPTH} deep")
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as error:  # TOMLDecodeError, and ints of 5,000 digits
        raise ScenarioError(f"{path}: not valid TOML: {cut(str(error), 200)}") from None
    reader = _Reader(path, allow_import)
    reader.bounded(data)
    return reader.scenario(data, hashlib.sha256(raw).hexdigest())


_SPECIAL = re.compile(r"[\"'#\[\]{}.,=\n]")
_STRING_ENDS = {  # the rest of a string after its opening quotes
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*""""{0,2}', re.S),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*"'),
    "'''": re.compile(r"(?:[^']|'(?!''))*''''{0,2}"),
    "'": re.compile(r"[^'\n]*'"),
}


def nesting(text: str, limit: float = float("inf")) -> int:
    """How deep TOML text nests: open brackets and braces plus the dots of a dotted key,
    counted outside strings and comments, without parsing; it stops counting past limit."""
    depth = dots = deepest = 0
    pos = 0
    while match := _SPECIAL.search(text, pos):
        char, pos = match.group(), match.end()
        if char in "\"'":
            quote = char * 3 if text.startswith(char * 3, match.start()) else char
            end = _STRING_ENDS[quote].match(text, match.start() + len(quote))
            pos = end.end() if end else len(text)
        elif char == "#":
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline
        elif char == ".":
            dots += 1
        else:
            dots = 0  # a dotted key ends at =, a comma, a bracket or a line's end
            depth = depth + 1 if char in "[{" else max(depth - 1, 0) if char in "]}" else depth
        deepest = max(deepest, depth + dots)
        if deepest > limit:
            break
    return deepest


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

    def typed(self, table: dict, key: str, kind: type | tuple, default: Any, where: str = "") -> Any:
        value = table.get(key, default)
        ok = isinstance(value, kind) and not (isinstance(value, bool) and bool not in _as_tuple(kind))
        if not ok:
            names = " or ".join(k.__name__ for k in _as_tuple(kind))
            raise self.fail(f"{where}{key}", f"expected {names}, got {quoted(value)}")
        return value

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
        if "experiment" in data:
            return self.experiment(data, fingerprint)
        self.unknown_keys(data, TOP_KEYS, "")
        title = self.typed(data, "title", str, self.path.stem.replace("-", " ").replace("_", " "))
        description = self.typed(data, "description", str, "")
        function = self.function(data)
        starts = self.starts(data, function)
        base = function
        if "penalty" in data:
            function = penalise(function, self.penalty(data["penalty"], "penalty"))
        steps = self.typed(data, "steps", int, 100)
        if not 0 <= steps <= MAX_SCENARIO_STEPS:
            raise self.fail("steps", f"must be between 0 and {MAX_SCENARIO_STEPS}, got {steps}")
        optimizers, colours = self.optimizers(data.get("optimizers"))
        paths = len(starts) * len(optimizers)
        try:
            check(peak_bytes(steps, paths, function.dim, 8), f"{steps} steps x {paths} paths", "use fewer steps or starts")
        except BudgetError as error:
            raise self.fail("steps", str(error)) from None
        outputs = self.outputs(data.get("outputs", {}))
        self.kinds_fit(outputs.kinds, function)
        noise, seed = self.noise(data, function)
        # bounds given for a named function frame its pictures; a formula's bounds are its domain
        frame = self.bounds(data["bounds"]) if "bounds" in data and "function" in data else None
        return Scenario(self.path, title, description, function, starts, steps, optimizers, outputs,
                        fingerprint=fingerprint, base_function=base, frame=frame, colours=colours,
                        noise=noise, seed=seed)

    def noise(self, data: dict, function: TestFunction) -> tuple[Any, int]:
        noise = data.get("noise")
        if noise is not None:
            try:
                check_noise(noise, function.dim)
            except (TypeError, ValueError) as error:
                raise self.fail("noise", str(error)) from None
        seed = self.typed(data, "seed", int, 0)
        if not 0 <= seed < 2**63:
            raise self.fail("seed", f"must be between 0 and 2**63 - 1, got {seed}")
        return noise, seed

    def kinds_fit(self, kinds: tuple[str, ...], function: TestFunction) -> None:
        """Every picture asked for can be drawn of this function (checked before any run)."""
        for kind in kinds:
            if kind == "distance" and not function.minima:
                raise self.fail("outputs.kinds", f"'distance' needs known minima to measure to; {function.name} has none")
            if kind in ("surface", "regularization") and function.dim != 2:
                raise self.fail("outputs.kinds", f"{kind!r} draws 2D functions; {function.name} is {function.dim}D")

    def experiment(self, data: dict, fingerprint: str) -> ExperimentScenario:
        from ..analyses.models.experiments import SettingError, check_settings

        known = experiments()
        self.unknown_keys(data, EXPERIMENT_KEYS, "")
        kind = self.typed(data, "experiment", str, "")
        if kind not in known:
            raise self.fail("experiment", f"unknown experiment {quoted(kind)}{did_you_mean(kind, known)}")
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            raise self.fail("settings", f"expected a table, got {quoted(settings)}")
        signature = inspect.signature(known[kind])
        self.unknown_keys(settings, list(signature.parameters), "settings.")
        settings = {k: _tuples(v) for k, v in settings.items()}
        try:  # check the values by binding them, without training anything yet
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
        return ExperimentScenario(
            self.path, self.typed(data, "title", str, self.path.stem), self.typed(data, "description", str, ""),
            kind, settings, self.outputs(data.get("outputs", {})), fingerprint,
        )

    def penalty(self, table: Any, where: str) -> Penalty:
        if not isinstance(table, dict):
            raise self.fail(where, f"expected a table like {{l1 = 0.1, l2 = 0.5}}, got {quoted(table)}")
        self.unknown_keys(table, ("l1", "l2"), f"{where}.")
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
        dim = self.typed(data, "dim", int, None) if "dim" in data else None
        if "expression" in data:
            text = self.typed(data, "expression", str, "")
            if bounds is None and dim is not None:
                bounds = ((-5.0, 5.0),) * dim
            try:
                return parse_expression(text, bounds, name=text)
            except ExpressionError as error:
                raise self.fail("expression", str(error)) from None
        name = self.typed(data, "function", str, "")
        condition = self.typed(data, "condition", (int, float), None) if "condition" in data else None
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
            for (lo, hi), v in zip(function.bounds, point):
                if not lo <= v <= hi:
                    raise self.fail(key, f"{quoted(point)} lies outside the bounds {list(map(list, function.bounds))}")
        return tuple(tuple(float(v) for v in p) for p in points)

    def optimizers(self, entries: Any) -> tuple[dict[str, Any], dict[str, str]]:
        """The optimizers by label, and the colours the file gives some of them."""
        from ..render.style import check_colour

        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise self.fail("optimizers", "expected one or more [[optimizers]] tables, each with a name")
        made: dict[str, Any] = {}
        colours: dict[str, str] = {}
        for i, entry in enumerate(entries):
            where = f"optimizers[{i}]"
            entry = {key: _tuples(value) if key != "schedule" else value for key, value in entry.items()}
            name = self.typed(entry, "name", str, None, f"{where}.") if "name" in entry else None
            if name is None:
                raise self.fail(f"{where}.name", f"missing (one of `optviz list optimizers`: {', '.join(known_names())})")
            label = entry.pop("label", None)
            colour = entry.pop("colour", None)
            entry.pop("name")
            penalty = self.penalty(entry.pop("penalty"), f"{where}.penalty") if "penalty" in entry else None
            schedule = entry.pop("schedule", None)
            try:
                accepted = hyperparameter_names(name, allow_import=self.allow_import)
            except ValueError as error:
                raise self.fail(f"{where}.name", str(error)) from None
            self.unknown_keys(entry, accepted, f"{where}.")
            try:
                opt = get_optimizer(name, allow_import=self.allow_import, **entry)
                if schedule is not None:
                    opt = scheduled(opt, schedule)
            except (TypeError, ValueError) as error:
                key = f"{where}.schedule" if schedule is not None and "schedul" in str(error).lower() else where
                raise self.fail(key, str(error)) from None
            if penalty is not None:
                if not isinstance(opt, Optimizer):
                    raise self.fail(f"{where}.penalty", f"a penalty works with optviz's own optimizers, not {name}")
                opt = penalised(opt, penalty)
            label = label if isinstance(label, str) and label else opt.label
            if label in made:
                raise self.fail(f"{where}.label", f"{quoted(label)} is used twice: give each optimizer its own label")
            made[label] = opt
            if colour is not None:
                try:
                    colours[label] = check_colour(colour)
                except ValueError as error:
                    raise self.fail(f"{where}.colour", str(error)) from None
        return made, colours

    def outputs(self, table: Any) -> Outputs:
        if not isinstance(table, dict):
            raise self.fail("outputs", f"expected a table, got {quoted(table)}")
        fields = {f.name: f for f in dataclasses.fields(Outputs)}
        self.unknown_keys(table, fields, "outputs.")
        values: dict[str, Any] = {}
        for key in ("png", "svg", "pdf", "gif", "html", "transparent"):
            values[key] = self.typed(table, key, bool, fields[key].default, "outputs.")
        kinds = table.get("kinds", ["paths"])
        if not isinstance(kinds, list) or not kinds or any(k not in STILL_KINDS for k in kinds):
            raise self.fail("outputs.kinds", f"expected a list drawn from {', '.join(STILL_KINDS)}, got {quoted(kinds)}")
        values["kinds"] = tuple(kinds)
        size = table.get("size", "slide")
        from_table = size if isinstance(size, str) else tuple(size) if isinstance(size, list) else None
        if not (from_table in ("slide", "square", "paper") or (
                isinstance(from_table, tuple) and len(from_table) == 2 and all(isinstance(v, int) and 64 <= v <= 10_000 for v in from_table))):
            raise self.fail("outputs.size", f"expected slide, square, paper or [width, height] in pixels (64 to 10000), got {quoted(size)}")
        values["size"] = from_table
        if values["gif"]:
            from ..render.gif import check_gif_size
            from ..render.style import get_size

            try:
                check_gif_size(get_size(from_table))
            except ValueError as error:
                raise self.fail("outputs.size", str(error)) from None
        values["theme"] = self.choice(table, "theme", ("light", "dark"), "light")
        values["panels"] = self.choice(table, "panels", ("auto", "single", "optimizer"), "auto")
        values["frames"] = self.ranged(table, "frames", int, 2, 2000, 200)
        values["fps"] = self.ranged(table, "fps", (int, float), 0.5, 50, None) if "fps" in table else None
        values["every"] = self.ranged(table, "every", int, 1, 10_000, 1)
        values["highlight"] = float(self.ranged(table, "highlight", (int, float), 0, 1e6, 1.0))
        if "max_bytes" in table:
            values["max_bytes"] = self.ranged(table, "max_bytes", int, 1024, 10**10, None)
        return Outputs(**values)

    def choice(self, table: dict, key: str, allowed: tuple[str, ...], default: str) -> str:
        value = table.get(key, default)
        if value not in allowed:
            raise self.fail(f"outputs.{key}", f"expected one of {', '.join(allowed)}, got {quoted(value)}")
        return value

    def ranged(self, table: dict, key: str, kind: Any, low: float, high: float, default: Any) -> Any:
        value = self.typed(table, key, kind, default, "outputs.")
        if not low <= value <= high:
            raise self.fail(f"outputs.{key}", f"must be between {low} and {high}, got {value}")
        return value


def _tuples(value: Any) -> Any:
    """TOML arrays as tuples, and [name, {hyperparameters}] pairs as (name, dict)."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _as_tuple(kind: type | tuple) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) != float("inf")

