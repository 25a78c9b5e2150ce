"""Files from elsewhere: a scenario, a gallery's manifest or a killed write's leftovers can
neither hang optviz, flood its memory, start a run of days, nor reach outside its folder."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from optviz import experiments
from optviz.interface.cli import main
from optviz.core.files import STALE_PART_SECONDS, atomic, remove_stale_parts
from optviz.documents.gallery import MANIFEST, _fingerprint, build
from optviz.documents.scenario import MAX_DEPTH, MAX_SCENARIO_BYTES, MAX_STRING, ScenarioError, load, nesting
from test_scenario import GOOD, write


def refused(path, message):
    """load(path) raises one line that names the file and says ``message``."""
    with pytest.raises(ScenarioError) as error:
        load(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text, text
    return text


def cli_line(args, cwd=None):
    """The CLI's one line on stderr for bad input, with exit code 2 and nothing on stdout."""
    out = CliRunner().invoke(main, [str(a) for a in args])
    assert out.exit_code == 2, out.output
    text = out.stderr if hasattr(out, "stderr") else out.output
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("optviz: error: "), text
    assert out.stdout == "" and "Traceback" not in out.output
    return lines[0]


def finishes(fn, seconds=10):
    """fn() returns or raises within seconds (a blocking read would not): its outcome."""
    outcome = {}

    def call():
        try:
            outcome["value"] = fn()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


# --- 1. only regular files, under a size limit, and never opened otherwise -------------------

def test_a_character_device_is_refused():
    refused(Path("/dev/zero"), "a character device, not a regular file")
    assert "/dev/zero: a character device, not a regular file" in cli_line(["run", "/dev/zero"])


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    finishes(lambda: refused(fifo, "a FIFO (named pipe), not a regular file"))
    assert f"{fifo}: a FIFO" in finishes(lambda: cli_line(["run", fifo]))


def test_a_folder_is_refused(tmp_path):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    refused(folder, "a folder, not a regular file")
    assert f"{folder}: a folder, not a regular file" in cli_line(["run", folder])


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:
        f.truncate(50 * 2**20)  # sparse: no disk, and no memory unless read
    started = time.perf_counter()
    refused(big, f"52,428,800 bytes, more than the {MAX_SCENARIO_BYTES:,} a scenario file may have")
    assert time.perf_counter() - started < 1
    assert f"{big}: 52,428,800 bytes" in cli_line(["run", big])


def test_a_file_just_under_the_limit_is_read(tmp_path):
    padding = "#" * (MAX_SCENARIO_BYTES - len(GOOD) - 1) + "\n"
    path = write(tmp_path, GOOD + padding)
    assert path.stat().st_size == MAX_SCENARIO_BYTES
    assert load(path).steps == 10


# --- 2. nesting, strings and keys are bounded; echoed values are cut ------------------------

DEEP = {
    "arrays": "a = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "inline tables": "a = " + "{b = " * 100_000 + "1" + "}" * 100_000 + "\n",
    "dotted key": "a" + ".b" * 100_000 + " = 1\n",  # tomllib would take minutes and gigabytes
    "table header": "[a" + ".b" * 100_000 + "]\nc = 1\n",
}


@pytest.mark.parametrize("text", DEEP.values(), ids=DEEP)
def test_deep_nesting_is_refused_quickly(tmp_path, text):
    path = write(tmp_path, GOOD + text)
    started = time.perf_counter()
    message = refused(path, f"nested more than {MAX_DEPTH} deep")
    assert time.perf_counter() - started < 2 and len(message) < 200
    assert f"{path}: nested more than {MAX_DEPTH} deep" in cli_line(["run", path])


def test_nesting_counts_outside_strings_and_comments(tmp_path):
    brackets = "[{" * 100
    text = GOOD.replace('title = "t"', f'title = "{brackets}"\ndescription = """{brackets}\n"{brackets}\\""""'
                                       f"\n# {brackets}\n" + f"seed = 0 # '{brackets}")
    assert nesting(text) <= 2
    assert load(write(tmp_path, text)).title == brackets
    assert nesting("a = [[1, 2], {b.c.d = 1}]") == 4


def test_nesting_added_by_headers_and_values_is_bounded(tmp_path):
    header = "[" + ".".join(["k"] * 20) + "]\nv = " + "[" * 20 + "1" + "]" * 20 + "\n"
    refused(write(tmp_path, GOOD + header), f"nested more than {MAX_DEPTH} deep")


