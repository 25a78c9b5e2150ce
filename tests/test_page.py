"""The interactive page (optviz.render.html) in a real headless Chromium: it loads cleanly,
plays back, hides, hovers with the right numbers, and recomputes every built-in optimizer's
paths in the browser (on built-in functions and formulas) within 1e-12 of optviz's float64
paths."""

import json
import re
import statistics
from pathlib import Path

import numpy as np
import pytest
import torch
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

import optviz
from optviz import render
from optviz.core.errors import BadInput
from optviz.render import page
from optviz.render.trajectories import legend_label

from browser import browser, console_errors  # noqa: F401 - the fixture
from groups import PAGE
from test_fast import OPTIMIZERS as ALL  # every rule and its branches

pytestmark = PAGE  # one chromium for the module


def opened(driver, result, tmp_path, name="page.html", **options):
    target = tmp_path / name
    render.html(result, target, **options)
    driver.get(target.as_uri())
    return target


def browser_paths(driver):
    points = driver.execute_script("return window.optviz.paths.map(p => p.points)")
    return [torch.tensor([[float("nan") if v is None else v for v in q] for q in path], dtype=torch.float64)
            for path in points]


def worst(result, paths):
    """The largest difference from optviz's paths, relative to the points' size (absolute below 1)."""
    exact = result.positions
    return max(((exact[:, b] - path).abs() / exact[:, b].abs().clamp_min(1)).nan_to_num(0).max().item()
               for b, path in enumerate(paths))


@pytest.mark.parametrize("function, start", [("himmelblau", [-1.0, 1.5]), ("ill_conditioned", None),
                                             ("rosenbrock", [-1.5, 2.0]), ("beale", [1.0, 1.0])])
def test_the_browser_recomputes_every_optimizer_within_1e_12(browser, tmp_path, function, start):
    result = optviz.simulate(function, ALL, start, 60)
    opened(browser, result, tmp_path)
    assert console_errors(browser) == []
    assert browser.execute_script("return window.optviz.data.live") is True
    browser.execute_script("window.optviz.recompute()")
    assert worst(result, browser_paths(browser)) < 1e-12
    assert console_errors(browser) == []


def test_a_formula_is_recomputed_with_its_gradient_by_dual_numbers(browser, tmp_path):
    fn = optviz.get_function("x**2 + 10*sin(y) + exp(-x*y)/(1 + abs(x)) + sqrt(1 + y**2)", bounds=[(-3, 3), (-3, 3)])
    result = optviz.simulate(fn, {k: ALL[k] for k in ("sgd", "momentum", "rmsprop", "adam")}, [1.0, 1.0], 60)
    opened(browser, result, tmp_path)
    assert browser.execute_script("return window.optviz.data.live") is True
    browser.execute_script("window.optviz.recompute()")
    assert worst(result, browser_paths(browser)) < 1e-12
    assert console_errors(browser) == []


def test_moved_hyperparameters_match_a_run_at_them(browser, tmp_path):
    result = optviz.simulate("himmelblau", {"momentum": optviz.sgd(lr=0.01, momentum=0.5),
                                            "adam": optviz.adam(lr=0.1)}, [0.0, 0.0], 80)
    opened(browser, result, tmp_path)
    browser.find_element(By.CSS_SELECTOR, "button.tune").click()  # the sliders, on demand
    knobs = browser.find_elements(By.CSS_SELECTOR, ".knob input")
    assert sorted((k.get_attribute("data-optimizer"), k.get_attribute("data-name")) for k in knobs) == [
        ("0", "lr"), ("0", "momentum"), ("1", "beta1"), ("1", "beta2"), ("1", "lr")]
    momentum = next(k for k in knobs if k.get_attribute("data-name") == "momentum")
    momentum.send_keys(Keys.ARROW_RIGHT * 20)  # a real slider, moved by the keyboard
    moved = browser.execute_script("return window.optviz.hypers")
    assert moved[0]["momentum"] != 0.5
    again = optviz.simulate("himmelblau", {"momentum": optviz.sgd(lr=moved[0]["lr"], momentum=moved[0]["momentum"]),
                                           "adam": optviz.adam(lr=0.1)}, [0.0, 0.0], 80)
    assert worst(again, browser_paths(browser)) < 1e-12
    assert browser.execute_script("return window.optviz.lastRecompute.paths") == 1
    assert browser.find_elements(By.CSS_SELECTOR, ".label")[0].text == f"Momentum lr=0.01 momentum={moved[0]['momentum']:.3g}"


