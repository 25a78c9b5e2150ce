"""An interrupted gallery keeps what it finished: its manifest is written after every scenario,
so the next build renders only what is missing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from optviz.documents import gallery
from optviz.documents.gallery import MANIFEST, build
from optviz.interface.cli import main
from test_scenario import GOOD, write

NAMES = ["a", "b", "c", "d"]
RENDER = gallery.render_outputs


@pytest.fixture
def scenarios(tmp_path):
    """Four quick scenarios, a to d."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return [write(folder, GOOD.replace('title = "t"', f'title = "{name}"'), f"{name}.toml") for name in NAMES]


def interrupting_after(monkeypatch, finished):
    """Count render_outputs' calls; the call after ``finished`` of them is a Ctrl-C."""
    calls = []

    def render(scenario, folder, *args, **kwargs):
        calls.append(scenario.name)
        if len(calls) > finished:
            raise KeyboardInterrupt
        return RENDER(scenario, folder, *args, **kwargs)

    monkeypatch.setattr(gallery, "render_outputs", render)
    return calls


def test_an_interrupted_build_keeps_the_scenarios_it_finished(tmp_path, scenarios, monkeypatch):
    site = tmp_path / "gallery"
    interrupting_after(monkeypatch, 2)
    with pytest.raises(KeyboardInterrupt):
        build(scenarios, site, jobs=1)
    assert sorted(json.loads((site / MANIFEST).read_text())) == ["a", "b"]
    assert sorted(p.name for p in site.iterdir()) == [MANIFEST, "a.png", "a.toml", "b.png", "b.toml"]

    calls = interrupting_after(monkeypatch, len(NAMES))
    entries, rendered = build(scenarios, site, jobs=1)
    assert calls == ["c", "d"] and rendered == ["c", "d"]
    assert [entry["files"] for entry in entries] == [[f"{name}.png", f"{name}.toml"] for name in NAMES]
    assert sorted(json.loads((site / MANIFEST).read_text())) == NAMES


def test_the_manifest_is_whole_at_every_interruption(tmp_path, scenarios, monkeypatch):
    """Interrupted after each number of scenarios, the manifest reads back and names exactly
    the scenarios rendered, each with its file on disk."""
    for finished in range(len(NAMES)):
        site = tmp_path / f"gallery-{finished}"
        interrupting_after(monkeypatch, finished)
        with pytest.raises(KeyboardInterrupt):
            build(scenarios, site, jobs=1)
        recorded = json.loads((site / MANIFEST).read_text()) if finished else {}
        assert sorted(recorded) == NAMES[:finished]
        assert all((site / f"{name}.png").is_file() for name in recorded)
        assert not [p for p in site.iterdir() if p.name.endswith(".part")]


def test_a_file_that_changed_during_the_interruption_is_rendered_again(tmp_path, scenarios, monkeypatch):
    site = tmp_path / "gallery"
    interrupting_after(monkeypatch, 1)
    with pytest.raises(KeyboardInterrupt):
        build(scenarios, site, jobs=1)
    scenarios[0].write_text(scenarios[0].read_text().replace("steps = 10", "steps = 11"))
    calls = interrupting_after(monkeypatch, len(NAMES))
    assert build(scenarios, site, jobs=1)[1] == NAMES and calls == NAMES


def test_ctrl_c_to_the_command_keeps_what_it_finished(tmp_path, scenarios):
    """A real SIGINT to `optviz gallery --jobs 2` once its first scenario is in the manifest:
    exit 130, and the next run renders only the rest."""
    slow = GOOD.replace("steps = 10", "steps = 3000") + "\n[outputs]\ngif = true\nframes = 200\n"
    for path in scenarios[1:]:
        path.write_text(slow.replace('title = "t"', f'title = "{path.stem}"'))
    site = tmp_path / "gallery"
    command = [sys.executable, "-m", "optviz", "gallery", "--scenarios", str(scenarios[0].parent),
               "--out", str(site), "--jobs", "2", "--quiet"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while not (site / MANIFEST).exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the build ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: to the workers too
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and stderr.strip() == "optviz: error: interrupted", stderr
    finished = json.loads((site / MANIFEST).read_text())
    assert 0 < len(finished) < len(NAMES)  # which finished first is the machine's to say

    for path in scenarios:  # the unfinished are rendered next whatever they hold: quickly, here
        if path.stem not in finished:
            path.write_text(GOOD.replace('title = "t"', f'title = "{path.stem}"'))
    out = CliRunner().invoke(main, ["gallery", "--scenarios", str(scenarios[0].parent), "--out", str(site),
                                    "--jobs", "1"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"{len(NAMES) - len(finished)} of {len(NAMES)} scenarios rendered"), out.output
