"""The committed gallery: complete, up to date with the scenarios, and every image loads in a browser."""

import contextlib
import html
import json
import re
import shutil
import subprocess
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from optviz.documents.gallery import CAPTION, MANIFEST, _fingerprint, _source, index_entry, index_page
from optviz.documents.scenario import LESSONS, ExperimentScenario, load

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
            assert (GALLERY / name).stat().st_size > (20 if name.endswith((".txt", ".toml")) else 1000)
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
        assert f'href="{scenario.name}.toml"' in page and f'id="lesson-{scenario.lesson.replace(" ", "-")}"' in page
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


@contextlib.contextmanager
def served(folder):
    """The folder over HTTP on a free port, as a browser reads a published gallery."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


# Opens the index in a 1280 px wide frame, loads every (lazy) image, and writes what it saw into
# its own body: the cards of each lesson's first row, the GIFs playing before any pointer moved,
# and a card's picture under the pointer and after it left
HARNESS = """<!doctype html><html><body>
<iframe id="index" src="index.html" style="width: 1280px; height: 720px; border: 0"></iframe>
<script>
  const frame = document.getElementById("index");
  frame.addEventListener("load", () => {
    const doc = frame.contentDocument, images = [...doc.images];
    const playing = images.filter((img) => img.currentSrc.endsWith(".gif")).length;
    images.forEach((img) => { img.loading = "eager"; });
    const rows = {};
    for (const group of doc.querySelectorAll("section.lesson")) {
      const tops = [...group.querySelectorAll(".card")].map((card) => card.getBoundingClientRect().top);
      rows[group.id] = tops.filter((top) => Math.abs(top - tops[0]) < 2).length;
    }
    const moving = doc.querySelector("img[data-gif]") || doc.createElement("img"), link = moving.parentElement;
    link?.dispatchEvent(new MouseEvent("mouseenter"));
    const hovered = moving.getAttribute("src");
    link?.dispatchEvent(new MouseEvent("mouseleave"));
    const left = moving.getAttribute("src");
    const settle = () => {
      if (images.some((img) => !img.dataset.state)) return setTimeout(settle, 50);
      const states = images.map((img) => img.dataset.state);
      document.body.dataset.result = JSON.stringify({rows, playing, hovered, left, still: moving.dataset.still,
                                                     gif: moving.dataset.gif, states});
    };
    settle();
  });
</script></body></html>"""


def browse(folder):
    """What HARNESS saw of folder/index.html in headless chromium."""
    browser = shutil.which("chromium")
    assert browser, "Debian's chromium is needed: `make test` installs it"
    (folder / "harness.html").write_text(HARNESS)
    try:  # a profile of its own: two chromiums on one profile (two workers) leave the second one blank
        with served(folder) as url, tempfile.TemporaryDirectory() as profile:
            dom = subprocess.run(
                [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--virtual-time-budget=30000",
                 "--window-size=1400,900", "--dump-dom", f"{url}/harness.html"],
                capture_output=True, text=True, timeout=120,
            ).stdout
    finally:
        (folder / "harness.html").unlink()
    found = re.search(r'data-result="([^"]*)"', dom)
    assert found, dom[:500]
    return json.loads(html.unescape(found.group(1)))


@pytest.fixture(scope="module")
def index_folder(tmp_path_factory):
    """The committed gallery's files (the pictures linked) under an index made now, with every
    scenario's file beside them: the page as the next build writes it."""
    folder = tmp_path_factory.mktemp("gallery")
    manifest = json.loads((GALLERY / MANIFEST).read_text())
    entries = []
    for path in SCENARIOS:
        scenario = load(path)
        files = [f for f in manifest[scenario.name]["files"] if not f.endswith(".toml")]
        for name in files:  # the pages copied: the index reads them, and only files of its own folder
            if name.endswith(".html"):
                shutil.copyfile(GALLERY / name, folder / name)
            else:
                (folder / name).symlink_to(GALLERY / name)
        entries.append(index_entry(scenario, [*files, _source(scenario, folder)], folder))
    (folder / "index.html").write_text(index_page(entries))
    return folder


def test_index_is_a_grid_of_cards_that_play_only_under_the_pointer(index_folder):
    seen = browse(index_folder)
    lessons = [load(path).lesson for path in SCENARIOS]
    assert seen["rows"] == {f"lesson-{lesson.replace(' ', '-')}": min(4, lessons.count(lesson))
                            for lesson in LESSONS}  # four a row at 1280 px (fewer in a short group)
    assert seen["playing"] == 0  # no GIF plays until the pointer is on it
    assert seen["hovered"] == seen["gif"] and seen["gif"].endswith(".gif")
    assert seen["left"] == seen["still"] and seen["still"].endswith(".png")
    assert len(seen["states"]) == len(SCENARIOS) and set(seen["states"]) == {"loaded"}


def test_index_groups_cards_by_lesson_and_every_link_resolves(index_folder):
    page = (index_folder / "index.html").read_text()
    groups = re.findall(r'<section class="lesson" id="lesson-([\w-]+)">', page)
    assert groups == [lesson.replace(" ", "-") for lesson in LESSONS]
    for path in SCENARIOS:
        scenario = load(path)
        card = page[page.index(f'<article class="card" id="{scenario.name}">'):]
        card = card[:card.index("</article>")]
        assert f'href="{scenario.name}.toml" download>TOML</a>' in card
        assert page.index(f'id="lesson-{scenario.lesson.replace(" ", "-")}"') < page.index(f'id="{scenario.name}"')
        for target in re.findall(r'(?:href|src|data-gif|data-still)="([^"#]+)"', card):
            assert (index_folder / html.unescape(target)).is_file(), target
        for img in re.findall(r"<img [^>]*>", card):
            assert 'loading="lazy"' in img and not re.search(r'src="[^"]+\.gif"', img)


def test_live_controls_are_promised_only_where_the_page_has_them(index_folder):
    page = (index_folder / "index.html").read_text()
    promised = re.findall(r'<a href="([^"]+\.html)">Interactive page</a>: (drag|play)', page)
    assert len(promised) == sum(load(path).outputs.html for path in SCENARIOS)
    for name, promise in promised:
        live = re.search(r'"live":\s*true', (index_folder / name).read_text()) is not None
        assert (promise == "drag") == live, name
    assert {name for name, promise in promised if promise == "play"} == {
        "22-loss-landscape.html", "23-noisy-gradients.html", "24-torch-optimizers.html"}


def test_every_image_of_the_committed_gallery_loads_in_a_real_browser():
    states = browse(GALLERY)["states"]
    expected = len(re.findall(r"<img ", (GALLERY / "index.html").read_text()))
    assert len(states) == expected >= len(SCENARIOS)
    assert set(states) == {"loaded"}
