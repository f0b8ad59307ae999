"""The Python code blocks in README.md and docs/**/*.md run as written.

Blocks of one file run in order in one namespace, so a later block may use names an
earlier one defined.  A block that raises fails the test, naming the file and block.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
PAGES = [
    page
    for page in [ROOT / "README.md"] + sorted((ROOT / "docs").glob("**/*.md"))
    if BLOCK.search(page.read_text())
]


def _name(page):
    return page.relative_to(ROOT).as_posix()  # docs/README.md and README.md differ


@pytest.mark.parametrize("page", PAGES, ids=[_name(p) for p in PAGES])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    blocks = BLOCK.findall(page.read_text())
    monkeypatch.chdir(tmp_path)  # files a block writes (tg.save) land in a temporary folder
    assert blocks
    namespace = {"__name__": f"docs_{page.stem}"}
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{_name(page)} block {number}", "exec"), namespace)
        except Exception as error:  # report which block, then fail
            pytest.fail(f"{_name(page)} code block {number} raised {type(error).__name__}: {error}")


def test_pages_in_subfolders_are_found():
    # The tutorial lives in docs/tutorial/; its code must be among the pages run above.
    assert any(page.parent.name == "tutorial" for page in PAGES)