def test_dragging_the_start_moves_every_path_and_they_stay_exact(browser, tmp_path):
    result = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01), "adam": optviz.adam(lr=0.1)}, [0.0, 0.0], 60)
    opened(browser, result, tmp_path)
    canvas = browser.find_element(By.TAG_NAME, "canvas")
    x, y = css_position(browser, [0.0, 0.0])
    width, height = canvas.size["width"], canvas.size["height"]
    ActionChains(browser).move_to_element_with_offset(canvas, x - width / 2, y - height / 2).click_and_hold() \
        .move_by_offset(60, -40).release().perform()
    start = browser.execute_script("return window.optviz.starts[0]")
    assert start[0] > 0.5 and start[1] > 0.5  # right and up on the plane
    paths = browser_paths(browser)
    assert all(torch.equal(path[0], torch.tensor(start, dtype=torch.float64)) for path in paths)
    again = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01), "adam": optviz.adam(lr=0.1)}, start, 60)
    assert worst(again, paths) < 1e-12
    assert console_errors(browser) == []


def css_position(driver, point):
    """Where a point of the plane is on the page, in CSS pixels from the canvas's corner."""
    return driver.execute_script("""
        const [u, v] = window.optviz.toPixel(arguments[0]);
        const canvas = document.querySelector("canvas");
        const k = canvas.getBoundingClientRect().width / canvas.width;
        return [u * k, v * k];""", point)


def colour_near(driver, point, radius=3):
    """The canvas's pixels around a point of the plane, as [r, g, b, alpha] per pixel."""
    return driver.execute_script("""
        const [u, v] = window.optviz.toPixel(arguments[0]), r = arguments[1];
        const data = document.querySelector("canvas").getContext("2d")
            .getImageData(Math.round(u) - r, Math.round(v) - r, 2 * r + 1, 2 * r + 1).data;
        const pixels = [];
        for (let i = 0; i < data.length; i += 4) pixels.push([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        return pixels;""", point, radius)


def painted_with(pixels, colour):
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return any(a > 200 and sum(abs(p - c) for p, c in zip((r, g, b), rgb)) < 40 for r, g, b, a in pixels)


def test_the_step_slider_moves_the_marker_and_the_legend_hides_a_path(browser, tmp_path):
    result = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01), "adam": optviz.adam(lr=0.1)}, [0.0, 0.0], 50)
    opened(browser, result, tmp_path)
    colours = [o["colour"] for o in browser.execute_script("return window.optviz.data.optimizers")]
    step = browser.find_element(By.CSS_SELECTOR, "input.step")
    step.send_keys(Keys.HOME)
    assert browser.execute_script("return window.optviz.step()") == 0
    step.send_keys(Keys.ARROW_RIGHT * 10)
    assert browser.execute_script("return window.optviz.step()") == 10
    assert browser.find_element(By.CSS_SELECTOR, ".counter").text == "step 10 / 50"
    head, later = result.path("adam")[10].tolist(), result.path("adam")[40].tolist()
    assert painted_with(colour_near(browser, head, 2), colours[1])  # the marker is at step 10
    assert not painted_with(colour_near(browser, later, 1), colours[1])  # and the path not yet at step 40
    browser.find_element(By.CSS_SELECTOR, ".optviz").send_keys(Keys.END)  # the page's own keys
    assert browser.execute_script("return window.optviz.step()") == 50
    assert painted_with(colour_near(browser, result.path("adam")[50].tolist(), 2), colours[1])
    entry = browser.find_elements(By.CSS_SELECTOR, "ul.legend .entry")[1]
    entry.click()
    assert browser.execute_script("return [...window.optviz.hidden]") == [1]
    assert not painted_with(colour_near(browser, result.path("adam")[50].tolist(), 2), colours[1])
    entry.click()
    assert painted_with(colour_near(browser, result.path("adam")[50].tolist(), 2), colours[1])
    assert console_errors(browser) == []