def test_a_long_string_is_refused_naming_the_key(tmp_path):
    path = write(tmp_path, GOOD.replace('title = "t"', f'title = "t"\ndescription = "{"x" * 20_000}"'))
    message = refused(path, f"description: a string of 20,000 characters, more than the {MAX_STRING:,} allowed")
    assert "'xxx" in message and message.endswith("…") and len(message) < 250
    line = cli_line(["run", path])
    assert "description: a string of 20,000 characters" in line and len(line) < 300


def test_a_long_string_deep_inside_is_named_by_its_path(tmp_path):
    path = write(tmp_path, GOOD.replace("lr = 0.05", f'lr = 0.05\nlabel = "{"y" * 10_001}"'))
    refused(path, "optimizers[0].label: a string of 10,001 characters")


def test_a_long_key_is_refused(tmp_path):
    path = write(tmp_path, GOOD + f'{"k" * 5000} = 1\n')
    message = refused(path, "a key of 5,000 characters, more than the 100 allowed")
    assert len(message) < 250


@pytest.mark.parametrize("line,message", [
    (f'steps = "{"x" * 5000}"', "steps: expected int, got 'xxxxxxx"),
    (f'function = "{"f" * 9000}"', "function: "),
    (f'start = [{", ".join(["1"] * 50_000)}]', "start: expected a point of 2 numbers like [-1.5, 2], got [1, 1, 1"),
    ("steps = " + "9" * 5000, "not valid TOML"),  # Python's int() refuses 4,300+ digits
])
def test_echoed_values_are_cut_short(tmp_path, line, message):
    key = line.split(" =")[0]
    text = "\n".join(line if row.startswith(f"{key} =") else row for row in GOOD.splitlines())
    path = write(tmp_path, text)
    shown = refused(path, message)
    assert len(shown) < 600, len(shown)
    assert len(cli_line(["run", path])) < 700


# --- 3. experiment settings are checked when the file is loaded -----------------------------

def experiment(tmp_path, kind, settings, name="my.toml"):
    return write(tmp_path, f'experiment = "{kind}"\n[settings]\n{settings}\n', name)


