"""48 h of soak samples at 10 s into the Gate 1 report: time and peak memory; and the sampler's memory over time.

1. Writes 17,280 samples (two segments and a gap, as after a kill and a resume) to a samples.jsonl, then in
   a fresh process reads them back, stitches them, records the soak charts and writes gate1.json and
   gate1.html. Targets: under 5 s and under 200 MB peak (the process's maximum resident set, Python and
   matplotlib included).
2. Runs the real sampler (a Traefik lab, a Locust soak worker, psutil, fsynced appends) for many samples
   back to back and reports its Python heap after each block: flat means no growth per sample.

Run: .venv/bin/python benchmarks/soak_report_render.py [--samples N] [--sampler-samples N]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import ExitStack
from pathlib import Path

SAMPLES_48H = 48 * 3600 // 10


def write_samples(path: Path, samples: int, interval: float = 10.0, seed: int = 7) -> None:
    rng = random.Random(seed)
    t = 1_790_000_000.0
    half = samples // 2
    with open(path, "w", encoding="utf-8") as out:
        for segment, count in ((0, half), (1, samples - half)):
            out.write(
                json.dumps(
                    {
                        "type": "segment",
                        "segment": segment,
                        "t": t,
                        "planned_s": samples * interval,
                        "interval_s": interval,
                        "subject": "synthetic",
                        "resumed": segment > 0,
                    }
                )
                + "\n"
            )
            for _ in range(count):
                t += interval
                requests = 50
                failures = 1 if rng.random() < 0.002 else 0
                out.write(
                    json.dumps(
                        {
                            "type": "sample",
                            "segment": segment,
                            "t": t,
                            "dt": interval,
                            "requests": requests,
                            "failures": failures,
                            "error_rate": failures / requests,
                            "p50_ms": round(rng.gauss(4, 0.5), 2),
                            "p95_ms": round(rng.gauss(12, 3), 2),
                            "cpu_cores": 0.05,
                            "memory_mb": 130.0,
                            "cpu_percent": round(rng.uniform(2, 9), 2),
                            "memory_percent": round(rng.uniform(25, 27), 2),
                            "restarts": 0,
                            "crashloops": [],
                            "down": [],
                            "first_error": "",
                        }
                    )
                    + "\n"
                )
            if segment == 0:
                t += 1800  # a 30 min gap: the harness was killed and resumed


def render(run_dir: Path, html: Path) -> None:
    """The part that is timed: what the soak suite and the report do with a finished run."""
    from dbc_validate.analysis.soak_summary import chart_lines, record_charts, summarize
    from dbc_validate.criteria import CATALOG
    from dbc_validate.evidence import EvidenceRecorder, TestEvidence
    from dbc_validate.probes.soak.store import SoakStore
    from dbc_validate.report.build import RunInfo, build_report
    from dbc_validate.report.html import write_report
    from dbc_validate.report.verdict import Outcome, TestResult
    from dbc_validate.scope import Scope

    store = SoakStore(run_dir)
    summary, series = summarize(store.run_id, store.records())
    topics = {
        "soak": "stability.soak",
        "crashloops": "stability.no_crashloops",
        "resources": "stability.resource_headroom",
    }
    evidence: dict[str, TestEvidence] = {}
    tests = []
    lines = chart_lines(summary, series, 70.0)
    for topic, criterion in topics.items():
        nodeid = f"suites/gate1/test_soak.py::{topic}"
        sink = evidence.setdefault(nodeid, TestEvidence())
        recorder = EvidenceRecorder((criterion,), sink)
        recorder.measure("covered_time", summary.covered_against(48 * 3600))
        record_charts(lines, topic, recorder)
        tests.append(TestResult(nodeid, (criterion,), Outcome.PASSED, Scope.LOCAL))
    run = RunInfo("local", "local", "start", "end", "bench")
    write_report(build_report(CATALOG, tests, evidence, run), html)


def render_child(run_dir: Path, html: Path) -> None:
    started, cpu_started = time.perf_counter(), time.process_time()
    render(run_dir, html)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": seconds, "cpu_seconds": cpu_seconds, "peak_mb": peak_mb, "html_kb": html.stat().st_size / 1024}
        )
    )


def sampler_memory(samples: int, blocks: int = 5) -> list[float]:
    """Python heap (KiB) held after each block of samples taken by the real sampler."""
    from dbc_validate.labs.soak_subject import LocalSoakSubject
    from dbc_validate.labs.traefik_proxy import provide_local_traefik
    from dbc_validate.manifests.model import load_manifest_set
    from dbc_validate.manifests.traefik_routes import http_routes
    from dbc_validate.probes.locust_runner import LocustWorker
    from dbc_validate.probes.soak.plan import SoakPlan
    from dbc_validate.probes.soak.runner import Sampler, _wait_for_load
    from dbc_validate.probes.soak.store import SoakStore

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "split" / "70-30"
    heap: list[float] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        lab = provide_local_traefik(http_routes(load_manifest_set(fixture)), stack, lambda m: None, "bench-traefik")
        subject = LocalSoakSubject(lab)
        plan = SoakPlan(root=Path(tmp), duration_s=None)
        job = {
            "mode": "soak",
            "base_url": subject.endpoint.base_url,
            "path": "/",
            "host_header": "www.dirtbikechina.com",
            "users": 2,
            "rate_per_s": 20,
            "window_s": 0.2,
            "max_seconds": 600,
        }
        worker = LocustWorker(job, Path(tmp) / "load", "load").start()
        stack.callback(worker.stop)
        store = SoakStore.create(Path(tmp) / "runs", time.time())
        sampler = Sampler(subject, worker, plan, 0, _wait_for_load(worker, time.time, time.sleep))
        tracemalloc.start()
        per_block = samples // blocks
        for _ in range(blocks):
            for _ in range(per_block):
                store.append(sampler.take(time.time()))
            heap.append(tracemalloc.get_traced_memory()[0] / 1024)
        tracemalloc.stop()
        store.close()
    return heap


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=SAMPLES_48H)
    parser.add_argument("--sampler-samples", type=int, default=5000)
    parser.add_argument("--render-child", nargs=2, metavar=("RUN_DIR", "HTML"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.render_child:
        render_child(Path(args.render_child[0]), Path(args.render_child[1]))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "bench-run"
        run_dir.mkdir()
        write_samples(run_dir / "samples.jsonl", args.samples)
        child = subprocess.run(
            [sys.executable, __file__, "--render-child", str(run_dir), str(Path(tmp) / "gate1.html")],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"report with {args.samples} soak samples: {figures['seconds']:.2f} s ({figures['cpu_seconds']:.2f} s CPU), "
        f"peak {figures['peak_mb']:.0f} MB "
        f"(targets < 5 s, < 200 MB), gate1.html {figures['html_kb']:.0f} KiB"
    )
    heap = sampler_memory(args.sampler_samples)
    step = args.sampler_samples // len(heap)
    print("sampler heap after each block of " + f"{step} samples: " + ", ".join(f"{h:.0f} KiB" for h in heap))
    growth = (heap[-1] - heap[0]) / max(args.sampler_samples - step, 1) * 1000
    print(f"sampler heap growth: {growth:+.1f} KiB per 1000 samples")
    print(
        f"soak_report_render samples={args.samples} seconds={figures['seconds']:.2f} "
        f"peak_mb={figures['peak_mb']:.0f} sampler_growth_kib_per_1000={growth:+.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