def test_hovering_a_point_shows_its_numbers(browser, tmp_path):
    result = optviz.simulate("rosenbrock", {"adam": optviz.adam(lr=0.05)}, [-1.5, 2.0], 30)
    opened(browser, result, tmp_path)
    canvas = browser.find_element(By.TAG_NAME, "canvas")
    x, y = css_position(browser, result.positions[12, 0].tolist())
    ActionChains(browser).move_to_element_with_offset(canvas, x - canvas.size["width"] / 2,
                                                      y - canvas.size["height"] / 2).perform()
    label, step, point, value, norm = browser.find_element(By.CSS_SELECTOR, ".tip").text.splitlines()
    k = int(step.removeprefix("step "))
    assert label == "Adam lr=0.05" and abs(k - 12) <= 1  # the nearest point to the pointer, and its step
    shown = [float(v) for v in point.strip("()").split(", ")]
    assert shown == pytest.approx(result.positions[k, 0].tolist(), rel=1e-5)
    assert float(value.removeprefix("f = ")) == pytest.approx(result.losses[k, 0].item(), rel=1e-5)
    assert float(norm.removeprefix("|∇f| = ")) == pytest.approx(result.grad_norms[k, 0].item(), rel=1e-5)


def test_recomputing_six_paths_of_200_steps_takes_under_a_frame(browser, tmp_path):
    six = {name: opt for name, opt in ALL.items() if name in ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")}
    result = optviz.simulate("himmelblau", six, [0.0, 0.0], 200)
    opened(browser, result, tmp_path)
    times = browser.execute_script("const t = []; for (let i = 0; i < 30; i++) t.push(window.optviz.recompute()); return t")
    median = statistics.median(times)
    print(f"\nrecomputing six 200-step paths in headless Chromium: median {median:.2f} ms, "
          f"worst {max(times):.2f} ms over {len(times)} runs")
    assert median < 16


def test_what_cannot_be_recomputed_plays_back_with_the_reason(browser, tmp_path):
    result = optviz.simulate("himmelblau", {"nadam": torch.optim.NAdam}, [0.0, 0.0], 20)
    opened(browser, result, tmp_path)
    assert browser.execute_script("return window.optviz.data.live") is False
    assert browser.find_elements(By.CSS_SELECTOR, ".knob") == []
    assert not browser.find_element(By.CSS_SELECTOR, "button.tune").is_displayed()
    assert browser.find_element(By.CSS_SELECTOR, ".why").text == \
        "Live controls are off: nadam is not one of optviz's own optimizers."
    browser.execute_script("window.optviz.setStep(5)")
    assert browser.find_element(By.CSS_SELECTOR, ".counter").text == "step 5 / 20"
    assert console_errors(browser) == []


def test_html_in_a_title_is_text_never_markup(browser, tmp_path):
    result = optviz.simulate("himmelblau", {"adam": optviz.adam(lr=0.1)}, [0.0, 0.0], 10)
    title = '</script><script>window.pwned = 1</script><b onmouseover="x">bold</b> & "quotes"'
    target = opened(browser, result, tmp_path, title=title)
    assert "<script>window.pwned" not in target.read_text()
    assert browser.execute_script("return window.pwned") is None
    assert browser.title == title
    assert browser.execute_script("return window.optviz.data.title") == title
    assert console_errors(browser) == []


def test_a_typical_comparison_is_small_and_a_huge_one_is_thinned_or_refused(tmp_path):
    typical = optviz.simulate("rosenbrock", {k: ALL[k] for k in ("sgd", "momentum", "adam")}, [-1.5, 2.0], 500)
    text = render.html(typical, tmp_path / "t.html")
    assert len(text.encode()) < 1_000_000 and text.live is True
    data = json.loads(re.search(r'class="optviz-data">(.*?)</script>', text).group(1))
    assert data["notes"] == [] and data["paths"][0]["every"] == 1 and len(data["paths"][0]["points"]) == 501
    long = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01)}, torch.rand(100, 2) * 4 - 2, 1000)
    data = json.loads(re.search(r'class="optviz-data">(.*?)</script>', render.html(long)).group(1))
    every = data["paths"][0]["every"]
    assert every == 3 and data["notes"][0].startswith("Thinned to every 3rd step")
    assert len(data["paths"][0]["points"]) == len(range(0, 1001, 3)) + 1  # the last step kept too
    many = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01)}, torch.rand(page.MAX_PATHS + 1, 2), 2)
    with pytest.raises(BadInput, match=f"at most {page.MAX_PATHS:,} paths; this result has {page.MAX_PATHS + 1:,}"):
        render.html(many, tmp_path / "many.html")
    assert not (tmp_path / "many.html").exists()