SETTINGS = [
    ("mlp", "epochs = -5", "settings.epochs: must be a whole number between 1 and 10000, got -5"),
    ("mlp", "epochs = 1_000_000_000", "settings.epochs: must be a whole number between 1 and 10000, got 1000000000"),
    ("mlp", "epochs = true", "settings.epochs: must be a whole number between 1 and 10000, got True"),
    ("mlp", "epochs = 20.0", "settings.epochs: must be a whole number between 1 and 10000, got 20.0"),
    ("mlp", "lr = nan", "settings.lr: nan is not a finite number; every number must be"),
    ("mlp", "lr = inf", "settings.lr: inf is not a finite number; every number must be"),
    ("mlp", "batch = 0", "settings.batch: must be a whole number between 1 and 100000, got 0"),
    ("mlp", "seed = -1", "settings.seed: must be a whole number between 0 and 9223372036854775807, got -1"),
    ("mlp", "variants = {a = {dropout = 1.0}}", "settings.variants.a.dropout: must be a number from 0 to below 1"),
    ("mlp", "variants = {a = {dropuot = 0.1}}", "settings.variants.a.dropuot: unknown option"),
    ("mlp", "variants = {}", "settings.variants: give 1 to 16 variants, got 0"),
    ("mlp", "epochs = 10000\nbatch = 1", "settings.epochs: 3 variants x 10000 epochs x 500 steps = 15,000,000 "
                                         "optimizer steps, more than the 1,000,000 allowed"),
    ("linear_regression", "d = 1_000_000", "settings.d: must be a whole number between 1 and 10000"),
    ("linear_regression", "d = 10000\nn_train = 100000", "settings.n_train: n_train x d = 1,000,000,000 values"),
    ("linear_regression", "lambdas = [0, -1]", "settings.lambdas[1]: must be a number from 0 to 1000, got -1"),
    ("linear_regression", f"lambdas = {list(range(17))}", "settings.lambdas: give 1 to 16 lambdas, got 17"),
    ("linear_regression", 'lambdas = "0, 3"', "settings.lambdas: expected a list of numbers"),
    ("linear_regression", "d = 10000\nn_train = 1000\nepochs = 10000\nbatch = 1000",
     "multiply-adds, more than the 100,000,000,000 allowed"),
    ("landscape", "resolution = 1000", "settings.resolution: must be a whole number between 3 and 401, got 1000"),
    ("landscape", "resolution = 2", "settings.resolution: must be a whole number between 3 and 401, got 2"),
    ("landscape", 'directions = "diagonal"', "settings.directions: must be one of 'pca', 'random', got 'diagonal'"),
    ("landscape", "span = -1", "settings.span: must be a positive number s"),
    ("landscape", "line = 2", "settings.line: must be a whole number between 3 and 10001, got 2"),
    ("landscape", "chunk = 100000", "settings.chunk: must be a whole number between 1 and 1024"),
    ("landscape", "biases = 1", "settings.biases: must be true or false, got 1"),
    ("landscape", 'device = "tpu"', "settings.device: must be 'cpu', 'cuda' or 'cuda:N', got 'tpu'"),
    ("landscape", "epochs = 10000", "settings.epochs: 3 optimizers x 10000 epochs x 16 steps = 480,000 "
                                    "optimizer steps, more than the 20,000 allowed"),
    ("landscape", 'save = "/tmp/elsewhere"', "settings.save: cannot come from a scenario file"),
    ("landscape", 'checkpoints = ["a.pt"]', "settings.checkpoints: cannot come from a scenario file"),
    ("landscape", 'optimizers = "adam"', "settings.optimizers: expected a list of"),
    ("edge_of_stability", "gd_lrs = [0.3, 0]", "settings.gd_lrs[1]: must be above 0"),
    ("edge_of_stability", "adam_lrs = [11]", "settings.adam_lrs[0]: must be a number from 0 to 10, got 11"),
    ("edge_of_stability", 'gd_lrs = "0.3"', "settings.gd_lrs: expected a list of learning rates"),
    ("edge_of_stability", "gd_lrs = []\nadam_lrs = []", "settings.gd_lrs: give at least one learning rate"),
    ("edge_of_stability", "every = 0", "settings.every: must be a whole number between 1 and 10000, got 0"),
    ("edge_of_stability", "products = 5000", "settings.products: must be a whole number between 1 and 1000"),
    ("edge_of_stability", "width = 10000\nexamples = 100000\nsteps = 10000",
     "settings.steps: 6 runs x 61,429 passes x 100000 examples x 70001 weights = "
     "2,580,036,857,142,858 multiply-adds, more than the 100,000,000,000 allowed"),
    ("edge_of_stability", 'model = "mine"', "settings.model: unknown key"),
]


@pytest.mark.parametrize("kind,settings,message", SETTINGS, ids=[s for _, s, _ in SETTINGS])
def test_settings_are_checked_on_loading(tmp_path, kind, settings, message):
    path = experiment(tmp_path, kind, settings)
    started = time.perf_counter()
    refused(path, message)
    assert time.perf_counter() - started < 5  # nothing was trained


def test_the_brief_s_example_word_for_word(tmp_path):
    path = experiment(tmp_path, "mlp", "epochs = -5")
    with pytest.raises(ScenarioError) as error:
        load(path)
    assert str(error.value) == f"{path}: settings.epochs: must be a whole number between 1 and 10000, got -5"
    assert cli_line(["run", path]).startswith(
        f"optviz: error: {path}: settings.epochs: must be a whole number between 1 and 10000, got -5")


def test_an_edge_of_stability_setting_through_the_cli(tmp_path):
    path = experiment(tmp_path, "edge_of_stability", "gd_lrs = [0.3, 0]")
    assert cli_line(["run", path]).startswith(f"optviz: error: {path}: settings.gd_lrs[1]: must be above 0")


def test_a_billion_epochs_through_the_cli(tmp_path):
    path = experiment(tmp_path, "linear_regression", "epochs = 1000000000")
    assert "settings.epochs: must be a whole number between 1 and 10000" in cli_line(["run", path])


