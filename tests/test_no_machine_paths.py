"""No tracked file names a folder that exists on one machine only.

A path like a home folder, a checkout's absolute location, a temporary folder or a folder
next to the checkout means nothing on a reader's machine: docs and examples cite sources by
their title and name files relative to the repository root.  This test reads every file
`git ls-files` lists (text only; SVG drawings are generated, so they are left out) and
fails naming file:line for each such path.

Each pattern below writes one letter in brackets (`[w]ork`), so that this file, which is
tracked too, does not match its own patterns.
"""

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_SUFFIXES = {".svg"}  # drawings written by examples/visualize_graph.py
START = r"(?<![\w.~/-])"  # a path starts here, not inside a URL or a longer path
REST = r"[^\s`'\"(),\]]*"  # the rest of the path, for the report

MACHINE_PATHS = [
    ("a checkout or shared folder of one machine", START + r"/[w]ork/"),
    ("a Linux home folder", START + r"/[h]ome/[\w.-]+"),
    ("root's home folder", START + r"/[r]oot/"),
    ("a macOS home folder", START + r"/[U]sers/[\w.-]+"),
    ("a Windows home folder", r"\b[A-Za-z]:[\\/]+[U]sers[\\/]"),
    ("a file in a temporary folder", START + r"/(?:private/)?(?:var/)?[t]mp/[\w.-]"),
    ("a macOS temporary folder", START + r"/[v]ar/folders/"),
    ("a mounted drive", START + r"/(?:[m]nt|[V]olumes|[m]edia)/[\w.-]"),
    ("a folder next to the checkout", r"(?:\.\./)+[s]hared/"),
]


def machine_paths(text):
    """[(line number, what, matched text)] for every machine-specific path in `text`."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for what, pattern in MACHINE_PATHS:
            for match in re.finditer(pattern + REST, line):
                found.append((number, what, match.group()))
    return found


def tracked_text_files():
    """The repository's tracked files that are text, as paths relative to ROOT."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout (or no git), so no list of tracked files: {error}")
    files = []
    for name in listed.decode().split("\0"):
        path = ROOT / name
        if not name or path.suffix in SKIPPED_SUFFIXES or not path.is_file():
            continue  # a tracked file deleted in the work tree is no longer read by anyone
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        files.append(name)
    return files


def test_no_tracked_file_names_a_machine_specific_path():
    files = tracked_text_files()
    assert "README.md" in files  # the listing worked
    found = []
    for name in files:
        text = (ROOT / name).read_text(encoding="utf-8")
        for number, what, matched in machine_paths(text):
            found.append(f"{name}:{number}: {matched!r} ({what})")
    assert not found, (
        "machine-specific paths (cite sources by title, name files relative to the "
        "repository root):\n" + "\n".join(found)
    )


def test_each_pattern_finds_its_path():
    # The test above can fail: each kind of path is found (written in pieces, see above).
    examples = [
        "see " + "/wo" + "rk/main/tinygrad_edu/autograd.py(315)",
        "cd " + "/ho" + "me/alice/tinygrad_edu",
        "  " + "/ro" + "ot/.pyenv/versions/3.11.7/lib/python3.11/bdb.py(600)run()",
        "(" + "/Us" + "ers/bob/code/tinygrad_edu)",
        "C:" + "\\Us" + "ers\\carol\\tinygrad_edu",
        "python3 -m venv " + "/tm" + "p/peers",
        "`" + "/va" + "r/folders/xy/T/graph.svg`",
        "data in " + "/mn" + "t/data/digits",
        "the lecture (" + "../sh" + "ared/seeds/000.txt)",
        "(" + "../../sh" + "ared/notes.md)",
    ]
    for example in examples:
        assert len(machine_paths(example)) == 1, example
    assert [number for number, _, _ in machine_paths("ok\n" + examples[0])] == [2]


def test_repository_paths_and_urls_are_fine():
    fine = [
        "tinygrad_edu/autograd.py(315)backward()",
        ".../tinygrad_edu/autograd.py(315)backward()",
        "b ../tinygrad_edu/autograd.py:315",
        "python3 -m venv ~/peers",
        "https://github.com/karpathy/micrograd/blob/master/micrograd/engine.py",
        "https://example.org/" + "wo" + "rk/" + "ho" + "me/index.html",
        "docs/graph_131.svg, examples/step_through_backprop.py",
        "the temporary folder (tmp_path) of a test",
    ]
    for line in fine:
        assert machine_paths(line) == [], line