def test_compare_run_and_scenario_files_write_the_page(tmp_path):
    from click.testing import CliRunner

    from optviz.interface.cli import main

    out = CliRunner().invoke(main, ["compare", "himmelblau", "sgd:lr=0.01", "adam:lr=0.1", "--steps", "40",
                                    "--html", str(tmp_path / "c.html")])
    assert out.exit_code == 0 and f"wrote {tmp_path / 'c.html'}" in out.stdout
    assert '"live":true' in (tmp_path / "c.html").read_text()
    scenario = tmp_path / "s.toml"
    scenario.write_text('title = "<i>Two</i> on Himmelblau"\nfunction = "himmelblau"\nsteps = 30\n'
                        '[[optimizers]]\nname = "adam"\nlr = 0.1\n[outputs]\npng = false\nhtml = true\n')
    out = CliRunner().invoke(main, ["run", str(scenario), "--out", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output
    text = (tmp_path / "out" / "s.html").read_text()
    assert "<title>&lt;i&gt;Two&lt;/i&gt; on Himmelblau</title>" in text
    out = CliRunner().invoke(main, ["run", "rosenbrock", "--out", str(tmp_path / "r"), "--html", str(tmp_path / "r.html"),
                                    "--no-gif"])
    assert out.exit_code == 0 and (tmp_path / "r.html").exists()
    for args, message in [
        (["compare", "rosenbrock", "adam", "--dim", "3", "--html", str(tmp_path / "x.html")],
         "interactive pages are drawn for 2D functions; rosenbrock_3d is 3D"),
        (["compare", "himmelblau", "adam", "--html", str(tmp_path / "x.png")], "the suffix must be one of .html"),
        (["run", "rosenbrock", "saddle", "--html", str(tmp_path / "x.html")], "is one page for 2 scenarios"),
    ]:
        out = CliRunner().invoke(main, args)
        assert out.exit_code == 2 and message in out.output, out.output
        assert not (tmp_path / "x.html").exists()


def test_a_notebook_shows_the_page_in_its_own_frame():
    result = optviz.simulate("himmelblau", {"adam": optviz.adam(lr=0.1)}, [0.0, 0.0], 10)
    shown = render.html(result, title='a "quoted" <title>')._repr_html_()
    assert shown.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;') and '"quoted"' not in shown


def test_every_gallery_page_loads_cleanly_and_the_index_links_it(browser):
    from optviz.documents.scenario import load

    root = Path(__file__).resolve().parent.parent
    index = (root / "gallery" / "index.html").read_text()
    pages = sorted((root / "gallery").glob("[0-9]*.html"))
    assert len(pages) == sum(load(path).outputs.html for path in (root / "scenarios").glob("*.toml"))
    for path in pages:
        scenario = load(root / "scenarios" / f"{path.stem}.toml")
        assert f'<a href="{path.name}">Interactive page</a>' in index
        browser.get(path.as_uri())
        assert console_errors(browser) == [], path.name
        assert browser.title == scenario.title
        live, why = browser.execute_script("return [window.optviz.data.live, window.optviz.data.notes]")
        replayed = {"22-loss-landscape": "landscape is computed by Python code", "23-noisy-gradients": "noisy",
                    "24-torch-optimizers": "not one of optviz's own optimizers"}
        if path.stem in replayed:
            assert not live and replayed[path.stem] in " ".join(why), (path.name, why)
            continue
        assert live, (path.name, why)
        # recomputed in the browser, every path starts as the one optviz computed for the scenario
        # (its first 20 steps: over hundreds, a path on Rosenbrock's walls amplifies rounding)
        before = browser_paths(browser)
        browser.execute_script("window.optviz.recompute()")
        for made, again in zip(before, browser_paths(browser)):
            made, again = made[:21], again[:21]
            assert torch.equal(made.isnan(), again.isnan()), path.name
            assert ((made - again).abs() / made.abs().clamp_min(1)).nan_to_num(0).max() < 1e-12, path.name


def test_a_schedule_or_noise_says_why_the_page_only_plays_back(tmp_path):
    import functools

    from torch.optim.lr_scheduler import StepLR

    stepped = optviz.scheduled(optviz.sgd(lr=0.01), functools.partial(StepLR, step_size=5, gamma=0.5))
    result = optviz.simulate("himmelblau", {"halved": stepped}, [0.0, 0.0], 20)
    noisy = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01)}, [0.0, 0.0], 20, noise=0.1)
    for run, why in [(result, "halved follows a learning-rate schedule"), (noisy, "the gradients were noisy")]:
        shown = render.html(run)
        data = json.loads(re.search(r'class="optviz-data">(.*?)</script>', shown).group(1))
        assert shown.live is False and data["live"] is False and data["notes"] == [f"Live controls are off: {why}."]


