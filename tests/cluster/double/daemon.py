"""A double as its own process, for the kind/k3d shims: `python -m double.daemon SCENARIO FOLDER [PORT...]` loads
the scenario, arms the Sealed Secrets controller with the server's own key, writes FOLDER/kubeconfig, serves the
scenario's HTTP backend on the host ports the cluster config maps (PORT...), and runs until SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from . import scenario as scenarios
from .fixture import SCENARIOS, VALIDATE_VERSION, arm_sealing
from .server import make_cert, start
from .store import Double


def main(argv: list[str]) -> int:
    name, folder, host_ports = argv[0], Path(argv[1]), [int(p) for p in argv[2:]]
    double = Double(validate_version=VALIDATE_VERSION)
    loaded = scenarios.load(SCENARIOS / f"{name}.yaml")
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
