"""The docs are true: every file README and docs/ name exists, every link resolves, every command
they or a --help show parses and names real scenarios. (Their Python snippets, and README's
commands, run in tests/test_wheel.py, from a wheel.)"""

import re
import shlex
from pathlib import Path

import click
import pytest
from doc_commands import commands

from optviz.interface.cli import main
from optviz.documents.scenario import ScenarioError, find

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXTS = {path: path.read_text(encoding="utf-8") for path in DOCS}
TOP = ("gallery/", "scenarios/", "bench/", "tests/", "optviz/", ".ci/", "docs/")


def blocks(language, paths=DOCS):
    return [block for path in paths for block in re.findall(rf"```{language}\n(.*?)```", TEXTS[path], flags=re.S)]


def parse(line):
    """Parse a command line as optviz would, without running it; raises click's errors."""
    words = shlex.split(line)[1:]
    while words and words[0] in ("-q", "--quiet"):
        words.pop(0)
    parent = main.make_context("optviz", [])
    name = words[0]
    command = main.get_command(parent, name)
    assert command is not None, f"no command {name!r}: {line}"
    context = command.make_context(name, words[1:], parent=parent)
    if name in ("run", "slides"):
        for scenario in context.params["scenarios"]:
            if scenario.endswith(".toml") and not (ROOT / scenario).exists():
                raise ScenarioError(f"{scenario}: the repository holds no such file")
            find(scenario)  # a bundled name, or a file the repository holds


def test_the_docs_name_no_file_the_repository_does_not_hold():
    named = {path for text in TEXTS.values()
             for path in re.findall(r"(?<![\w/.])((?:%s)[\w./-]*\w)" % "|".join(map(re.escape, TOP)), text)}
    assert len(named) > 30
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, missing


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_link_resolves(doc):
    targets = re.findall(r"\]\((?!https?:|#)([^)#\s]+)", TEXTS[doc]) + re.findall(r'<(?:img|a) [^>]*(?:src|href)="(?!https?:|#)([^"#]+)"', TEXTS[doc])
    missing = sorted(target for target in targets if not (doc.parent / target).exists())
    assert not missing, missing


DOC_COMMANDS = [line for block in blocks("sh") for line in commands(block)]


@pytest.mark.parametrize("line", DOC_COMMANDS)
def test_doc_commands_parse(line):
    parse(line)


def help_examples():
    context = main.make_context("optviz", [])
    texts = [main.get_help(context)]
    for name, command in main.commands.items():
        texts.append(command.get_help(click.Context(command, info_name=name, parent=context)))
    return [line for text in texts for line in commands(text.split("Examples:", 1)[-1])]


@pytest.mark.parametrize("line", help_examples())
def test_help_examples_parse_and_name_real_files(line):
    parse(line)


def test_help_does_not_say_tuned_where_nothing_is():
    bare = next(line for line in main.get_help(main.make_context("optviz", [])).splitlines()
                if line.strip().startswith("optviz compare  "))
    assert "tuned" not in bare


def test_parse_catches_what_it_should():
    with pytest.raises(click.UsageError):
        parse("optviz compare rosenbrock --nonsense")
    with pytest.raises(ScenarioError):
        parse("optviz run scenarios/rosenbrock.toml")


def test_every_set_up_route_installs_the_versions_of_constraints_txt():
    installs = [line for block in blocks("sh", [ROOT / "README.md"]) for line in block.splitlines()
                if line.startswith("pip install")]
    assert len(installs) == 4 and all(" -c constraints.txt " in line for line in installs)
    assert "download.pytorch.org/whl/cpu" in installs[0]  # the CPU build, said where it is installed
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -c constraints.txt -e .\n" in makefile  # the demo: what the main job needs
    assert "pip install --quiet -c constraints.txt -e '.[test]'\n" in makefile
    pinned = {line.split("==")[0] for line in (ROOT / "constraints.txt").read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    assert {"torch", "numpy", "matplotlib", "pillow", "click"} <= pinned


def test_readme_names_every_extra_with_the_line_a_missing_one_gives():
    import tomllib

    from optviz.core.extras import EXTRAS, install_hint

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]) - {"test"}
    assert {extra for extra, _ in EXTRAS.values()} == declared
    for module, (extra, package) in EXTRAS.items():
        assert f"'.[{extra}]'" in TEXTS[ROOT / "README.md"]
        assert install_hint(f"{module}.sub") == f"{package} is not installed: pip install 'optviz[{extra}]'"