def test_a_penalised_optimizer_is_recomputed_with_its_penalty(browser, tmp_path):
    from optviz.analyses.penalties import Penalty, penalised

    runs = {"l1": penalised(optviz.adam(lr=0.05), Penalty(l1=0.5)), "l2": penalised(optviz.sgd(lr=0.01), Penalty(l2=1.0))}
    result = optviz.simulate("rosenbrock", runs, [-1.5, 2.0], 80)
    opened(browser, result, tmp_path)
    browser.execute_script("window.optviz.recompute()")
    assert worst(result, browser_paths(browser)) < 1e-12


def test_a_run_of_no_steps_has_a_page():
    result = optviz.simulate("sphere", {"sgd": optviz.sgd(lr=0.1)}, [1.0, -1.0], 0)
    data = json.loads(re.search(r'class="optviz-data">(.*?)</script>', render.html(result)).group(1))
    assert data["live"] is True and data["steps"] == 0 and data["paths"][0]["points"] == [[1.0, -1.0]]


# --- the page as a lecturer uses it: panels, comets, the read-out and strip, presenting, the address ---

@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """A few pages written once for the module: four optimizers (small multiples by default),
    two (one map), a runaway beside a converging run, and a dense zig-zag."""
    folder = tmp_path_factory.mktemp("pages")
    four = optviz.simulate("himmelblau", {k: ALL[k] for k in ("sgd", "momentum", "rmsprop", "adam")}, [0.0, 0.0], 40)
    two = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01), "momentum": optviz.sgd(lr=0.01, momentum=0.5)},
                          [0.0, 0.0], 40)
    runaway = optviz.simulate("ill_conditioned", {"slow": optviz.sgd(lr=0.4), "fast": optviz.sgd(lr=0.6)},
                              [-5.0, -2.0], 20)
    # lr 0.5 on 2y^2 swings y between 2 and -2 for ever while x creeps to 0
    zigzag = optviz.simulate("ill_conditioned", {"sgd": optviz.sgd(lr=0.5)}, [-5.0, -2.0], 2000)
    made = {}
    for name, result in [("four", four), ("two", two), ("runaway", runaway), ("zigzag", zigzag)]:
        render.html(result, folder / f"{name}.html")
        made[name] = (folder / f"{name}.html", result)
    return made


def visit(driver, pages, name, state=""):
    path, result = pages[name]
    driver.get(path.as_uri() + state)
    if state:  # a page opened at a new address only: the same page with another # is not reloaded
        driver.refresh()
    return result


def test_small_multiples_are_on_for_four_optimizers_and_a_button_turns_them_off(browser, pages):
    result = visit(browser, pages, "four")
    toggle = browser.find_element(By.CSS_SELECTOR, "button.panels")
    assert browser.execute_script("return window.optviz.panels()") is True and toggle.get_attribute("aria-pressed") == "true"
    views = browser.execute_script("return window.optviz.views().map(v => [v.x, v.y, v.w, v.h, v.only])")
    assert [v[4] for v in views] == [0, 1, 2, 3]
    assert len({(round(v[2], 6), round(v[3], 6)) for v in views}) == 1  # identical axes
    assert len({(round(v[0]), round(v[1])) for v in views}) == 4  # side by side, none on another
    colours = [o["colour"] for o in browser.execute_script("return window.optviz.data.optimizers")]
    end = result.path("adam")[40].tolist()
    assert painted_with(panel_near(browser, end, 3), colours[3])  # Adam's head in Adam's panel
    assert not painted_with(panel_near(browser, end, 0), colours[3])  # and not in SGD's
    canvas = browser.find_element(By.TAG_NAME, "canvas")
    for k, name in [(3, "adam"), (1, "momentum")]:  # hovering a panel: its own path's numbers
        x, y = browser.execute_script("""
            const [u, v] = window.optviz.toPixel(arguments[0], arguments[1]);
            const canvas = document.querySelector("canvas"), s = canvas.getBoundingClientRect().width / canvas.width;
            return [u * s, v * s];""", result.path(name)[20].tolist(), k)
        ActionChains(browser).move_to_element_with_offset(canvas, x - canvas.size["width"] / 2,
                                                          y - canvas.size["height"] / 2).perform()
        assert browser.find_element(By.CSS_SELECTOR, ".tip").text.splitlines()[0] == legend_label(result, name)
    toggle.click()
    assert browser.execute_script("return [window.optviz.panels(), window.optviz.views().length]") == [False, 1]
    assert painted_with(colour_near(browser, end, 2), colours[3])
    WebDriverWait(browser, 2).until(lambda driver: "panels=0" in driver.current_url)
    assert console_errors(browser) == []
    visit(browser, pages, "two")
    assert browser.execute_script("return [window.optviz.panels(), window.optviz.views().length]") == [False, 1]
    browser.find_element(By.CSS_SELECTOR, "button.panels").click()
    assert browser.execute_script("return window.optviz.views().map(v => v.only)") == [0, 1]


