"""The manifest set's `deploy-time-secrets.yaml` (data for the harness, not a Kubernetes object): the Secrets
each overlay needs, their keys, and the named value each key holds. A pure parser, and the lookup of the file.

The file for a manifest set is found by walking up from the set's path (`ManifestSet.source`) to the project
root, the first `deploy-time-secrets.yaml` on the way winning (a set outside the project: up to the filesystem
root). For `manifests/overlays/kind` that is `manifests/deploy-time-secrets.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dbc_validate.errors import InputError

FILE_NAME = "deploy-time-secrets.yaml"
# Overlays the harness deploys itself (kind, k3d): every value their secrets need must be generated, since
# nobody is there to type one in. Other overlays (prod) are sealed by an operator.
TEST_CLUSTER_OVERLAYS = ("kind", "k3d")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")  # what the API server accepts as a Secret data key
_VALUE_FIELDS = {"generated", "use"}
_SECRET_FIELDS = {"namespace", "name", "overlays", "data"}


@dataclass(frozen=True)
class DeclaredValue:
    """A named value: one random string per run when generated, else supplied by an operator (prod)."""

    name: str
    generated: bool
    use: str = ""


@dataclass(frozen=True)
class DeclaredSecret:
    """A Secret some overlays need: key -> the name of the value it holds."""

    namespace: str
    name: str
    overlays: tuple[str, ...]
    data: Mapping[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class DeployTimeSecrets:
    origin: str  # the file, as messages name it
    values: Mapping[str, DeclaredValue]
    secrets: tuple[DeclaredSecret, ...]

    def for_overlay(self, overlay: str) -> list[DeclaredSecret]:
        """The secrets `overlay` needs (entries whose `overlays` list it)."""
        return [s for s in self.secrets if overlay in s.overlays]


def _problem(origin: str, where: str, what: str, fix: str) -> InputError:
    return InputError(f"{origin}: {where} {what}", fix)


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _parse_values(raw: Any, origin: str) -> dict[str, DeclaredValue]:
    if not isinstance(raw, Mapping):
        raise _problem(origin, "values", "is not a mapping of value names", "write `values: {NAME: {generated: true}}`")
    values: dict[str, DeclaredValue] = {}
    for name, spec in raw.items():
        where = f"value {name!r}"
        if not _text(name) or not isinstance(spec, Mapping):
            raise _problem(origin, where, "is not `NAME: {generated: ..., use: ...}`", "write it as a mapping")
        unknown = sorted(map(str, set(spec) - _VALUE_FIELDS))
        if unknown:
            raise _problem(origin, where, f"has unknown field(s) {', '.join(unknown)}", "keep to generated and use")
        if not isinstance(spec.get("generated"), bool):
            raise _problem(
                origin, where, "does not say whether it is generated", "add `generated: true` or `generated: false`"
            )
        values[str(name)] = DeclaredValue(str(name), spec["generated"], str(spec.get("use") or ""))
    return values


def _parse_secret(index: int, raw: Any, values: Mapping[str, DeclaredValue], origin: str) -> DeclaredSecret:
    where = f"secrets[{index}]"
    if not isinstance(raw, Mapping):
        raise _problem(origin, where, "is not a mapping", "write `{namespace, name, overlays, data}`")
    if _text(raw.get("namespace")) and _text(raw.get("name")):
        where += f" ({raw['namespace']}/{raw['name']})"
    unknown = sorted(map(str, set(raw) - _SECRET_FIELDS))
    if unknown:
        raise _problem(
            origin, where, f"has unknown field(s) {', '.join(unknown)}", "keep to namespace, name, overlays, data"
        )
    for required in ("namespace", "name"):
        if not _text(raw.get(required)):
            raise _problem(origin, where, f"has no {required}", f"add `{required}: ...`")
    overlays = raw.get("overlays")
    if not isinstance(overlays, list) or not overlays or not all(_text(o) for o in overlays):
        raise _problem(
            origin,
            where,
            f"overlays is not a list of overlay names (got {overlays!r})",
            "write `overlays: [kind, k3d, prod]`",
        )
    data = raw.get("data")
    if not isinstance(data, Mapping) or not data:
        raise _problem(origin, where, "has no data", "write `data: {KEY: value-name}` with names from `values`")
    for key, value_name in data.items():
        if not isinstance(key, str) or not _SECRET_KEY.match(key):
            raise _problem(
                origin, where, f"key {key!r} is not a valid Secret key", "use letters, digits, '-', '_', '.'"
            )
        if not isinstance(value_name, str) or value_name not in values:
            raise _problem(
                origin,
                where,
                f"key {key} names value {value_name!r}, which `values` does not declare",
                f"declare {value_name!r} under `values` or correct the name",
            )
        if not values[value_name].generated:
            harness = sorted(set(overlays) & set(TEST_CLUSTER_OVERLAYS))
            if harness:
                raise _problem(
                    origin,
                    where,
                    f"key {key} needs value {value_name!r}, which is not generated: the harness cannot provide it "
                    f"on a {'/'.join(harness)} test cluster",
                    f"mark {value_name!r} `generated: true`, or drop {', '.join(harness)} from the secret's overlays",
                )
    return DeclaredSecret(
        str(raw["namespace"]),
        str(raw["name"]),
        tuple(str(o) for o in overlays),
        {str(k): str(v) for k, v in data.items()},
    )


def parse_deploy_time_secrets(text: str, origin: str) -> DeployTimeSecrets:
    """Parse and validate the file's text; raises InputError naming the entry and the fix (no value is ever
    quoted: the file holds names only)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{origin} is not valid YAML{at}", "correct the YAML (see the comments at its top)") from None
    if not isinstance(raw, Mapping):
        raise InputError(f"{origin} is not a mapping with `values` and `secrets`", "write `values:` and `secrets:`")
    unknown = sorted(map(str, set(raw) - {"values", "secrets"}))
    if unknown:
        raise InputError(f"{origin} has unknown top-level key(s) {', '.join(unknown)}", "keep to values and secrets")
    values = _parse_values(raw.get("values"), origin)
    entries = raw.get("secrets")
    if not isinstance(entries, list):
        raise InputError(f"{origin}: secrets is not a list", "write `secrets:` as a list of `- namespace: ...` entries")
    secrets = [_parse_secret(i, entry, values, origin) for i, entry in enumerate(entries)]
    # Two entries for one Secret are allowed only for disjoint overlays (one per overlay, never a merge).
    for i, first in enumerate(secrets):
        for j, second in enumerate(secrets[i + 1 :], start=i + 1):
            shared = sorted(set(first.overlays) & set(second.overlays))
            if first.ref == second.ref and shared:
                raise InputError(
                    f"{origin}: secret {first.ref} is declared twice for overlay(s) {', '.join(shared)} "
                    f"(secrets[{i}] and secrets[{j}])",
                    "merge the two entries, or give them disjoint overlays",
                )
    return DeployTimeSecrets(origin, values, tuple(secrets))


def find_deploy_time_secrets(source: Path, root: Path) -> Path | None:
    """The `deploy-time-secrets.yaml` nearest above the manifest set `source`, up to the project `root`."""
    here = source.resolve()
    here = here if here.is_dir() else here.parent
    top = root.resolve()
    for folder in (here, *here.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
        if folder == top:
            return None
    return None


def load_deploy_time_secrets(source: Path, root: Path) -> DeployTimeSecrets | None:
    """The parsed file for the manifest set at `source`, or None when the set has none (then the harness infers)."""
    path = find_deploy_time_secrets(source, root)
    if path is None:
        return None
    try:
        shown = path.relative_to(root.resolve())
    except ValueError:
        shown = path
    return parse_deploy_time_secrets(path.read_text(encoding="utf-8"), str(shown))
