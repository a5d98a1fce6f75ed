"""A double as its own process, for the kind/k3d shims: `python -m double.daemon SCENARIO FOLDER [--shape FILE]
[PORT...]` loads the scenario (its nodes replaced by the shape FILE the shim made from the cluster config), arms
the Sealed Secrets controller with the server's own key, writes FOLDER/kubeconfig, serves the scenario's HTTP
backend on the host ports the cluster config maps (PORT...), and runs until SIGTERM."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

from . import scenario as scenarios
from .fixture import SCENARIOS, VALIDATE_VERSION, arm_sealing
from .server import make_cert, start
from .store import Double


def main(argv: list[str]) -> int:
    name, folder, rest = argv[0], Path(argv[1]), argv[2:]
    shape = None
    if rest[:1] == ["--shape"]:
        shape, rest = json.loads(Path(rest[1]).read_text(encoding="utf-8")), rest[2:]
    host_ports = [int(p) for p in rest]
    double = Double(validate_version=VALIDATE_VERSION)
    loaded = scenarios.load(SCENARIOS / f"{name}.yaml", shape)
    scenarios.install(loaded, double, host_ports)
    arm_sealing(double, *make_cert(folder / "certs"))
    running = start(double, folder)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    (folder / "ready").write_text(str(running.port), encoding="utf-8")
    stop.wait()
    running.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
