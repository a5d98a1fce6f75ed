"""The Target interface: where the suites run, and which capabilities (fixtures) it offers at which scope."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dbc_validate.capabilities import Capability, CapabilityUnavailable, SoakSubject, missing_capability_reason
from dbc_validate.errors import InputError
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.overlays import default_manifests
from dbc_validate.probes.soak.plan import soak_plan
from dbc_validate.probes.soak.run_handle import SoakRun, run_planned_soak
from dbc_validate.scope import Scope
from dbc_validate.targets.background import BackgroundStarts

if TYPE_CHECKING:
    from dbc_validate.manifests.model import ManifestSet
    from dbc_validate.settings import Settings

Provider = Callable[[ExitStack], Any]
# Measurements whose timing window must have the machine to itself: they wait until every background start ended.
NEEDS_QUIET = frozenset({Capability.FAILOVER_LAB})
# Background work whose result carries an interrupt itself (a soak run ahead hands over what it covered and how to
# resume): on Ctrl-C while the suite waits for it, it is told to stop and its result replaces the bare interrupt.
HANDS_OVER_INTERRUPTS = frozenset({Capability.SOAK_RUN})


class Target(ABC):
    """A place the suites run. Subclasses declare capabilities; providers start things when first asked for, or
    right after collection in the background (`background_capabilities`)."""

    name: str = ""
    scope: Scope = Scope.STATIC
    # Slow providers worth starting in the background as soon as the run knows it needs them.
    background_capabilities: frozenset[Capability] = frozenset()

    def __init__(self, settings: Settings, progress: Callable[[str], None]) -> None:
        self.settings = settings
        self.progress = progress
        self.versions: dict[str, str] = {}
        self._stack = ExitStack()
        self._manifests: ManifestSet | None = None
        self._background = BackgroundStarts(on_wait=getattr(progress, "flush", lambda: None))
        self._stopping = threading.Event()  # set when the session ends: work running in the background stops

    @abstractmethod
    def capability_scopes(self) -> Mapping[Capability, Scope]:
        """The capabilities this target offers and the scope of evidence each yields (no I/O)."""

    @abstractmethod
    def providers(self) -> Mapping[Capability, Provider]:
        """How to obtain each offered capability; a provider registers its cleanup on the stack."""

    def preflight(self) -> None:
        """Cheap checks before anything runs (binaries, paths); raise InputError naming problem and fix."""
        path = self.manifests_path
        if not path.exists():
            raise InputError(
                f"manifest set {path} does not exist",
                "pass --manifests PATH (a kustomization folder, a YAML file or a folder of YAML)",
            )

    def destructive_refusal(self) -> str | None:
        """Why tests marked `destructive` must be skipped on this target (None: they may run)."""
        return None

    def start(self) -> None:
        """Session start (for example create a cluster). Local targets have nothing to do."""
        return None

    def stop(self) -> None:
        """Release everything the providers started, in reverse order (a start under way is let finish first)."""
        self._stopping.set()
        try:
            pending = self._background.pending
            if pending:
                names = ", ".join(c.value for c in pending)
                self.progress(f"waiting for the background start of {names} to end, to stop what it started")
            self._background.wait_all()
            try:
                self._background.stop_all()
            finally:
                self._stack.close()
        finally:
            self._background.release()

    def start_in_background(self, capabilities: Iterable[Capability]) -> list[Capability]:
        """Start the slow providers among `capabilities` in background threads, in that order; the ones started."""
        providers = self.providers()
        chosen = [c for c in dict.fromkeys(capabilities) if c in self.background_capabilities and c in providers]
        for capability in chosen:
            self._background.start(capability, providers[capability], self._stack)
        return chosen

    def provide(self, capability: Capability) -> Any:
        if capability in NEEDS_QUIET and self._background.pending:
            names = ", ".join(c.value for c in self._background.pending)
            self.progress(f"{capability.value}: waiting for the background start of {names} (none may overlap it)")
            self._background.wait_all()
        if self._background.started(capability):
            try:
                return self._background.result(capability)
            except KeyboardInterrupt:
                if capability not in HANDS_OVER_INTERRUPTS:
                    raise
                self._stopping.set()
                return self._background.result(capability)  # later signals are deferred: the run is stopping
        provider = self.providers().get(capability)
        if provider is None:
            raise CapabilityUnavailable(missing_capability_reason(self.name, capability))
        return provider(self._stack)

    def soak_run(self, stack: ExitStack) -> SoakRun:
        """The soak as --soak-mode plans it, run in the suite's thread when the suite asks for its result."""
        return SoakRun(lambda: run_planned_soak(soak_plan(self.settings), self._soak_subject, self.progress))

    def _soak_subject(self) -> SoakSubject:
        return self.provide(Capability.SOAK)

    @property
    def manifests_path(self) -> Path:
        return self.settings.manifests or default_manifests(self.settings.root, self.name)

    def manifest_set(self) -> ManifestSet:
        """The rendered, parsed manifest set (once per session); raises ManifestError."""
        if self._manifests is None:
            self._manifests = load_manifest_set(self.manifests_path)
        return self._manifests
