"""Ctrl-C and SIGTERM during a Gate 1 run: the first interrupts the run, later ones wait for the cleanup.

Once a run is stopping (interrupted, or finishing normally), the report is written and the labs are stopped
with further SIGINT/SIGTERM deferred, so a second Ctrl-C cannot lose the report or leak a lab. Interrupting
`abandon_after` more times abandons the cleanup (never the report writing) for a user who must get out.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)


class CleanupAbandoned(KeyboardInterrupt):
    """Raised by the guard when the user insisted: the cleanup stops where it is."""


def _say(text: str) -> None:
    # os.write, not print: a handler may run while sys.stderr's buffer is mid-write (print would then raise).
    with suppress(OSError):
        os.write(2, (text + "\n").encode("utf-8", "replace"))


class InterruptGuard:
    """Installs itself for SIGINT (when Python's default handler is in place) and SIGTERM (when at SIG_DFL)."""

    def __init__(self, abandon_after: int = 2) -> None:
        self.abandon_after = abandon_after
        self.stopping = False  # the run is stopping: later signals are deferred
        self.deferred = 0
        self.critical = 0  # depth of sections that must finish whatever happens (the report)
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
        for signum in HANDLED:
            if signal.getsignal(signum) is defaults[signum]:
                self._previous[signum] = signal.signal(signum, self.handle)

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            if signal.getsignal(signum) == self.handle:
                signal.signal(signum, previous)
        self._previous.clear()

    @property
    def installed(self) -> bool:
        return bool(self._previous)

    def handle(self, signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if not self.stopping:
            self.stopping = True
            raise KeyboardInterrupt(name)
        self.deferred += 1
        left = self.abandon_after - self.deferred + 1
        if self.critical:
            _say(f"dbc_validate: {name} deferred: writing the Gate 1 report first")
        elif left > 0:
            _say(
                f"dbc_validate: {name} deferred: writing the report and stopping the labs "
                f"({left} more to abandon the cleanup; labs may then stay running)"
            )
        else:
            raise CleanupAbandoned(name)

    def start_stopping(self) -> None:
        """The run ends from here on: later signals are deferred (the first one no longer interrupts)."""
        self.stopping = True

    @contextmanager
    def protected(self) -> Iterator[None]:
        """A section no signal abandons (the report's writing): they are counted and announced."""
        self.critical += 1
        try:
            yield
        finally:
            self.critical -= 1
