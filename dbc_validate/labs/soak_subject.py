"""The local `soak` capability: its own Traefik lab, supervised like pods and metered with psutil.

A lab process found dead at a sample is restarted after a kubelet-like back-off and counted as a restart;
restarting again and again within a window is a crash-loop. CPU and memory are summed over the lab's
processes; the soak judges them against the configured budget (--soak-cpu-budget, --soak-memory-budget).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

import psutil

from dbc_validate.analysis.soak_summary import crashlooping, pick_route, restart_delay
from dbc_validate.capabilities import ComponentHealth, HttpRoute, ResourceUse
from dbc_validate.errors import InputError
from dbc_validate.labs.traefik_proxy import TraefikLab
from dbc_validate.tools.processes import LabProcess

# Two samples (the default interval of a 10 s run is 5 s): load running, health and CPU deltas taken, samples
# durable, a chart line. Enough to prove the machinery; the 48 h threshold is reported as not met either way.
LOCAL_DEFAULT_DURATION_S = 10.0


@dataclass
class _Watched:
    name: str
    process: LabProcess
    restarts: int = 0
    restart_times: deque[float] = field(default_factory=lambda: deque(maxlen=16))
    down_since: float | None = None


class ProcessSupervisor:
    """Restart dead lab processes with back-off and say which are down, restarted or crash-looping."""

    def __init__(self, processes: Sequence[tuple[str, LabProcess]], backoff_base_s: float = 10.0) -> None:
        self._watched = [_Watched(name, process) for name, process in processes]
        self.backoff_base_s = backoff_base_s

    def check(self, now: float) -> list[ComponentHealth]:
        readings = []
        for w in self._watched:
            up = w.process.alive()
            detail = ""
            if not up:
                if w.down_since is None:
                    w.down_since = now
                detail = f"exited with code {w.process.returncode}"
                if now - w.down_since >= restart_delay(w.restarts, self.backoff_base_s):
                    w.process.start()
                    w.restarts += 1
                    w.restart_times.append(now)
                    w.down_since = None
                    detail += "; restarted"
                else:
                    detail += "; waiting in back-off"
            readings.append(ComponentHealth(w.name, up, w.restarts, crashlooping(list(w.restart_times), now), detail))
        return readings

    @property
    def processes(self) -> list[LabProcess]:
        return [w.process for w in self._watched]


class ProcessMeter:
    """CPU since the previous reading and resident memory of a set of processes (only live pids are kept)."""

    def __init__(self) -> None:
        self._known: dict[int, psutil.Process] = {}

    def measure(self, pids: Sequence[int]) -> ResourceUse:
        self._known = {pid: p for pid, p in self._known.items() if pid in pids}
        cpu_percent = 0.0
        rss = 0
        for pid in pids:
            try:
                process = self._known.get(pid)
                if process is None:
                    process = self._known[pid] = psutil.Process(pid)
                    process.cpu_percent(None)  # the first call only sets the baseline
                cpu_percent += process.cpu_percent(None)
                rss += process.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                self._known.pop(pid, None)
        return ResourceUse(cpu_cores=cpu_percent / 100, memory_mb=rss / 2**20)


def _soak_route(routes: Sequence[HttpRoute]) -> HttpRoute:
    route = pick_route(list(routes))
    if route is None:
        raise InputError(
            "the manifest set has no traefik.io IngressRoute with a backend Service for the soak's load",
            "add the IngressRoute the soak should drive, or pass --manifests",
        )
    return route


class LocalSoakSubject:
    def __init__(self, lab: TraefikLab, backoff_base_s: float = 10.0) -> None:
        self.lab = lab
        self.endpoint = lab.endpoint()
        self.route = _soak_route(self.endpoint.routes)
        self.default_duration_s = LOCAL_DEFAULT_DURATION_S
        named = [("traefik", lab.process)] if lab.process else []
        named += [(f"backend {b.backend} ({b.variant})", b.process) for b in lab.backends]
        self.supervisor = ProcessSupervisor(named, backoff_base_s)
        self.meter = ProcessMeter()
        self.description = (
            f"local Traefik {lab.version} lab: {len(named)} processes (Traefik and one server per backend Service)"
        )

    def health(self, now: float) -> list[ComponentHealth]:
        return self.supervisor.check(now)

    def resources(self) -> ResourceUse:
        return self.meter.measure([p.pid for p in self.supervisor.processes if p.alive() and p.pid is not None])


def local_soak(routes: Sequence[HttpRoute], stack: ExitStack, progress: Callable[[str], None]) -> LocalSoakSubject:
    """A Traefik lab of its own for the soak, so restarts it may see never disturb the split measurement."""
    _soak_route(routes)  # before starting anything
    lab = TraefikLab(routes, progress, name="soak-traefik").start(stack)
    return LocalSoakSubject(lab)
