"""A regular install works: the wheel is built, installed into a fresh virtual environment
without -e (with the extras README names), and used from a folder outside the checkout, as a
new user would: every command README shows, in order, from an empty folder, and every Python
snippet of README and docs/."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from doc_commands import commands
from groups import WHEEL
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
pytestmark = WHEEL  # one wheel and one venv for the module
SKIP = shutil.ignore_patterns(".venv", ".venv-test", ".git", "gallery", "build", "*.egg-info", "__pycache__", ".pytest_cache",
                              ".hypothesis")
# pip installs without byte-compiling (most of torch is never imported here); the venv's
# interpreters write the bytecode of what they do import, once, whatever the caller's setting
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_COMMANDS = [line for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S) for line in commands(block)]
# the extras README's commands use (the notebook extra brings JupyterLab, for people, not commands)
README_EXTRAS = ["optimizers", "slides"]
# the README's gallery command builds every scenario, which the repository's own tests render;
# here it builds by default two of them without their GIFs (the wheel ships every one: see
# test_the_wheel_holds_every_module_and_the_scenarios); OPTVIZ_LONG_WHEEL=1 runs it as written
LONG = bool(os.environ.get("OPTVIZ_LONG_WHEEL"))
SHORT_GALLERY = ["02-gd-1d-local-minimum.toml", "03-gd-2d-quadratic.toml"]
SNIPPETS = [snippet for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
            for snippet in re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)]


def run(args, cwd, timeout=600):
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV)
    assert done.returncode == 0, f"{args}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel, built from a copy of the checkout (the checkout itself is left untouched)."""
    base = tmp_path_factory.mktemp("build")
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=SKIP, symlinks=True)
    run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q", "-w", base / "dist", source],
        cwd=base)
    return next((base / "dist").glob("optviz-*.whl"))


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory):
    """A fresh virtual environment with the wheel, its dependencies and the extras README's
    commands use installed (no -e)."""
    base = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", base / "env"], cwd=base)
    python = base / "env" / "bin" / "python"
    run([python, "-m", "pip", "install", "-q", "--no-compile", "-c", ROOT / "constraints.txt",
         f"optviz[{','.join(README_EXTRAS)}] @ {wheel.as_uri()}"], cwd=base)
    work = base / "elsewhere"
    work.mkdir()
    return python, base / "env" / "bin" / "optviz", work


