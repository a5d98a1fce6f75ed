"""Pods that really run: the double starts a local process for each pod a `Program` recognises (by its image), with
the pod's env and its ConfigMap/emptyDir volumes as folders, relays port-forwards to the pod's ports to it, and
stops it when the pod is deleted. The Locust program runs the in-cluster load's master and worker pods."""

from __future__ import annotations

import fnmatch
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbc_validate.tools.processes import LabProcess, free_ports

Obj = dict[str, Any]


@dataclass(frozen=True)
class Launch:
    """What a pod's container runs here: argv and env with the cluster's paths and names already made local."""

    argv: list[str]
    env: dict[str, str]
    ports: dict[int, int]  # container port -> local port (each pod has a port space of its own in a cluster)


# (pod, the pod's folder, the runner) -> a Launch, or None when the program does not run this pod
Program = Callable[[Obj, Path, "PodRunner"], Launch | None]


@dataclass
class Running:
    pod: Obj
    launch: Launch
    process: LabProcess


@dataclass
class PodRunner:
    """Attached to a Double with a controller: pods written are started, pods deleted are stopped.

    Processes are started and stopped from one long-lived thread: LabProcess children die with the thread that
    started them (PR_SET_PDEATHSIG), and the API server's request threads end with each request."""

    double: Any
    folder: Path
    program: Program
    base_env: Mapping[str, str]
    running: dict[tuple[str, str], Running] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    started: list[tuple[str, str]] = field(default_factory=list)  # every pod ever started, in order
    _work: queue.Queue = field(default_factory=queue.Queue)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self) -> PodRunner:
        controller = self.double.controller
        react, routed = controller.react, self.double.route_forward

        def react_and_run(event: str, key: tuple, obj: Obj) -> None:
            react(event, key, obj)
            if key[:2] == ("", "pods") and event in ("ADDED", "DELETED"):
                self._work.put((event, key[2], key[3], obj))

        def route(ns: str, pod: str, port: int) -> tuple | None:
            with self._lock:
                run = self.running.get((ns, pod))
            if run is not None and port in run.launch.ports:
                return ("127.0.0.1", run.launch.ports[port])
            return routed(ns, pod, port) if routed else None

        controller.react = react_and_run
        self.double.route_forward = route
        self.double.closers.append(self.stop)
        threading.Thread(target=self._serve, name="double-pod-runner", daemon=True).start()
        return self

    def _serve(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                self._stop_all()
                self._work.task_done()
                return
            event, ns, name, pod = item
            try:
                self._start(ns, name, pod) if event == "ADDED" else self._stop(ns, name)
            except Exception as exc:  # a pod that cannot run is the test's failure to report, not the server's
                self.errors.append(f"{ns}/{name}: {exc}")
            self._work.task_done()

    def _start(self, ns: str, name: str, pod: Obj) -> None:
        folder = self.folder / ns / name
        launch = self.program(pod, folder, self)
        if launch is None:
            return
        process = LabProcess(f"pod-{name}", launch.argv, log_path=folder / "container.log", env=launch.env).start()
        with self._lock:
            self.running[(ns, name)] = Running(pod, launch, process)
            self.started.append((ns, name))

    def _stop(self, ns: str, name: str) -> None:
        with self._lock:
            run = self.running.pop((ns, name), None)
        if run is not None:
            run.process.stop(timeout_s=5.0)

    def _stop_all(self) -> None:
        for ns, name in list(self.running):
            self._stop(ns, name)

    def settle(self) -> None:
        """Until every pod write seen so far has been acted on."""
        self._work.join()

    def alive(self) -> list[str]:
        """The pods whose process still runs."""
        with self._lock:
            return [f"{ns}/{name}" for (ns, name), run in self.running.items() if run.process.alive()]

    def stop(self) -> None:
        self._work.put(None)
        self._work.join()

    def port_of(self, ns: str, selector: Mapping[str, str], container_port: int) -> int | None:
        """The local port of `container_port` on a running pod of `ns` matching `selector` (a Service's backend)."""
        with self._lock:
            for (pod_ns, _), run in self.running.items():
                labels = (run.pod.get("metadata") or {}).get("labels") or {}
                if pod_ns == ns and all(labels.get(k) == v for k, v in selector.items()):
                    return run.launch.ports.get(container_port)
        return None


# ---- volumes: a pod's mount paths become folders of its own ------------------------------------------------


def materialise_volumes(pod: Obj, container: Obj, folder: Path, double: Any) -> dict[str, Path]:
    """mountPath -> local folder; a ConfigMap volume's keys are written as files, an emptyDir is an empty folder."""
    ns = pod["metadata"]["namespace"]
    volumes = {v["name"]: v for v in (pod.get("spec") or {}).get("volumes") or []}
    mounts: dict[str, Path] = {}
    for mount in container.get("volumeMounts") or []:
        volume = volumes[mount["name"]]
        local = folder / "volumes" / mount["name"]
        local.mkdir(parents=True, exist_ok=True)
        if "configMap" in volume:
            config = double.store.get(("", "configmaps", ns, volume["configMap"]["name"]))
            if config is None:
                raise RuntimeError(f"ConfigMap {volume['configMap']['name']} of volume {mount['name']} not found")
            for key, text in (config.get("data") or {}).items():
                (local / key).write_text(text, encoding="utf-8")
        mounts[mount["mountPath"].rstrip("/")] = local
    return mounts


def localise(value: str, mounts: Mapping[str, Path], addresses: Mapping[str, str]) -> str:
    """A path under a mount becomes the mount's folder; an in-cluster address the test maps becomes its local one."""
    for mount_path, local in mounts.items():
        if value == mount_path or value.startswith(mount_path + "/"):
            return str(local) + value[len(mount_path) :]
    for cluster, local_address in addresses.items():
        value = value.replace(cluster, local_address)
    return value


# ---- the Locust program: the in-cluster load's master and workers ------------------------------------------


def service_backend(double: Any, host: str) -> tuple[str, Obj] | None:
    """`NAME.NAMESPACE.svc[.cluster.local]` -> (namespace, Service), as the cluster DNS resolves it."""
    parts = host.split(".")
    if len(parts) < 3 or parts[2] != "svc":
        return None
    service = double.store.get(("", "services", parts[1], parts[0]))
    return (parts[1], service) if service is not None else None


def locust_program(locust: Path, image_glob: str, addresses: Mapping[str, str]) -> Program:
    """Runs pods whose first container's image matches `image_glob` as `locust ARGS` (the image's entrypoint).

    The pod's declared ports get free local ports (`--FLAG=PORT` arguments naming one follow); a worker's
    `--master-host=SVC.NS.svc --master-port=P` is resolved through the Service to the master process's local port."""

    def program(pod: Obj, folder: Path, runner: PodRunner) -> Launch | None:
        container = (pod.get("spec") or {}).get("containers", [{}])[0]
        if not fnmatch.fnmatchcase(str(container.get("image", "")), image_glob):
            return None
        mounts = materialise_volumes(pod, container, folder, runner.double)
        declared = [int(p["containerPort"]) for p in container.get("ports") or []]
        ports = dict(zip(declared, free_ports(len(declared)), strict=True)) if declared else {}
        args = [localise(str(a), mounts, addresses) for a in container.get("args") or []]
        args = [_local_port(a, ports) for a in args]
        args = _resolve_master(args, runner)
        env = dict(runner.base_env)
        for item in container.get("env") or []:
            env[item["name"]] = localise(str(item.get("value", "")), mounts, addresses)
        return Launch([str(locust), *args], env, ports)

    return program


def _local_port(arg: str, ports: Mapping[int, int]) -> str:
    flag, _, value = arg.partition("=")
    if flag.startswith("--") and value.isdigit() and int(value) in ports and flag != "--master-port":
        return f"{flag}={ports[int(value)]}"
    return arg


def _resolve_master(args: list[str], runner: PodRunner) -> list[str]:
    hosts = [a.partition("=")[2] for a in args if a.startswith("--master-host=")]
    if not hosts:
        return args
    found = service_backend(runner.double, hosts[0])
    if found is None:
        raise RuntimeError(f"cluster DNS: no Service {hosts[0]}")
    ns, service = found
    port_arg = next((a for a in args if a.startswith("--master-port=")), "--master-port=5557")
    wanted = int(port_arg.partition("=")[2])
    spec = service.get("spec") or {}
    target = next((int(p.get("targetPort", p["port"])) for p in spec.get("ports") or [] if p["port"] == wanted), wanted)
    local = runner.port_of(ns, spec.get("selector") or {}, target)
    if local is None:
        raise RuntimeError(f"Service {ns}/{service['metadata']['name']} has no running backend for port {wanted}")
    replaced = {f"--master-host={hosts[0]}": "--master-host=127.0.0.1", port_arg: f"--master-port={local}"}
    resolved = [replaced.get(a, a) for a in args]
    return resolved if port_arg in args else [*resolved, f"--master-port={local}"]
