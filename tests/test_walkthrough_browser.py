"""The walkthrough page in a real browser: headless Chromium, driven by selenium.

The saved page of the lecture's 1-3-1 network is opened from disk; the test clicks Next
through every step and checks, at each one, the highlighted node and every number in the
panel against an independent `tg.trace_backward` of the same computation, and at the last
step the final gradients against `.grad`.  Screenshots of every step go to
out/browser-tests/ (ignored by git) for a person to look at.

Needs Debian's chromium and chromium-driver and the selenium package: `make browser-test`
installs them and runs these tests (and CI runs it); without them they skip, saying so.
"""

import re
import shutil
import struct
import sys
from pathlib import Path

import numpy
import pytest

import tinygrad_edu as tg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
import backprop_walkthrough  # noqa: E402  (the example that writes the docs' pages)

INSTALL = "run `make browser-test` (installs chromium and chromium-driver with apt-get)"
SHOTS = ROOT / "out" / "browser-tests"  # screenshots for a person to look at (git ignores out/)
README_WIDTH = 880  # px: the README's column width on GitHub


def _missing():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"selenium is not installed: {INSTALL}"
    for program in (backprop_walkthrough.CHROMIUM, backprop_walkthrough.CHROMEDRIVER):
        if shutil.which(program) is None:
            return f"{program} is not installed: {INSTALL}"
    try:
        tg.graph.find_renderer()
    except tg.RendererNotFoundError as error:
        return str(error)
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=str(_missing()))


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = backprop_walkthrough.CHROMIUM
    width, height = backprop_walkthrough.WINDOW
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--force-device-scale-factor=1",
        f"--window-size={width},{height}",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for errors
    driver = webdriver.Chrome(service=Service(backprop_walkthrough.CHROMEDRIVER), options=options)
    driver.set_window_size(width, height)
    yield driver
    driver.quit()