def test_the_wheel_holds_every_module_and_the_scenarios(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(p.relative_to(ROOT)) for p in (ROOT / "optviz").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    assert "optviz/render/trajectories.py" in names  # a subpackage ships too
    scenarios = {f"optviz/scenarios/{p.name}" for p in (ROOT / "optviz" / "scenarios").glob("*.toml")}
    assert len(scenarios) >= 22 and scenarios <= names


def test_optviz_comes_from_the_installed_wheel(venv):
    python, _, work = venv
    where = run([python, "-c", "import optviz; print(optviz.__file__)"], cwd=work).stdout.strip()
    assert where.startswith(str(python.parent.parent)) and "site-packages" in where


@pytest.fixture(scope="module")
def first_hour(venv, tmp_path_factory):
    """Every command README shows, run in order from one empty folder: {line: finished process}."""
    python, optviz, _ = venv
    folder = tmp_path_factory.mktemp("first-hour")
    some = tmp_path_factory.mktemp("some-scenarios")
    for name in SHORT_GALLERY:
        shutil.copy(ROOT / "optviz" / "scenarios" / name, some)
    done = {}
    for line in README_COMMANDS:
        words = [str(optviz), *shlex.split(line)[1:]]
        if words[1] == "gallery" and not LONG:
            words += ["--no-gif", "--scenarios", str(some)]
        done[line] = subprocess.run(words, cwd=folder, capture_output=True, text=True, timeout=900, env=ENV)
    return folder, done


@pytest.mark.parametrize("line", README_COMMANDS)
def test_every_readme_command_runs_after_a_plain_install(first_hour, line):
    _, done = first_hour
    assert done[line].returncode == 0, f"{line}:\n{done[line].stdout[-2000:]}\n{done[line].stderr[-2000:]}"


def test_the_first_commands_draw_where_they_are_run(first_hour):
    folder, done = first_hour
    assert "wrote compare.png" in done["optviz compare"].stdout
    # the table README shows under its first command is the one that command prints
    shown = re.search(r"```\n(ill_conditioned:.*?)```", README, flags=re.S).group(1)
    printed = [line for line in done["optviz compare"].stdout.splitlines() if not line.startswith("wrote")]
    assert printed == [line for line in shown.splitlines() if not line.startswith("wrote")]
    assert "RMSProp gets there at step 77" in " ".join(README.split()) and " 77" in shown
    with Image.open(folder / "compare.png") as still:
        assert still.size == (1920, 1080) and still.info["dpi"] == pytest.approx((144, 144), abs=0.01)
    with Image.open(folder / "compare.gif") as gif:  # a screen's size; still frames dropped, the poster first
        assert gif.size == (1280, 720) and 20 < gif.n_frames <= 102
    run_by_name = next(line for line in README_COMMANDS if line.startswith("optviz run 03-gd-2d-quadratic"))
    assert "03-gd-2d-quadratic.png" in done[run_by_name].stdout and (folder / "03-gd-2d-quadratic.png").exists()


def test_a_function_alone_is_compared_by_the_six_each_tuned_for_it(first_hour):
    from optviz.analyses.comparisons import SIX_NAMES
    from optviz.analyses.studies import tune_lr

    _, done = first_hour
    out = done["optviz compare rosenbrock"].stdout
    said = out.splitlines()[0]
    assert said.startswith("learning rates tuned for rosenbrock (6 optimizers x 1e-4..10, one batch): ")
    for name in SIX_NAMES:  # one batched search finds what six separate ones find
        assert f"{name} lr={tune_lr('rosenbrock', name, {}, None, 100):.3g}" in said
    assert "diverged" not in out and "To draw it" not in out
    *_, png, gif = out.splitlines()
    assert png == "wrote compare.png" and gif.startswith("wrote compare.gif (")


def test_the_readme_gallery_command_renders_the_bundled_scenarios(first_hour):
    folder, done = first_hour
    line = next(line for line in README_COMMANDS if line.split()[1] == "gallery")
    count = len(list((ROOT / "optviz" / "scenarios").glob("*.toml"))) if LONG else len(SHORT_GALLERY)
    assert f"{count} of {count} scenarios rendered" in done[line].stdout
    page = (folder / "gallery" / "index.html").read_text()
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) >= count and all((folder / "gallery" / src).exists() for src in sources)


@pytest.fixture(scope="module")
def snippets_run(venv):
    """Every snippet run in one process of the venv's Python, each in a folder of its own and a
    namespace of its own (a missing import fails as it would alone): {number: its traceback or ""}."""
    python, _, work = venv
    runner = work / "snippets.py"
    runner.write_text(
        "import json, os, runpy, sys, traceback\n"
        "found = {}\n"
        "for number, folder in enumerate(sys.argv[1:]):\n"
        "    os.chdir(folder)\n"
        "    try:\n"
        "        runpy.run_path('snippet.py', run_name='__main__')\n"
        "        found[number] = ''\n"
        "    except BaseException:\n"
        "        found[number] = traceback.format_exc()[-3000:]\n"
        "    finally:\n"
        "        import matplotlib.pyplot as plt; plt.close('all')\n"
        "print(json.dumps(found))\n")
    folders = []
    for number, snippet in enumerate(SNIPPETS):
        folders.append(work / f"snippet-{number}")
        folders[-1].mkdir()
        (folders[-1] / "snippet.py").write_text(snippet)
    done = run([python, runner, *folders], cwd=work, timeout=900)
    return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}


@pytest.mark.parametrize("number", range(len(SNIPPETS)))
def test_python_snippets_run_as_written(snippets_run, number):
    assert snippets_run[number] == "", f"snippet {number}:\n{SNIPPETS[number]}\n{snippets_run[number]}"
