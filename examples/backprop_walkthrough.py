"""Watch backprop happen: save step-by-step backward walkthroughs as web pages.

Writes two pages made by `tg.walkthrough(loss)`, each one self-contained HTML file that
any browser opens from disk (no network):
- the lecture "Neural Networks"'s 1-3-1 tanh network (examples/step_through_backprop.py)
  on four points of x**(1/3): 8 backward steps;
- the XOR network of "Introduction to Neural Networks" (examples/xor.py: Linear(2, 4),
  Tanh, Linear(4, 1), binary cross-entropy on the four corners of the truth table).
Open one and press the right arrow: the op being differentiated lights up, its gradient
edges take the colour of the gradient's size, and the panel shows the op's derivative
rule with the numbers going in and out.

    python examples/backprop_walkthrough.py              # writes out/walkthrough_*.html
    python examples/backprop_walkthrough.py --smoke      # the 1-3-1 page only (tests run it)
    python examples/backprop_walkthrough.py --out docs   # redraws the pages docs/ links to
    python examples/backprop_walkthrough.py --out docs --screenshot 5
        # also docs/walkthrough_131_step5.png, the README's picture (needs Chromium and
        # selenium: `make browser-test` installs them)
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import step_through_backprop as lecture  # noqa: E402  (the 1-3-1 network and its data)
import xor  # noqa: E402  (the XOR network)

OUT_DIR = Path("out")  # where the pages go, relative to where you run the script
WINDOW = (1000, 860)  # browser window for the screenshot, CSS px: the README shows it at ~880
CHROMIUM = "/usr/bin/chromium"  # Debian's Chromium and its driver (make browser-test)
CHROMEDRIVER = "/usr/bin/chromedriver"


def lecture_walkthrough(seed=0):
    """The 1-3-1 network's walkthrough (its parameters get their .grad as usual)."""
    x, y = lecture.make_data(seed)
    parameters = lecture.init_parameters(seed)
    loss = lecture.compute_loss(parameters, x, y)
    loss.name = "loss"
    return tg.walkthrough(loss, title="The 1-3-1 tanh network of the lecture")


def xor_walkthrough(seed=0):
    """The XOR network's walkthrough, at its initial weights."""
    tg.manual_seed(seed)
    model = xor.hidden_layer_network()
    inputs, labels = tg.datasets.xor()
    x = tg.Tensor(inputs, name="corners")
    y = tg.Tensor(labels.reshape(-1, 1).astype(np.float32), name="labels")
    loss = nn.BCEWithLogitsLoss()(model(x), y)
    loss.name = "loss"
    return tg.walkthrough(loss, model=model, title="XOR: Linear(2, 4), Tanh, Linear(4, 1)")


def screenshot(page_path, step, picture_path, window=WINDOW):
    """A PNG of the saved page at `step`, taken by headless Chromium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--force-device-scale-factor=1",
        f"--window-size={window[0]},{window[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.set_window_size(*window)
        driver.get(Path(page_path).resolve().as_uri())
        driver.execute_script(
            "var s = document.querySelector('.tg-slider'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('input'));",
            str(step),
        )
        driver.save_screenshot(str(picture_path))
    finally:
        driver.quit()
    return picture_path


def main(out_dir=OUT_DIR, seed=0, screenshot_step=None, smoke=False):
    """Write the two pages to `out_dir` (smoke: the 1-3-1 page only); returns their paths
    (and the screenshot's)."""
    out_dir = Path(out_dir)
    written = []
    pages = (("131", lecture_walkthrough), ("xor", xor_walkthrough))
    for name, make in pages[:1] if smoke else pages:
        page = make(seed)
        path = page.save(out_dir / f"walkthrough_{name}.html")
        print(f"{path}: {len(page)} backward steps ({page.title})")
        written.append(Path(path))
    if screenshot_step is not None:
        picture = out_dir / f"walkthrough_131_step{screenshot_step}.png"
        screenshot(written[0], screenshot_step, picture)
        print(f"{picture}: step {screenshot_step} of the 1-3-1 walkthrough")
        written.append(picture)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(OUT_DIR), help="folder for the pages (default out)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smoke", action="store_true", help="the 1-3-1 page only")
    parser.add_argument(
        "--screenshot", type=int, metavar="STEP", help="also a PNG of the 1-3-1 page at STEP"
    )
    args = parser.parse_args()
    main(args.out, args.seed, args.screenshot, args.smoke)