def panel_near(driver, point, k, radius=2):
    """The canvas's pixels around a point of the plane in optimizer k's panel."""
    return driver.execute_script("""
        const [u, v] = window.optviz.toPixel(arguments[0], arguments[2]), r = arguments[1];
        const data = document.querySelector("canvas").getContext("2d")
            .getImageData(Math.round(u) - r, Math.round(v) - r, 2 * r + 1, 2 * r + 1).data;
        const pixels = [];
        for (let i = 0; i < data.length; i += 4) pixels.push([data[i], data[i + 1], data[i + 2], data[i + 3]]);
        return pixels;""", point, radius, k)


def test_a_dense_zig_zag_is_stroked_in_few_points_and_still_drawn(browser, pages):
    result = visit(browser, pages, "zigzag")
    stroked = browser.execute_script("return window.optviz.stroked")
    assert 10 < stroked < 200  # of 2001 points: the swings that repeat to the pixel are stroked once
    colour = browser.execute_script("return window.optviz.data.optimizers[0].colour")
    for k in (1, 2, 3, 1999, 2000):  # the first swings and the last, where it swings for ever
        assert painted_with(colour_near(browser, result.positions[k, 0].tolist(), 2), colour), k


def test_a_runaway_path_stops_at_the_edge_and_its_label_covers_no_path(browser, pages):
    from optviz.render.frames import clip_segment

    result = visit(browser, pages, "runaway")
    data = browser.execute_script("return window.optviz.data")
    axes, red = data["axes"], data["optimizers"][1]["colour"]
    xy = result.positions[:, 1].numpy()
    box = (*axes["x"], *axes["y"])
    inside = [k for k in range(len(xy)) if box[0] <= xy[k, 0] <= box[1] and box[2] <= xy[k, 1] <= box[3]]
    gone = inside[-1] + 1  # the first step past the last one inside the view
    crossings = [k for k in range(gone, 20) if clip_segment(xy[k], xy[k + 1], box) is not None]
    assert len(crossings) >= 5  # the later swings cross the view: the page once drew them, a wall
    for k in crossings:
        t = -xy[k, 1] / (xy[k + 1, 1] - xy[k, 1])  # where the swing crosses y = 0, and above it
        x = float(xy[k, 0] + t * (xy[k + 1, 0] - xy[k, 0]))
        for y in (0.0, 6.0, -6.0):
            assert not painted_with(colour_near(browser, [x, y], 2), red), (k, y)
    assert painted_with(colour_near(browser, xy[gone - 2].tolist(), 2), red)  # the path up to there is drawn
    label = browser.execute_script("return window.optviz.labels")
    assert [entry["text"] for entry in label] == ["diverged at step 19"]
    u0, u1, v0, v1 = label[0]["box"]
    to_pixel = lambda p: browser.execute_script("return window.optviz.toPixel(arguments[0])", p)  # noqa: E731
    for b in range(2):  # no drawn segment of either path meets the label's box
        path = result.positions[: gone + 1 if b == 1 else 21, b].numpy()
        pixels = np.array([to_pixel(p.tolist()) for p in path])
        for a, c in zip(pixels[:-1], pixels[1:]):
            assert clip_segment(a, c, (u0, u1, v0, v1)) is None
    assert console_errors(browser) == []


def test_nothing_of_the_future_is_drawn_and_the_tail_is_brighter_than_the_trail(browser, pages):
    result = visit(browser, pages, "runaway", "#step=10&hide=1")
    assert browser.execute_script("return [window.optviz.step(), [...window.optviz.hidden]]") == [10, [1]]
    path = result.path("slow").numpy()
    drawn = np.array([browser.execute_script("return window.optviz.toPixel(arguments[0])", p.tolist()) for p in path])
    future = [k for k in range(11, 21) if np.hypot(*(drawn[:11] - drawn[k]).T).min() > 12]
    assert len(future) >= 4
    for k in future:  # not a pixel of the canvas is touched where the path will be
        assert all(a == 0 for *_, a in colour_near(browser, path[k].tolist(), 3)), k
    alpha = lambda k: max(a for *_, a in colour_near(browser, ((path[k] + path[k + 1]) / 2).tolist(), 1))  # noqa: E731
    assert alpha(9) == 255 and alpha(0) < 200  # the tail in full, the trail behind it faint


def test_the_address_opens_this_lr_this_start_this_step(browser, pages):
    visit(browser, pages, "two", "#step=12&lr1=0.02&momentum1=0.7&start0=1.5,-1")
    assert browser.execute_script("return window.optviz.step()") == 12
    assert browser.find_element(By.CSS_SELECTOR, ".counter").text == "step 12 / 40"
    assert browser.execute_script("return [window.optviz.hypers, window.optviz.starts]") == [
        [{"lr": 0.01}, {"lr": 0.02, "momentum": 0.7}], [[1.5, -1]]]
    assert browser.find_elements(By.CSS_SELECTOR, ".label")[1].text == "Momentum lr=0.02 momentum=0.7"
    browser.find_element(By.CSS_SELECTOR, "button.tune").click()
    outputs = [o.text for o in browser.find_elements(By.CSS_SELECTOR, ".knob output")]
    assert outputs == ["lr=0.01", "lr=0.02", "momentum=0.7"]
    again = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01), "momentum": optviz.sgd(lr=0.02, momentum=0.7)},
                            [1.5, -1.0], 40)
    assert worst(again, browser_paths(browser)) < 1e-12  # the paths are those of a run at them
    browser.find_element(By.CSS_SELECTOR, ".optviz").send_keys(Keys.ARROW_RIGHT)
    WebDriverWait(browser, 2).until(lambda driver: "step=13" in driver.current_url)
    assert "lr1=0.02" in browser.current_url
    browser.refresh()  # the address now opens the view as it is
    assert browser.execute_script("return [window.optviz.step(), window.optviz.hypers[1].lr]") == [13, 0.02]
    assert console_errors(browser) == []
    # an address made by hand and wrong is the page as written, with whatever of it is right
    visit(browser, pages, "two", "#step=abc&lr0=-1&momentum1=1.5&start0=1e999,1&hide=7&panels=1")
    assert browser.execute_script("return [window.optviz.step(), window.optviz.hypers, window.optviz.starts,"
                                  " [...window.optviz.hidden], window.optviz.panels()]") == [
        40, [{"lr": 0.01}, {"lr": 0.01, "momentum": 0.5}], [[0, 0]], [], True]
    assert console_errors(browser) == []


def test_the_loss_strip_cursor_moves_with_the_step(browser, pages):
    visit(browser, pages, "two")
    axes = browser.execute_script("return window.optviz.data.axes")
    cursor = []
    for k in (10, 30):
        browser.execute_script("window.optviz.setStep(arguments[0])", k)
        cursor.append(browser.execute_script("return window.optviz.cursor"))
        ink = browser.execute_script("""
            const strip = document.querySelector("canvas.strip"), x = Math.round(arguments[0]);
            const column = strip.getContext("2d").getImageData(x, 0, 1, strip.height).data;
            let dark = 0;
            for (let i = 0; i < column.length; i += 4) if (column[i + 3] > 200 && column[i] < 80) dark += 1;
            return dark / (column.length / 4);""", cursor[-1])
        assert ink > 0.7  # a line across the strip at the cursor
    assert cursor[1] - cursor[0] == pytest.approx(axes["width"] * 20 / 40)
    assert browser.find_element(By.CSS_SELECTOR, ".gap").text == ""  # two paths: each in the legend
    value = browser.find_elements(By.CSS_SELECTOR, "ul.legend .value")[0].text
    result = pages["two"][1]
    assert value == f"f − f* = {result.losses[30, 0].item():.1e}".replace("e-0", "e−").replace("e+0", "e")


