"""kind, k3d, docker and helm for a machine without a container engine: `python -m double.shim TOOL ARGS...` does
what the harness asks of each CLI with a double (double.daemon) in place of a cluster. State lives in
$DBC_DOUBLE_STATE/<tool>-<name>/ (pid, kubeconfig); $DBC_DOUBLE_SCENARIO picks the scenario (default
<tool>_cluster). Every call is appended to $DBC_DOUBLE_STATE/calls.log, so tests can check the lifecycle."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from .crds import ADDON_CRDS

STATE = Path(os.environ.get("DBC_DOUBLE_STATE", "/nonexistent"))


def folder(tool: str, name: str) -> Path:
    return STATE / f"{tool}-{name}"


def clusters(tool: str) -> list[str]:
    return sorted(p.name.split("-", 1)[1] for p in STATE.glob(f"{tool}-*") if (p / "ready").exists())


def host_ports(data: dict) -> list[str]:
    """The host ports a kind or k3d config maps into the cluster (kind extraPortMappings, k3d ports)."""
    ports = [str(m["hostPort"]) for n in data.get("nodes") or [] for m in n.get("extraPortMappings") or []]
    ports += [str(p["port"]).split(":")[-2] for p in data.get("ports") or []]
    return ports


def kind_nodes(name: str, config: dict) -> list[dict]:
    """The nodes kind makes from a config, named as kind names them (`NAME-control-plane`, `NAME-control-plane2`,
    `NAME-worker`, ...; kind's default without `nodes` is one control-plane node)."""
    made: dict[str, int] = {}
    nodes = []
    for spec in config.get("nodes") or [{"role": "control-plane"}]:
        role = spec.get("role", "control-plane")
        made[role] = made.get(role, 0) + 1
        roles = ["control-plane"] if role == "control-plane" else []
        nodes.append({"name": f"{name}-{role}{made[role] if made[role] > 1 else ''}", "ready": True, "roles": roles})
    return nodes


def etcd_pods(nodes: list[dict]) -> list[dict]:
    """kubeadm's stacked etcd: one static pod per control-plane node in kube-system, labelled component=etcd."""
    pods = []
    for node in nodes:
        if "control-plane" not in node["roles"]:
            continue
        labels = {"component": "etcd", "tier": "control-plane"}
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"etcd-{node['name']}", "namespace": "kube-system", "labels": labels},
                "spec": {"nodeName": node["name"], "containers": [{"name": "etcd", "image": "registry.k8s.io/etcd"}]},
                "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
            }
        )
    return pods


def k3d_nodes(name: str, config: dict, args: list[str]) -> list[dict]:
    """The nodes k3d makes: `--servers/-s` and `--agents/-a` win over the config's `servers`/`agents` (k3d's own
    precedence). More than one server runs embedded etcd (k3d starts the first with --cluster-init), so the
    servers carry k3s's etcd role; a single server runs on SQLite (kine) and has none."""
    servers = int(flag(args, "--servers", "-s") or config.get("servers", 1))
    agents = int(flag(args, "--agents", "-a") or config.get("agents", 0))
    roles = ["control-plane", "master", *(["etcd"] if servers > 1 else [])]
    nodes = [{"name": f"k3d-{name}-server-{i}", "ready": True, "roles": roles} for i in range(servers)]
    return nodes + [{"name": f"k3d-{name}-agent-{i}", "ready": True, "roles": []} for i in range(agents)]


def cluster_shape(tool: str, name: str, config: dict, args: list[str]) -> dict:
    """What the cluster config (and k3d's flags) decide about the double: its nodes, and kind's etcd pods. It
    replaces the scenario's `nodes` (scenario.extend), so a scenario only says how a fresh cluster behaves."""
    if tool == "kind":
        nodes = kind_nodes(name, config)
        return {"nodes": nodes, "objects": etcd_pods(nodes)}
    return {"nodes": k3d_nodes(name, config, args)}


def create(tool: str, name: str, config: Path | None, args: list[str]) -> int:
    where = folder(tool, name)
    where.mkdir(parents=True, exist_ok=True)
    scenario = os.environ.get("DBC_DOUBLE_SCENARIO", f"{tool}_cluster")
    data = (yaml.safe_load(config.read_text(encoding="utf-8")) or {}) if config else {}
    shape = where / "shape.json"
    shape.write_text(json.dumps(cluster_shape(tool, name, data, args)), encoding="utf-8")
    argv = [sys.executable, "-m", "double.daemon", scenario, str(where), "--shape", str(shape), *host_ports(data)]
    log = (where / "daemon.log").open("w")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    (where / "pid").write_text(str(process.pid), encoding="utf-8")
    with (STATE / "daemons.log").open("a", encoding="utf-8") as started:  # kept: tests stop any left running
        started.write(f"{process.pid}\n")
    deadline = time.monotonic() + 60
    while not (where / "ready").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            print(f"ERROR: failed to create cluster: {(where / 'daemon.log').read_text()[-500:]}", file=sys.stderr)
            return 1
        time.sleep(0.2)
    nodes = len(json.loads(shape.read_text(encoding="utf-8"))["nodes"])
    print(f"Creating cluster {name!r} ... (API test double, scenario {scenario}, {nodes} nodes)")
    return 0


def delete(tool: str, name: str) -> int:
    where = folder(tool, name)
    if (where / "pid").exists():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int((where / "pid").read_text()), signal.SIGTERM)
        (where / "ready").unlink(missing_ok=True)
        (where / "pid").unlink()
    print(f"Deleting cluster {name!r} ...")
    return 0


def kubeconfig(tool: str, name: str) -> int:
    print((folder(tool, name) / "kubeconfig").read_text(encoding="utf-8"))
    return 0


def option(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def flag(args: list[str], *names: str) -> str | None:
    """The value of the first of `names` given as `--name V` or `--name=V`, else None."""
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(f"{name}="):
                return arg.split("=", 1)[1]
    return None


def kind(args: list[str]) -> int:
    if args[:2] == ["create", "cluster"]:
        return create("kind", option(args, "--name"), Path(option(args, "--config")), args)
    if args[:2] == ["delete", "cluster"]:
        return delete("kind", option(args, "--name"))
    if args[:2] == ["get", "clusters"]:
        print("\n".join(clusters("kind")))
        return 0
    if args[:2] == ["get", "kubeconfig"]:
        return kubeconfig("kind", option(args, "--name"))
    if args[:2] == ["load", "docker-image"] or args[:1] == ["version"]:
        print("kind v0.33.0 (test double shim)" if args[:1] == ["version"] else "")
        return 0
    return unknown("kind", args)


def k3d(args: list[str]) -> int:
    if args[:2] == ["cluster", "create"]:
        config = flag(args, "--config", "-c")
        return create("k3d", args[2], Path(config) if config else None, args)
    if args[:2] == ["cluster", "delete"]:
        return delete("k3d", args[2])
    if args[:2] == ["cluster", "list"]:
        print(json.dumps([{"name": n} for n in clusters("k3d")]))
        return 0
    if args[:2] == ["kubeconfig", "get"]:
        return kubeconfig("k3d", args[2])
    if args[:2] == ["image", "import"] or args[:1] == ["version"]:
        print("k3d version v5.9.0 (test double shim)" if args[:1] == ["version"] else "")
        return 0
    return unknown("k3d", args)


def docker(args: list[str]) -> int:
    if args[:1] == ["version"]:
        print("28.0.0-test-double")
        return 0
    if args[:1] == ["build"]:
        return 0  # the image is "loaded" by kind/k3d's shim; the double runs no image
    return unknown("docker", args)


def chart_objects(chart: str, namespace: str) -> list[dict]:
    """What each chart leaves that the harness talks to: the Services its checks proxy to, and Grafana's pod."""

    def svc(name: str, port: int, app: str, labels: dict, port_name: str) -> dict:
        # Labelled and named as the charts do (scenarios/healthy.yaml cites them), so discovery would find them.
        meta = {"name": name, "namespace": namespace, "labels": labels}
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {"selector": {"app.kubernetes.io/name": app}, "ports": [{"name": port_name, "port": port}]},
        }

    if chart == "kube-prometheus-stack":
        labels = {"app.kubernetes.io/name": "grafana"}
        container = {"name": "grafana", "image": "docker.io/grafana/grafana:12.0.0", "ports": [{"containerPort": 3000}]}
        grafana = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "kube-prometheus-stack-grafana", "namespace": namespace},
            "spec": {
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
            },
        }
        crds = [c for c in ADDON_CRDS if c["spec"]["group"] == "monitoring.coreos.com"]
        return [
            *crds,
            svc(
                "kube-prometheus-stack-prometheus",
                9090,
                "prometheus",
                {"app": "kube-prometheus-stack-prometheus"},
                "http-web",
            ),
            svc("kube-prometheus-stack-grafana", 80, "grafana", labels, "http-web"),
            grafana,
        ]
    if chart == "loki":
        return [svc("loki", 3100, "loki", {"app.kubernetes.io/name": "loki"}, "http-metrics")]
    return []


def helm(args: list[str]) -> int:
    if args[:2] != ["upgrade", "--install"]:
        return unknown("helm", args)
    chart, namespace, kubeconfig = args[3], option(args, "--namespace"), option(args, "--kubeconfig")
    objects = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        *chart_objects(chart, namespace),
    ]
    done = subprocess.run(
        ["kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side", "--field-manager=helm", "-f", "-"],
        input=yaml.safe_dump_all(objects),
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stderr.write(done.stderr)
    print(f"Release {args[2]!r} has been upgraded. Happy Helming! (test double shim)")
    return done.returncode


def unknown(tool: str, args: list[str]) -> int:
    print(f"{tool} (test double shim): unsupported: {' '.join(args)}", file=sys.stderr)
    return 2


def main(argv: list[str]) -> int:
    tool, args = argv[0], argv[1:]
    STATE.mkdir(parents=True, exist_ok=True)
    with (STATE / "calls.log").open("a", encoding="utf-8") as log:
        log.write(json.dumps([tool, *args]) + "\n")
    return {"kind": kind, "k3d": k3d, "docker": docker, "helm": helm}[tool](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def stop_all(state: Path) -> list[int]:
    """Stop every double daemon started under `state` that still runs (a test's teardown); the pids stopped."""
    stopped = []
    log = state / "daemons.log"
    for pid in map(int, log.read_text(encoding="utf-8").split() if log.exists() else []):
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"double.daemon" in cmdline.read_bytes():
            os.kill(pid, signal.SIGTERM)
            stopped.append(pid)
    return stopped
