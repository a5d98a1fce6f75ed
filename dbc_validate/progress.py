"""Progress lines for slow steps, shown live even while pytest captures test output."""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

ProgressSink = Callable[[str], None]


def stderr_progress(message: str) -> None:
    print(f"[dbc] {message}", file=sys.stderr, flush=True)


def terminal_progress(config: Any) -> ProgressSink:
    """A sink writing through pytest's terminal with capture suspended, so lines appear as they happen."""

    def write(message: str) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            stderr_progress(message)
            return
        if capture is not None:
            with capture.global_and_fixture_disabled():
                reporter.write_line(f"[dbc] {message}")
        else:
            reporter.write_line(f"[dbc] {message}")

    return write


class Throttled:
    """Forward at most one message per `interval_s` (the last one is never lost when `flush` is called)."""

    def __init__(self, sink: ProgressSink, interval_s: float = 5.0) -> None:
        self._sink = sink
        self._interval = interval_s
        self._last = 0.0
        self._pending: str | None = None

    def __call__(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._sink(message)
            self._last = now
            self._pending = None
        else:
            self._pending = message

    def flush(self) -> None:
        if self._pending is not None:
            self._sink(self._pending)
            self._pending = None


class MainThreadProgress:
    """A sink that writes only from the main thread: lines from background threads wait in a queue.

    Writing through pytest's terminal suspends output capture, which only the main thread may do safely; a
    background lab start's lines are written, whole and in order, at the main thread's next line or `flush`.
    """

    def __init__(self, sink: ProgressSink) -> None:
        self._sink = sink
        self._queued: queue.SimpleQueue[str] = queue.SimpleQueue()

    def __call__(self, message: str) -> None:
        if threading.current_thread() is threading.main_thread():
            self.flush()
            self._sink(message)
        else:
            self._queued.put(message)

    def flush(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        while True:
            try:
                message = self._queued.get_nowait()
            except queue.Empty:
                return
            self._sink(message)