@pytest.mark.parametrize("kind,settings", [
    ("linear_regression", "lambdas = [0, 3]\nepochs = 100\nlr = 0.003\nd = 200"),
    ("mlp", 'epochs = 10000\nbatch = 500\nvariants = {"decay" = {weight_decay = 0.01}, "drop" = {dropout = 0.5}}'),
    ("edge_of_stability", "gd_lrs = [0.1]\nadam_lrs = []\nsteps = 10000\nevery = 1\nproducts = 20\nwidth = 64"),
    ("landscape", 'optimizers = [["adam", {lr = 0.005}]]\nresolution = 401\nspan = [-1, 1, -2, 2]\nline = 0\n'
                  'directions = "random"\nbiases = true\ndevice = "cpu"\nexamples = 100\nbatch_size = 50'),
])
def test_settings_within_the_ceilings_load(tmp_path, kind, settings):
    assert load(experiment(tmp_path, kind, settings)).experiment == kind


def test_the_ceilings_are_named_constants():
    assert experiments.MAX_EPOCHS == 10_000 and experiments.MAX_INPUTS == 10_000
    with pytest.raises(experiments.SettingError) as error:
        experiments.check_settings("mlp", {"epochs": experiments.MAX_EPOCHS + 1})
    assert error.value.key == "epochs"
    experiments.check_settings("mlp", {"epochs": experiments.MAX_EPOCHS, "batch": 500})


# --- 4. the gallery's manifest is checked before it is believed ------------------------------

@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """A scenarios folder with one quick scenario and the gallery built from it, built once:
    each test takes a copy (nothing in a build depends on where its folder is)."""
    base = tmp_path_factory.mktemp("site")
    scenarios = base / "scenarios"
    scenarios.mkdir()
    write(scenarios, GOOD)
    build([scenarios / "s.toml"], base / "gallery", jobs=1)
    return base


@pytest.fixture
def site(tmp_path, built_site):
    """A scenarios folder with one quick scenario, a built gallery beside it, and a secret."""
    shutil.copytree(built_site, tmp_path, dirs_exist_ok=True)
    scenarios, gallery = tmp_path / "scenarios", tmp_path / "gallery"
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (tmp_path / "secret-numbers.txt").write_text("TOP SECRET NUMBERS")
    return scenarios / "s.toml", gallery


def manifest_naming(scenario, gallery, *files):
    """A manifest that says the scenario is up to date and made ``files``."""
    entry = {"fingerprint": _fingerprint(load(scenario)), "files": ["s.png", *map(str, files)]}
    (gallery / MANIFEST).write_text(json.dumps({"s": entry}))


@pytest.mark.parametrize("named", ["../secret.txt", "../secret-numbers.txt", "ABSOLUTE"])
def test_a_manifest_naming_files_outside_is_not_believed(site, named):
    scenario, gallery = site
    if named == "ABSOLUTE":
        named = str(gallery.parent / "secret-numbers.txt")
    manifest_naming(scenario, gallery, named)
    entries, rendered = build([scenario], gallery, jobs=1)
    page = (gallery / "index.html").read_text()
    assert "TOP SECRET" not in page and "secret" not in page
    assert rendered == ["s"]  # the entry was dropped, so the scenario was made again
    assert json.loads((gallery / MANIFEST).read_text())["s"]["files"] == ["s.png", "s.toml"]
    assert (gallery.parent / "secret.txt").read_text() == "TOP SECRET"  # untouched


def test_a_symlink_out_of_the_folder_is_not_followed(site):
    scenario, gallery = site
    (gallery / "s-numbers.txt").symlink_to(gallery.parent / "secret.txt")
    manifest_naming(scenario, gallery, "s-numbers.txt")
    build([scenario], gallery, jobs=1)
    assert "TOP SECRET" not in (gallery / "index.html").read_text()
    assert (gallery.parent / "secret.txt").read_text() == "TOP SECRET"


def test_the_cli_gallery_keeps_the_secret(site):
    scenario, gallery = site
    manifest_naming(scenario, gallery, "../secret-numbers.txt")
    out = CliRunner().invoke(main, ["gallery", "--scenarios", str(scenario.parent), "--out", str(gallery),
                                    "--jobs", "1", "--quiet"])
    assert out.exit_code == 0, out.output
    assert "TOP SECRET" not in (gallery / "index.html").read_text()


BROKEN = {
    "not JSON": "{not json",
    "a list": "[1, 2, 3]",
    "wrong types": '{"s": {"fingerprint": 5, "files": "s.png"}}',
    "files not names": '{"s": {"fingerprint": "x", "files": [1, null]}}',
    "nested without end": "[" * 100_000,
    "binary": "\udcff",
}


