"""The committed gallery: complete, up to date with the scenarios, and every image loads in a browser."""

import html
import json
import re
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

from optviz.documents.gallery import CAPTION, MANIFEST, _fingerprint, index_page
from optviz.documents.scenario import ExperimentScenario, load

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "gallery"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def test_every_scenario_is_rendered_and_current():
    manifest = json.loads((GALLERY / MANIFEST).read_text())
    assert sorted(manifest) == sorted(p.stem for p in SCENARIOS)
    for path in SCENARIOS:
        scenario = load(path)
        entry = manifest[scenario.name]
        assert entry["fingerprint"] == _fingerprint(scenario), f"{path.name} changed: run `optviz gallery`"
        for name in entry["files"]:
            # pictures carry real content; the numbers files are short text
            assert (GALLERY / name).stat().st_size > (20 if name.endswith(".txt") else 1000)
        if scenario.outputs.gif:
            assert Image.open(GALLERY / f"{scenario.name}.gif").n_frames > 2
        if isinstance(scenario, ExperimentScenario):
            assert f"{scenario.name}-numbers.txt" in entry["files"]


def test_index_lists_every_scenario_with_title_and_description():
    page = (GALLERY / "index.html").read_text()
    for path in SCENARIOS:
        scenario = load(path)
        assert f'id="{scenario.name}"' in page
        assert html.escape(scenario.title) in page
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert sources and all((GALLERY / s).exists() for s in sources)


def test_the_gallery_doc_shows_every_scenario_with_its_own_caption():
    readme = (ROOT / "docs" / "gallery.md").read_text()
    for path in SCENARIOS:
        scenario = load(path)
        # with its events' numbers as the run found them (the caption the gallery wrote)
        written = GALLERY / f"{scenario.name}{CAPTION}"
        caption = written.read_text(encoding="utf-8").strip() if scenario.events else scenario.description
        assert f"**{scenario.title}** — {caption}" in readme, scenario.title
        assert f"gallery/{scenario.name}" in readme


def test_index_page_escapes_text():
    page = index_page([{"name": "a", "title": "<b>x</b>", "description": "1 < 2", "files": ["a.png"]}])
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "1 &lt; 2" in page


def test_every_image_loads_in_a_real_browser():
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is needed: `make test` installs it"
    handler = partial(SimpleHTTPRequestHandler, directory=str(GALLERY))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
        dom = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={ROOT / '.pytest_cache' / 'chromium'}", "--virtual-time-budget=20000",
             "--dump-dom", url],
            capture_output=True, text=True, timeout=120,
        ).stdout
    finally:
        server.shutdown()
    assert 'data-ready="true"' in dom, dom[:500]
    states = re.findall(r'<img [^>]*data-state="(\w+)"', dom)
    expected = len(re.findall(r"<img ", (GALLERY / "index.html").read_text()))
    assert len(states) == expected > 30
    assert set(states) == {"loaded"}