def test_presenting_fills_the_window_and_the_keys_step_the_counter(browser, pages):
    visit(browser, pages, "four")
    normal = browser.execute_script("return parseFloat(getComputedStyle(document.querySelector('.readout')).fontSize)")
    browser.find_element(By.CSS_SELECTOR, "button.present").click()
    root = browser.find_element(By.CSS_SELECTOR, ".optviz")
    assert "presenting" in root.get_attribute("class")
    big = browser.execute_script("return parseFloat(getComputedStyle(document.querySelector('.readout')).fontSize)")
    assert big > 1.5 * normal
    browser.execute_script("document.activeElement.blur()")  # presenting, the keys work wherever the focus is
    keys = ActionChains(browser)
    for key, step in [(Keys.HOME, 0), (Keys.ARROW_RIGHT, 1), (Keys.PAGE_DOWN, 2), (Keys.PAGE_UP, 1), (Keys.END, 40)]:
        keys.send_keys(key).perform()
        assert browser.find_element(By.CSS_SELECTOR, ".counter").text == f"step {step} / 40"
    keys.key_down(Keys.SHIFT).send_keys(Keys.ARROW_LEFT).key_up(Keys.SHIFT).perform()
    assert browser.find_element(By.CSS_SELECTOR, ".counter").text == "step 30 / 40"
    keys.send_keys(Keys.SPACE).perform()
    assert browser.find_element(By.CSS_SELECTOR, "button.play").text == "Pause"
    keys.send_keys(Keys.SPACE).perform()
    assert browser.find_element(By.CSS_SELECTOR, "button.play").text == "Play"
    keys.send_keys(Keys.ESCAPE).perform()
    assert "presenting" not in root.get_attribute("class")
    help_text = browser.find_element(By.CSS_SELECTOR, ".help").text
    assert all(key in help_text for key in ("PageDown", "Space", "Home", "End", "P", "Esc"))


def test_save_frame_gives_a_png_at_slide_size(browser, pages):
    import base64
    import io

    from PIL import Image

    result = visit(browser, pages, "four", "#panels=0&step=20")
    browser.execute_script("""HTMLAnchorElement.prototype.click = function () {
        window.saved = {name: this.download, href: this.href}; };""")  # the download, intercepted
    browser.find_element(By.CSS_SELECTOR, "button.save").click()
    saved = browser.execute_script("return window.saved")
    assert saved["name"] == "himmelblau-step-20.png"  # the page's title and the step
    assert saved["href"].startswith("data:image/png;base64,")
    picture = Image.open(io.BytesIO(base64.b64decode(saved["href"].split(",", 1)[1]))).convert("RGB")
    assert picture.size == (1920, 1080)
    colour = browser.execute_script("return window.optviz.data.optimizers[3].colour")
    u, v = browser.execute_script("return window.optviz.toPixel(arguments[0])", result.path("adam")[20].tolist())
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    near = [picture.getpixel((round(u * 1.5) + du, round(v * 1.5) + dv)) for du in (-1, 0, 1) for dv in (-1, 0, 1)]
    assert any(sum(abs(p - c) for p, c in zip(pixel, rgb)) < 40 for pixel in near)  # Adam's head at step 20


def test_the_controls_grow_with_the_picture(browser, pages):
    visit(browser, pages, "two")
    sizes = []
    try:
        for width, height in [(900, 700), (1900, 1250)]:
            browser.set_window_size(width, height)
            browser.execute_script("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            sizes.append(browser.execute_script(
                "return [document.querySelector('.stage').getBoundingClientRect().width,"
                " parseFloat(getComputedStyle(document.querySelector('button.play')).fontSize)]"))
    finally:
        browser.set_window_size(1400, 900)
    (small, small_font), (large, large_font) = sizes
    assert large > 2 * small  # the picture fills what the window gives it
    assert (small_font, large_font) == (max(13, round(small / 80)), round(large / 80))  # a 16:9 1280-wide picture: 16 px
