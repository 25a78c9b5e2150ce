"""Hostile input, generated and written: command lines, scenario files and formulas, valid and
broken, run under a memory limit and a timeout. Every case must end in exit 0 or 2 (never a
crash), with a failure as one short line on stderr, no traceback, no half-written file.

Hypothesis generates the cases here; one child process (run as ``python tests/test_fuzz.py
CASES.json``) runs them all through the CLI under an address-space limit, so a memory bomb
fails the test instead of the machine. OPTVIZ_LONG_FUZZ=1 runs ten times as many."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
LONG = bool(os.environ.get("OPTVIZ_LONG_FUZZ"))
CASES = 1500 if LONG else 150
MEMORY_LIMIT = 8 * 2**30  # address space of the child: torch alone maps about 2 GiB
BUDGET = "1G"  # optviz's own budget in the child: it must refuse before the limit is reached
MAX_LINE = 320

# --- the cases ----------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.sampled_from(["0", "-1", "1e400", "inf", "-inf", "nan", "1e-400", "0.1", "10", "999999999999", "", "abc",
                     "1/2", "true", "none", "0.9/0.999", "0.9/inf", "-0", "1e5", "3"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**12, max_value=10**12).map(str),
)
NAMES = st.one_of(
    st.sampled_from(["sgd", "adam", "ADAM", "nadam", "lbfgs", "rmsprop", "momentum", "adamw", "muon", "adma", "",
                     "torch.optim:Adam", "os:system", "x" * 5000, "sgd:", ":lr=1"]),
    st.text(max_size=30),
)
KEYS = st.sampled_from(["lr", "momentum", "betas", "eps", "weight_decay", "nesterov", "alpha", "max_iter", "lrr", ""])
OPTIMIZER = st.builds(lambda name, pairs: name + (":" + ",".join(f"{k}={v}" for k, v in pairs) if pairs else ""),
                      NAMES, st.lists(st.tuples(KEYS, NUMBERS), max_size=3))
TOKENS = ["x", "y", "x1", "x2", "2", "0", "1e308", "9", "-", "+", "*", "/", "**", "(", ")", "sin(", "log(", "sqrt(",
          "exp(", "abs(", "pi", "e", ".", "__import__(", "'a'", "lambda", ",", "[0]", ".real", "10*10*10", "--"]
FORMULA = st.one_of(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map("".join), st.text(max_size=40))
FUNCTION = st.one_of(st.sampled_from(["rosenbrock", "himmelblau", "saddle", "sphere", "rastrigin", "nope", ""]),
                     FORMULA)
POINT = st.one_of(st.lists(NUMBERS, min_size=0, max_size=3).map(",".join), st.text(max_size=12))
SIZE = st.sampled_from(["slide", "paper", "tiny", "10x10", "100000x10", "4001x4001", "640x480", "axb", "", "1x"])


@st.composite
def compare_line(draw):
    words = ["compare", draw(FUNCTION), *draw(st.lists(OPTIMIZER, max_size=3))]
    for option, values in (("--steps", st.integers(-5, 2_000_000).map(str) | NUMBERS), ("--start", POINT),
                           ("--bounds", POINT), ("--size", SIZE), ("--tol", NUMBERS), ("--noise", NUMBERS),
                           ("--dim", st.integers(-1, 10**7).map(str)), ("--seed", NUMBERS)):
        if draw(st.integers(0, 4)) == 0:
            words += [option, draw(values)]
    if draw(st.integers(0, 9)) == 0:  # drawing is slow: a few cases draw
        words += ["--png", "OUT/a.png"]
    return words


@st.composite
def sweep_or_basins_line(draw):
    if draw(st.booleans()):
        return ["basins", draw(FUNCTION), draw(OPTIMIZER), "--n", draw(st.integers(-1, 100_000).map(str)),
                "--steps", draw(st.integers(-1, 10**6).map(str))]
    return ["sweep", draw(FUNCTION), draw(NAMES), "--lr", draw(POINT).replace(",", ":"), "--momentum",
            draw(st.sampled_from(["0:0.9", "0:inf", "nan:1", "1:0", "", "0:1e400"])), "--n",
            draw(st.integers(-1, 5000).map(str)), "--steps", draw(st.integers(-1, 10**6).map(str))]


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, (int,)):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value)


SCALARS = st.one_of(st.floats(), st.integers(-10**20, 10**20), st.booleans(), st.text(max_size=20),
                    st.sampled_from(["rosenbrock", "adam", "grid", "x**2 + y**2", "1/0 + x", "x" * 20_000]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=8)
TOP_KEYS = ["title", "description", "function", "expression", "bounds", "dim", "start", "starts", "steps", "noise",
            "seed", "experiment", "nonsense"]


@st.composite
def scenario_file(draw):
    lines = [f"{key} = {toml_value(draw(VALUES))}" for key in draw(st.lists(st.sampled_from(TOP_KEYS), unique=True,
                                                                            max_size=5))]
    if draw(st.booleans()):
        lines.insert(0, 'function = "rosenbrock"')
    for _ in range(draw(st.integers(0, 2))):
        lines.append("[[optimizers]]")
        lines.append(f"name = {toml_value(draw(NAMES | st.just('adam')))}")
        for key in draw(st.lists(KEYS.filter(bool), unique=True, max_size=2)):
            lines.append(f"{key} = {toml_value(draw(VALUES))}")
    if draw(st.integers(0, 3)) == 0:
        lines.append("[outputs]")
        lines.append(f"gif = {toml_value(draw(st.booleans()))}")
        lines.append(f"size = {toml_value(draw(st.sampled_from(['slide', [64, 64], [10000, 10000], 'huge', 3])))}")
    if draw(st.integers(0, 5)) == 0:
        lines.append("[settings]")
        lines.append(f"epochs = {toml_value(draw(VALUES))}")
    if draw(st.integers(0, 9)) == 0:  # broken TOML
        lines.append(draw(st.sampled_from(["[[", "a = ", "= 1", "a = [" * 50_000, "x.y.z" * 1000 + " = 1"])))
    return "\n".join(lines) + "\n"


CASE = st.one_of(
    compare_line().map(lambda words: {"argv": words}),
    sweep_or_basins_line().map(lambda words: {"argv": words}),
    scenario_file().map(lambda text: {"argv": ["run", "FILE", "--out", "OUT/run"], "file": text}),
    FORMULA.map(lambda text: {"argv": ["compare", text, "sgd:lr=0.01", "--steps", "20"]}),
    st.lists(st.sampled_from(["list", "functions", "optimizers", "scenarios", "--from", "os", "nope", ""]),
             min_size=1, max_size=3).map(lambda words: {"argv": words}),
)

# --- a written corpus of the cases ------------------------------------------------

CORPUS = [
    ["compare", ""], ["compare", "rosenbrock", "adam:lr=inf"], ["compare", "rosenbrock", "sgd:lr=1e400"],
    ["compare", "x**2+y**2", "--bounds", ""], ["compare", "x**2+y**2", "--bounds", "abc"],
    ["compare", "x**2+y**2", "--bounds", "1,2,3"], ["compare", "rosenbrock", "--tol", "nan"],
    ["compare", "x**--1000 + y"], ["compare", "x**(10*10*10) + y"], ["compare", "9**9**9"], ["compare", "1/0 + x"],
    ["compare", "(-1)**0.5 + x"], ["compare", "log(-1 - x**2 - y**2)", "sgd", "--png", "OUT/n.png"],
    ["compare", "rosenbrock", "adam", "--gif", "OUT/a.gif", "--size", "10000x10000"],
    ["compare", "x" * 100_000], ["compare", "rosenbrock", "y" * 100_000], ["basins", "himmelblau", "adam:lr=0.1",
                                                                            "--n", "100000"],
    ["run", "/dev/zero"], ["run", "OUT"], ["list", "nope"],
    ["landscape", "--resolution", "100000"], ["landscape", "--span", "inf"], ["landscape", "--device", "cuda:7"],
]


def _run(cases: list[dict], tmp_path: Path) -> list[dict]:
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    env = {**os.environ, "OPTVIZ_MAX_MEMORY": BUDGET, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    child = subprocess.run([sys.executable, __file__, str(tmp_path / "cases.json"), str(tmp_path)], env=env,
                           capture_output=True, text=True, timeout=900)
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads((tmp_path / "results.json").read_text())


def _check(results: list[dict], tmp_path: Path) -> None:
    for case in results:
        said = f"{case['argv']!r:.300}: exit {case['code']}, stderr {case['stderr'][:400]!r}"
        assert case["code"] in (0, 2), said
        assert "Traceback" not in case["stderr"] + case["stdout"], said
        assert case["seconds"] < 60, said
        if case["code"] == 2:
            lines = case["stderr"].strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("optviz: error: "), said
            assert len(lines[0]) <= MAX_LINE, said
    assert not list(tmp_path.rglob("*.part")), "a half-written file was left behind"


def test_the_written_corpus(tmp_path):
    results = _run([{"argv": argv} for argv in CORPUS], tmp_path)
    _check(results, tmp_path)
    assert all(case["code"] == 2 for case in results), [(c["argv"][:3], c["code"]) for c in results if c["code"] != 2]


def test_generated_input_never_crashes(tmp_path):
    cases = []

    # hypothesis draws the cases (varied, reproducible unless OPTVIZ_LONG_FUZZ); one child runs them all
    @settings(max_examples=CASES, deadline=None, database=None, derandomize=not LONG,
              suppress_health_check=list(HealthCheck))
    @given(CASE)
    def draw(case):
        cases.append(case)

    draw()
    assert len(cases) >= CASES // 2
    _check(_run(cases, tmp_path), tmp_path)


# --- the child: every case through the CLI, under a memory limit ----------------------------


def _child(cases_path: str, folder: str) -> None:
    import resource

    from click.testing import CliRunner

    from optviz.interface.cli import main

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    out = Path(folder) / "out"
    out.mkdir(exist_ok=True)
    results = []
    for k, case in enumerate(json.loads(Path(cases_path).read_text())):
        argv = [word.replace("OUT", str(out)) if word.startswith("OUT") else word for word in case["argv"]]
        if "file" in case:
            scenario = out / f"case-{k}.toml"
            scenario.write_text(case["file"])
            argv = [str(scenario) if word == "FILE" else word for word in argv]
        started = time.perf_counter()
        result = CliRunner().invoke(main, argv)
        code = result.exit_code
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            code = f"raised {type(result.exception).__name__}: {result.exception}"
        results.append({"argv": case["argv"], "code": code, "stdout": result.stdout, "stderr": result.stderr,
                        "seconds": time.perf_counter() - started})
    (Path(folder) / "results.json").write_text(json.dumps(results))


if __name__ == "__main__":
    _child(*sys.argv[1:3])
