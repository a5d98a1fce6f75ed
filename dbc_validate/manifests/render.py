"""Render a manifest set (kustomization folder, YAML file or folder of YAML) into parsed documents."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dbc_validate.errors import ManifestError, MissingBinary
from dbc_validate.manifests.bounded_yaml import check_node, node_budget
from dbc_validate.tools.binaries import find_program

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Document:
    """One YAML document and where it came from ("file.yaml:12" or "kustomize DIR, document 3")."""

    data: Any
    origin: str


@dataclass(frozen=True)
class Rendered:
    path: Path
    method: str  # "kustomize" | "yaml"
    documents: tuple[Document, ...]


def is_kustomization(path: Path) -> bool:
    return path.is_dir() and any((path / name).is_file() for name in KUSTOMIZATION_FILES)


def parse_yaml_stream(text: str, origin: str) -> Iterator[Document]:
    """Every non-empty document of `text`; malformed YAML, duplicate keys and alias bombs raise ManifestError
    with file and line (checked on the composed node graph, before anything is expanded)."""
    loader = _Loader(text)
    budget = node_budget(len(text))
    try:
        while loader.check_node():
            node = loader.get_node()
            line = node.start_mark.line + 1 if node is not None else 0
            problem = check_node(node, budget) if node is not None else None
            if problem is not None:
                raise ManifestError(f"{origin}:{problem.line}: {problem.problem}", problem.fix)
            data = loader.construct_document(node)
            if data is not None:
                yield Document(data, f"{origin}:{line}")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"{origin}:{mark.line + 1}" if mark is not None else origin
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(
            f"malformed YAML at {where}: {problem}", "correct the YAML syntax at that line (indentation, quoting, tabs)"
        ) from None
    finally:
        loader.dispose()


def _yaml_files(folder: Path) -> list[Path]:
    """YAML files under `folder`; a YAML name that is not a readable file (a symlink loop, a dangling link)
    is named in a ManifestError rather than skipped in silence."""
    candidates = sorted(p for p in folder.rglob("*") if p.suffix in YAML_SUFFIXES and p.name not in KUSTOMIZATION_FILES)
    unusable = [p for p in candidates if not p.is_file() and (p.is_symlink() or not p.exists())]
    if unusable:
        more = f" and {len(unusable) - 5} more" if len(unusable) > 5 else ""
        names = ", ".join(str(p) for p in unusable[:5]) + more
        raise ManifestError(
            f"cannot read {names} under {folder} (a symbolic link loop or a dangling link)",
            "fix or remove those links",
        )
    return [p for p in candidates if p.is_file()]


def kustomize(folder: Path, timeout_s: float = 120.0) -> str:
    """`kubectl kustomize FOLDER`; a failure raises ManifestError with kubectl's own message."""
    try:
        kubectl = find_program("kubectl")
    except MissingBinary as exc:
        raise ManifestError(f"cannot render kustomization {folder}: {exc.problem}", exc.fix) from None
    try:
        done = subprocess.run(
            [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        raise ManifestError(
            f"kubectl kustomize {folder} did not finish in {timeout_s:.0f} s",
            "check for remote bases or generators that need the network",
        ) from None
    if done.returncode != 0:
        message = " ".join(done.stderr.split()) or f"exit code {done.returncode}"
        raise ManifestError(
            f"kustomize could not render {folder}: {message}",
            "fix the kustomization (run `kubectl kustomize` on it to see the same error)",
        )
    return done.stdout


def render(path: Path) -> Rendered:
    """Render `path` into documents. Raises ManifestError for anything unusable."""
    if not path.exists():
        raise ManifestError(
            f"manifest path {path} does not exist",
            "give the path of a kustomization folder, a YAML file or a folder of YAML",
        )
    if is_kustomization(path):
        docs = tuple(parse_yaml_stream(kustomize(path), f"kustomize {path}"))
        return Rendered(path, "kustomize", docs)
    if path.is_file():
        files = [path]
    else:
        files = _yaml_files(path)
        if not files:
            raise ManifestError(
                f"no YAML files (*.yaml, *.yml) under {path}",
                "give the path of a kustomization folder or of YAML manifests",
            )
    docs: list[Document] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"cannot read {file}: {exc}", "check the file's permissions and encoding") from None
        docs.extend(parse_yaml_stream(text, str(file)))
    return Rendered(path, "yaml", tuple(docs))