def numbers(text):
    return [float(v) for v in re.findall(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?", text)]


def reference_trace():
    """The same 1-3-1 computation as the page's, traced on its own."""
    x, y = backprop_walkthrough.lecture.make_data(0)
    parameters = backprop_walkthrough.lecture.init_parameters(0)
    loss = backprop_walkthrough.lecture.compute_loss(parameters, x, y)
    with tg.trace_backward() as steps:
        loss.backward()
    return steps, parameters


def open_page(browser, page, tmp_path, name):
    path = page.save(tmp_path / f"{name}.html")
    browser.get(Path(path).resolve().as_uri())
    return browser.find_element("css selector", ".tg-walkthrough")


def check_stats(element, stats):
    """The panel's norm, min and max (4 significant digits) equal the trace's."""
    for key, expected in zip(("norm", "min", "max"), stats[:3]):
        shown = float(element.find_element("css selector", f'[data-stat="{key}"]').text)
        assert shown == pytest.approx(expected, rel=1e-3, abs=1e-12), key


def test_next_steps_through_every_backward_step_in_order(browser, tmp_path):
    steps, parameters = reference_trace()
    page = backprop_walkthrough.lecture_walkthrough(0)
    root = open_page(browser, page, tmp_path, "lecture")
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert len(page) == len(steps) == 8
    for number, (ours, step) in enumerate(zip(page.steps, steps), start=1):
        assert root.get_attribute("data-step") == str(number)
        current = browser.find_elements("css selector", ".tg-graph g.node.tg-current")
        assert len(current) == 1
        assert (
            current[0].find_element("css selector", "title").get_attribute("textContent")
            == f"op{ours.node.seq}"
        )
        assert current[0].text.startswith(f"{number}. {step.op}")  # the drawn label
        visited = browser.find_elements("css selector", ".tg-graph g.node.tg-visited")
        assert len(visited) == number - 1
        panel = root.find_element("css selector", ".tg-panel")
        assert panel.find_element("css selector", '[data-field="op"]').text == step.op
        rule = panel.find_element("css selector", '[data-field="rule"]').text
        assert rule.split()[0] == "out" and "d(out)/d" in rule
        grad_out = panel.find_element("css selector", '[data-field="grad-out"]')
        check_stats(grad_out, step.grad_out)
        values = grad_out.find_elements("css selector", '[data-role="values"]')
        if values:  # shown in full: their norm is the trace's norm
            shown = numpy.array(numbers(values[0].text))
            assert numpy.linalg.norm(shown) == pytest.approx(step.grad_out[0], rel=1e-3)
        grads_in = panel.find_elements("css selector", '[data-field="grad-in"]')
        expected_in = [(k, s) for k, s in enumerate(step.grads_in) if s is not None]
        assert len(grads_in) == len(expected_in)
        for element, (position, stats) in zip(grads_in, expected_in):
            assert element.get_attribute("data-input") == str(position)
            check_stats(element, stats)
        coloured = browser.find_elements("css selector", ".tg-graph g.edge.tg-edge-out")
        assert len(coloured) >= 1  # the edges the gradients leave on
        browser.save_screenshot(str(SHOTS / f"walkthrough_131_step{number}.png"))
        button = root.find_element("css selector", ".tg-next")
        if number < len(steps):
            button.click()
        else:
            assert not button.is_enabled()
    final = root.find_elements("css selector", ".tg-final")
    assert sorted(e.get_attribute("data-leaf") for e in final) == sorted(parameters)
    for element in final:
        leaf = parameters[element.get_attribute("data-leaf")]
        shown = numbers(element.find_element("css selector", '[data-role="values"]').text)
        numpy.testing.assert_allclose(shown, leaf.grad.numpy().ravel(), atol=1e-4)


def test_prev_slider_and_arrow_keys(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    page = backprop_walkthrough.lecture_walkthrough(0)
    root = open_page(browser, page, tmp_path, "keys")
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT).perform()
    assert root.get_attribute("data-step") == "3"
    ActionChains(browser).send_keys(Keys.ARROW_LEFT).perform()
    assert root.get_attribute("data-step") == "2"
    root.find_element("css selector", ".tg-prev").click()
    assert root.get_attribute("data-step") == "1"
    assert not root.find_element("css selector", ".tg-prev").is_enabled()
    browser.execute_script(
        "var s = arguments[0]; s.value = '7'; s.dispatchEvent(new Event('input'));",
        root.find_element("css selector", ".tg-slider"),
    )
    assert root.get_attribute("data-step") == "7"
    assert root.find_element("css selector", '[data-field="op"]').text == page.steps[6].op


def test_page_loads_nothing_from_anywhere(browser, tmp_path):
    page = backprop_walkthrough.xor_walkthrough(0)
    open_page(browser, page, tmp_path, "xor")
    resources = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert resources == 0
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors  # no script error, no failed load
    assert browser.find_elements("css selector", ".tg-graph g.node.tg-current")


def test_two_pages_in_one_document_work_independently(browser, tmp_path):
    first = backprop_walkthrough.lecture_walkthrough(0)
    second = backprop_walkthrough.xor_walkthrough(0)
    path = tmp_path / "two.html"
    path.write_text(f"<!DOCTYPE html><html><body>{first._repr_html_()}{second._repr_html_()}")
    browser.get(path.resolve().as_uri())
    roots = browser.find_elements("css selector", ".tg-walkthrough")
    assert len(roots) == 2
    roots[1].find_element("css selector", ".tg-next").click()
    assert [r.get_attribute("data-step") for r in roots] == ["1", "2"]
    assert len(browser.find_elements("css selector", "g.node.tg-current")) == 2


def _png_width(path):
    with open(path, "rb") as file:
        header = file.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">I", header[16:20])[0]


def test_readme_screenshot_text_is_readable_at_the_readmes_width(browser, tmp_path):
    """docs/walkthrough_131_step5.png is shown at most 880 px wide in the README: every
    piece of text on the page it shows is at least 9 px high there."""
    picture = ROOT / "docs" / "walkthrough_131_step5.png"
    assert "walkthrough_131_step5.png" in (ROOT / "README.md").read_text()
    width = _png_width(picture)
    browser.set_window_size(width, backprop_walkthrough.WINDOW[1])
    try:
        page = backprop_walkthrough.lecture_walkthrough(0)
        open_page(browser, page, tmp_path, "readme")
        smallest = browser.execute_script(
            """
            var sizes = [];
            document.querySelectorAll('.tg-graph svg text').forEach(function (t) {
              sizes.push(parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
            });
            document.querySelectorAll('.tg-panel *, .tg-bar *').forEach(function (e) {
              if (e.childNodes.length && e.textContent.trim())
                sizes.push(parseFloat(getComputedStyle(e).fontSize));
            });
            return Math.min.apply(null, sizes);
            """
        )
    finally:
        browser.set_window_size(*backprop_walkthrough.WINDOW)
    shown_at = min(width, README_WIDTH) / width
    assert smallest * shown_at >= 9, f"smallest text {smallest * shown_at:.1f} px in the README"


@pytest.mark.parametrize("name", ["walkthrough_131.html", "walkthrough_xor.html"])
def test_the_pages_in_docs_step_through_without_errors(browser, name):
    """The committed pages (examples/backprop_walkthrough.py --out docs) work as shipped."""
    browser.get((ROOT / "docs" / name).resolve().as_uri())
    root = browser.find_element("css selector", ".tg-walkthrough")
    count = int(root.find_element("css selector", ".tg-slider").get_attribute("max"))
    for number in range(1, count + 1):
        assert root.get_attribute("data-step") == str(number)
        assert len(browser.find_elements("css selector", "g.node.tg-current")) == 1
        if number < count:
            root.find_element("css selector", ".tg-next").click()
    assert root.find_elements("css selector", ".tg-final")
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors
