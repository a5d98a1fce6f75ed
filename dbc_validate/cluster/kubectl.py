"""kubectl as a subprocess: every cluster read and write of the harness goes through here (thin, no decisions).

Output that could hold secrets is never logged; error messages are redacted and cut to one line.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dbc_validate.redact import redact

FIELD_MANAGER = "dbc-validate"
NOT_SERVED = ("the server doesn't have a resource type", "no matches for kind", "could not find the requested resource")


class ClusterError(Exception):
    """A cluster operation failed; the message is one redacted line (a harness result, not bad input)."""


def one_line(text: str, limit: int = 400) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return redact(" | ".join(lines))[:limit] or "no output"


def json_documents(text: str) -> list[Any]:
    """Every JSON value in `text`: `kubectl create -o json` prints one object per created document, back to back
    (not a List), so a stream of several objects is not one JSON document."""
    decoder = json.JSONDecoder()
    values, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return values
        value, pos = decoder.raw_decode(text, pos)
        values.append(value)


@dataclass(frozen=True)
class ExecResult:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Kubectl:
    binary: str
    kubeconfig: Path | None = None
    context: str | None = None

    def argv(self, args: Sequence[str]) -> list[str]:
        head = [self.binary]
        if self.kubeconfig is not None:
            head += ["--kubeconfig", str(self.kubeconfig)]
        if self.context:
            head += ["--context", self.context]
        return [*head, *args]

    def run(
        self, args: Sequence[str], *, input_text: str | None = None, timeout_s: float = 120.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        try:
            done = subprocess.run(
                self.argv(args), input=input_text, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            raise ClusterError(f"kubectl {' '.join(args[:3])} did not finish in {timeout_s:.0f} s") from None
        if check and done.returncode != 0:
            raise ClusterError(f"kubectl {' '.join(args[:3])} failed: {one_line(done.stderr or done.stdout)}")
        return done

    def json(self, args: Sequence[str], timeout_s: float = 60.0) -> Any:
        done = self.run([*args, "-o", "json"], timeout_s=timeout_s)
        return json.loads(done.stdout or "null")

    def items(
        self,
        resource: str,
        namespace: str | None = None,
        *,
        selector: str | None = None,
        missing_ok: bool = False,
    ) -> list[dict[str, Any]]:
        """Objects of `resource` in `namespace` (None: all namespaces); [] if the type is not served and
        `missing_ok` (an add-on's CRD that is not installed)."""
        args = ["get", resource, *(["-n", namespace] if namespace else ["--all-namespaces"])]
        if selector:
            args += ["-l", selector]
        done = self.run([*args, "-o", "json"], timeout_s=60.0, check=False)
        if done.returncode != 0:
            if missing_ok and any(marker in done.stderr for marker in NOT_SERVED):
                return []
            raise ClusterError(f"kubectl get {resource} failed: {one_line(done.stderr)}")
        items = json.loads(done.stdout or "{}").get("items") or []
        kind = resource.split(".", 1)[0]
        for item in items:
            item.setdefault("kind", kind)
        return items

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        args = ["get", resource, name, *(["-n", namespace] if namespace else [])]
        done = self.run([*args, "-o", "json"], check=False)
        if done.returncode != 0:
            if "NotFound" in done.stderr or "not found" in done.stderr:
                return None
            raise ClusterError(f"kubectl get {resource} {name} failed: {one_line(done.stderr)}")
        return json.loads(done.stdout)

    def raw(self, path: str, timeout_s: float = 30.0) -> str:
        return self.run(["get", "--raw", path], timeout_s=timeout_s).stdout

    def apply(self, docs: Sequence[Mapping[str, Any]], timeout_s: float = 300.0) -> None:
        """Server-side apply of `docs` as one stream (conflicts forced: the harness owns test clusters)."""
        if not docs:
            return
        stream = yaml.safe_dump_all([dict(d) for d in docs], sort_keys=False)
        self.run(
            ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "--force-conflicts", "-f", "-"],
            input_text=stream,
            timeout_s=timeout_s,
        )

    def create(self, docs: Sequence[Mapping[str, Any]], timeout_s: float = 120.0) -> list[dict[str, Any]]:
        """`kubectl create -f -` returning what the server made of each object (SubjectAccessReviews)."""
        stream = yaml.safe_dump_all([dict(d) for d in docs], sort_keys=False)
        done = self.run(["create", "-f", "-", "-o", "json"], input_text=stream, timeout_s=timeout_s)
        objects: list[dict[str, Any]] = []
        for data in json_documents(done.stdout):
            objects += list(data.get("items") or []) if data.get("kind") == "List" else [data]
        return objects

    def delete(self, resource: str, name: str, namespace: str | None = None, wait: bool = False) -> None:
        args = ["delete", resource, name, "--ignore-not-found", f"--wait={'true' if wait else 'false'}"]
        self.run([*args, *(["-n", namespace] if namespace else [])], timeout_s=300.0)

    def exec(
        self, namespace: str, pod: str, container: str, command: Sequence[str], timeout_s: float = 60.0
    ) -> ExecResult:
        done = self.run(
            ["exec", "-n", namespace, pod, "-c", container, "--", *command], timeout_s=timeout_s, check=False
        )
        return ExecResult(done.returncode, done.stdout, done.stderr)

    def logs(
        self, namespace: str, pod: str, container: str | None = None, tail: int | None = None, previous: bool = False
    ) -> str:
        args = ["logs", "-n", namespace, pod, *(["-c", container] if container else ["--all-containers"])]
        if tail is not None:
            args.append(f"--tail={tail}")
        if previous:
            args.append("--previous")
        done = self.run(args, timeout_s=60.0, check=False)
        return done.stdout if done.returncode == 0 else ""

    def add_ephemeral_container(self, namespace: str, pod: str, container: Mapping[str, Any]) -> None:
        patch = json.dumps({"spec": {"ephemeralContainers": [dict(container)]}})
        self.run(
            ["patch", "pod", pod, "-n", namespace, "--subresource=ephemeralcontainers", "--type=strategic", "-p", patch]
        )