@pytest.mark.parametrize("text", BROKEN.values(), ids=BROKEN)
def test_a_broken_manifest_is_rebuilt(site, text):
    scenario, gallery = site
    (gallery / MANIFEST).write_bytes(text.encode("utf-8", "surrogateescape"))
    entries, rendered = build([scenario], gallery, jobs=1)
    assert rendered == ["s"] and entries[0]["files"] == ["s.png", "s.toml"]
    assert json.loads((gallery / MANIFEST).read_text())["s"]["fingerprint"] == _fingerprint(load(scenario))


def test_a_manifest_that_is_a_fifo_is_not_opened(site):
    scenario, gallery = site
    (gallery / MANIFEST).unlink()
    os.mkfifo(gallery / MANIFEST)
    finishes(lambda: build([scenario], gallery, jobs=1), seconds=60)
    assert json.loads((gallery / MANIFEST).read_text())["s"]["files"] == ["s.png", "s.toml"]


def test_a_good_manifest_still_saves_work(site):
    scenario, gallery = site
    assert build([scenario], gallery, jobs=1)[1] == []


# --- 5. a killed write's leftovers are swept, a live writer's are not -----------------------

def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def leftover(folder, name, age=2 * STALE_PART_SECONDS):
    path = folder / name
    path.write_bytes(b"half a picture")
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_atomic_names_its_temporary_file_with_its_pid(tmp_path):
    with atomic(tmp_path / "x.png") as tmp:
        assert tmp.name.startswith(f".x.png.{os.getpid()}.") and tmp.name.endswith(".part")
        tmp.write_bytes(b"png")
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


def test_a_write_sweeps_its_own_stale_part_files(tmp_path):
    legacy = leftover(tmp_path, ".x.png.abcd1234.part")  # optviz before pids were in the name
    killed = leftover(tmp_path, f".x.png.{dead_pid()}.abcdefgh.part")
    live = leftover(tmp_path, f".x.png.{os.getpid()}.livelive.part")  # a writer still at work
    fresh = leftover(tmp_path, ".x.png.fresh123.part", age=1)  # perhaps a writer that just began
    other = leftover(tmp_path, ".y.png.abcd1234.part")  # another name: not this write's business
    longer = leftover(tmp_path, ".x.png.old.abcd1234.part")  # the target x.png.old, not x.png
    with atomic(tmp_path / "x.png") as tmp:
        tmp.write_bytes(b"png")
    assert not legacy.exists() and not killed.exists()
    assert live.exists() and fresh.exists() and other.exists() and longer.exists()
    assert (tmp_path / "x.png").read_bytes() == b"png"


def test_remove_stale_parts_of_every_name(tmp_path):
    stale = [leftover(tmp_path, ".x.png.abcd1234.part"), leftover(tmp_path, f".y.gif.{dead_pid()}.abcd1234.part")]
    kept = [leftover(tmp_path, "x.png.abcd1234.part"), leftover(tmp_path, ".x.png.part"),
            leftover(tmp_path, ".notes.txt")]
    assert sorted(remove_stale_parts(tmp_path)) == sorted(stale)
    assert all(p.exists() for p in kept)
    assert remove_stale_parts(tmp_path / "missing") == []


def test_the_gallery_build_sweeps_its_folder(site):
    scenario, gallery = site
    stale = leftover(gallery, ".index.html.abcd1234.part")
    unrelated = leftover(gallery, f".q.svg.{dead_pid()}.abcd1234.part")  # no write of q.svg in this build
    assert build([scenario], gallery, jobs=1)[1] == []
    assert not stale.exists() and not unrelated.exists()


def test_the_run_command_sweeps_its_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = write(tmp_path, GOOD)
    out_folder = tmp_path / "out"
    out_folder.mkdir()
    stale = leftover(out_folder, ".s.png.abcd1234.part")
    result = CliRunner().invoke(main, ["run", str(scenario), "--out", str(out_folder), "--quiet"])
    assert result.exit_code == 0, result.output
    assert not stale.exists() and (out_folder / "s.png").exists()
    assert sorted(p.name for p in out_folder.iterdir()) == ["s.png"]
