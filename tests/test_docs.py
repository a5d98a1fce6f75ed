"""The documentation cannot go stale: runnable snippets run, relative links resolve, the README stays short."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 220
SNIPPET_TIMEOUT_S = 180
# A runnable snippet is a fenced block whose info string says `runnable`, or one preceded by this comment.
RUNNABLE_COMMENT = re.compile(r"^<!--\s*runnable\b(?P<args>.*?)-->\s*$")
EXPECT = re.compile(r'expect="(?P<text>[^"]*)"')
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<info>.*)$")
SHELL_LANGUAGES = {"sh", "bash", "shell"}
LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<target>[^)\s]+)\)")
# Paths the docs name in backticks that must exist in the checkout; outputs (reports/) are not checked.
TOP_FOLDERS = "dbc_validate|suites|fixtures|manifests|tests|benchmarks|images|scripts|docs"
REPO_PATH = re.compile(rf"`(?P<path>(?:{TOP_FOLDERS})/[^`\s]*)`")
PLACEHOLDER = re.compile(r"[<>*${}|]|\.\.\.")
# Not copied into the sandbox: the installed package is used, outputs and caches start empty.
NOT_COPIED = (".git", ".tox", ".venv*", "reports", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache")
NOT_COPIED += ("*.egg-info", "build", "dist", "dbc_validate", "tests")
CACHES = {".pytest_cache", ".hypothesis", "__pycache__", ".ruff_cache"}


@dataclass(frozen=True)
class Snippet:
    doc: str  # path relative to the project root
    line: int  # line of the opening fence
    language: str
    code: str
    expect: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"


def doc_files(root: Path = ROOT) -> list[Path]:
    docs = [root / "README.md", root / "manifests" / "README.md", *sorted((root / "docs").glob("*.md"))]
    return [path for path in docs if path.is_file()]


def runnable_snippets(text: str, doc: str) -> list[Snippet]:
    """Fenced blocks marked runnable, by info string (```sh runnable) or a `<!-- runnable -->` line above."""
    snippets: list[Snippet] = []
    lines = text.splitlines()
    pending: str | None = None  # arguments of a runnable comment waiting for its fence
    index = 0
    while index < len(lines):
        line = lines[index]
        comment = RUNNABLE_COMMENT.match(line.strip())
        fence = FENCE.match(line.strip())
        if comment:
            pending = comment.group("args")
        elif fence:
            info = fence.group("info").split()
            closing = fence.group("fence")
            body_start = index + 1
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(closing):
                index += 1
            marked = pending is not None or "runnable" in info[1:]
            if marked:
                args = (pending or "") + " " + " ".join(info[1:])
                snippets.append(
                    Snippet(
                        doc=doc,
                        line=body_start,
                        language=info[0] if info else "",
                        code="\n".join(lines[body_start:index]) + "\n",
                        expect=tuple(m.group("text") for m in EXPECT.finditer(args)),
                    )
                )
            pending = None
        elif line.strip():
            pending = None  # the comment must sit right above its fence (blank lines allowed)
        index += 1
    return snippets


def all_snippets() -> list[Snippet]:
    return [
        snippet
        for path in doc_files()
        for snippet in runnable_snippets(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]


def tree(root: Path) -> set[str]:
    """Every file under root, caches left out."""
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and not CACHES.intersection(path.relative_to(root).parts)
    }


def test_runnable_markers_are_recognised_both_ways():
    text = (
        'intro\n\n<!-- runnable expect="hello" -->\n```sh\necho hello\n```\n\n'
        "```sh\necho not marked\n```\n\n```python runnable\nprint(1)\n```\n\n"
        "<!-- runnable -->\nprose in between cancels the marker\n```sh\necho no\n```\n"
    )
    snippets = runnable_snippets(text, "x.md")
    assert [(s.language, s.code, s.expect, s.line) for s in snippets] == [
        ("sh", "echo hello\n", ("hello",), 4),
        ("python", "print(1)\n", (), 12),
    ]


def test_every_doc_has_something_to_run():
    """Guards against a parser that silently finds nothing: the main pages each carry runnable snippets."""
    docs = {snippet.doc for snippet in all_snippets()}
    assert {"README.md", "docs/rules.md", "docs/options.md", "docs/development.md"} <= docs
    for snippet in all_snippets():
        assert snippet.language in SHELL_LANGUAGES | {"python"}, f"{snippet.id}: cannot run {snippet.language!r}"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project without the package (the installed one is used) and with an empty reports/."""
    copy = tmp_path_factory.mktemp("docs") / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_COPIED))
    (copy / "reports").mkdir()
    return copy


def run_snippet(snippet: Snippet, cwd: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DBC_", "PYTEST_"))}
    # The interpreter's own bin/ first: dbc-validate, pytest and kubectl of this environment.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["TMP"] = str(out)
    if snippet.language == "python":
        script = out / "snippet.py"
        script.write_text(snippet.code, encoding="utf-8")
        command = [sys.executable, str(script)]
    else:
        command = ["bash", "-e", "-o", "pipefail", "-c", snippet.code]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=SNIPPET_TIMEOUT_S, check=False
    )


@pytest.mark.lab
@pytest.mark.parametrize("snippet", all_snippets(), ids=lambda snippet: snippet.id)
def test_runnable_snippet_exits_0_and_writes_only_to_tmp(snippet: Snippet, sandbox: Path, tmp_path: Path):
    before = tree(sandbox)
    result = run_snippet(snippet, sandbox, tmp_path)
    shown = f"{snippet.id}\n{snippet.code}--- stdout\n{result.stdout[-3000:]}--- stderr\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"exit {result.returncode}: {shown}"
    for text in snippet.expect:
        assert text in result.stdout, f"expected {text!r} in the output: {shown}"
    written = sorted(tree(sandbox) - before)
    assert not written, f"{snippet.id} wrote into the project (send outputs to $TMP): {written}"


@pytest.mark.parametrize("doc", doc_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_relative_links_point_at_existing_files(doc: Path):
    broken = []
    for match in LINK.finditer(doc.read_text(encoding="utf-8")):
        target = match.group("target")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL or an anchor in the same page
        if not (doc.parent / target.split("#", 1)[0]).exists():
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: links to missing files: {broken}"


@pytest.mark.parametrize("doc", doc_files(), ids=lambda path: str(path.relative_to(ROOT)))
def test_named_project_paths_exist(doc: Path):
    """A file or folder named in backticks (`fixtures/app_paths.yaml`) must exist, so a move shows up here."""
    missing = sorted(
        {
            match.group("path")
            for match in REPO_PATH.finditer(doc.read_text(encoding="utf-8"))
            if not PLACEHOLDER.search(match.group("path")) and not (ROOT / match.group("path").split("::")[0]).exists()
        }
    )
    assert not missing, f"{doc.relative_to(ROOT)} names paths that do not exist: {missing}"


def test_readme_stays_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to docs/ (limit {README_MAX_LINES})"
