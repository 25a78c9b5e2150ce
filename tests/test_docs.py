"""The docs are true: every file README names exists, every command it or a --help shows parses
and names real scenarios. (README's Python snippets run in tests/test_wheel.py, from a wheel.)"""

import re
import shlex
from pathlib import Path

import click
import pytest

from optviz.interface.cli import main
from optviz.documents.scenario import ScenarioError, find

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
TOP = ("gallery/", "scenarios/", "bench/", "tests/", "optviz/", ".ci/")


def readme_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def commands(text):
    """Every `optviz ...` command line in a text, continuations joined, comments dropped."""
    text = text.replace("\\\n", " ")
    lines = [line.split(" # ")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line.startswith("optviz ")]


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


def test_readme_names_no_file_the_repository_does_not_hold():
    named = set(re.findall(r"(?<![\w/.])((?:%s)[\w./-]*\w)" % "|".join(map(re.escape, TOP)), README))
    assert len(named) > 30
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, missing


README_COMMANDS = [line for block in readme_blocks("sh") for line in commands(block)]


@pytest.mark.parametrize("line", README_COMMANDS)
def test_readme_commands_parse(line):
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
