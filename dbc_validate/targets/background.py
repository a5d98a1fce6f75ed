"""Providers started early in background threads, so slow labs come up while other suites run.

A capability fixture then waits for its start and gets the provider's result, or the very exception the
provider raised (CapabilityUnavailable stays NOT_RUN, an InputError stays ERROR), as if it had started it itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.capabilities import Capability

WAIT_SLICE_S = 0.2  # waits wake up this often: Ctrl-C reaches the main thread and progress lines are flushed


@dataclass
class _Start:
    capability: Capability
    stack: ExitStack
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None


class BackgroundStarts:
    """Runs providers in threads that stay alive until `release`.

    The threads outlive the start on purpose: lab processes get PR_SET_PDEATHSIG (SIGKILL when their parent
    dies), and Linux ties that to the thread that forked them, so a thread ending after the start would kill
    the lab it just started. `release` comes after the labs are stopped.
    """

    def __init__(self, on_wait: Callable[[], None] = lambda: None) -> None:
        self._starts: dict[Capability, _Start] = {}
        self._released = threading.Event()
        self._threads: list[threading.Thread] = []
        self._on_wait = on_wait  # called by the main thread while it waits (flushes queued progress lines)

    def start(self, capability: Capability, provider: Callable[[ExitStack], Any], parent: ExitStack) -> None:
        """Run `provider` in a thread with a stack of its own, closed with `parent` (registered now, in order)."""
        if capability in self._starts:
            return
        entry = _Start(capability, ExitStack())
        parent.callback(entry.stack.close)
        self._starts[capability] = entry
        thread = threading.Thread(
            target=self._run, args=(entry, provider), name=f"dbc-start-{capability.value}", daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _run(self, entry: _Start, provider: Callable[[ExitStack], Any]) -> None:
        try:
            entry.result = provider(entry.stack)
        except BaseException as exc:  # handed to the fixture that waits for it, raised there unchanged
            entry.error = exc
        finally:
            entry.done.set()
        self._released.wait()

    def started(self, capability: Capability) -> bool:
        return capability in self._starts

    @property
    def pending(self) -> list[Capability]:
        return [c for c, entry in self._starts.items() if not entry.done.is_set()]

    def result(self, capability: Capability) -> Any:
        """Wait for the start of `capability`; its result, or the provider's exception raised again."""
        entry = self._starts[capability]
        self._wait([entry])
        if entry.error is not None:
            raise entry.error
        return entry.result

    def wait_all(self) -> None:
        """Wait until every start has ended (successfully or not); errors stay for the fixtures that need them."""
        self._wait(self._starts.values())

    def _wait(self, entries: Iterable[_Start]) -> None:
        for entry in list(entries):
            while not entry.done.wait(WAIT_SLICE_S):
                self._on_wait()
        self._on_wait()

    def stop_all(self) -> None:
        """Stop what the starts started, all labs at once (each lab's own stack still unwinds in order).

        The labs are independent of each other, and most of a lab's stop is waiting for its processes to exit.
        The first error is raised once every stop has ended.
        """
        errors: list[BaseException] = []

        def close(stack: ExitStack) -> None:
            try:
                stack.close()
            except BaseException as exc:  # raised by the main thread below
                errors.append(exc)

        closers = [
            threading.Thread(target=close, args=(entry.stack,), name=f"dbc-stop-{c.value}", daemon=True)
            for c, entry in self._starts.items()
        ]
        for thread in closers:
            thread.start()
        for thread in closers:
            while thread.is_alive():
                thread.join(WAIT_SLICE_S)
                self._on_wait()
        self._on_wait()
        if errors:
            raise errors[0]

    def release(self) -> None:
        """Let the parked threads end (after the labs they started were stopped)."""
        self._released.set()
        for thread in self._threads:
            thread.join(timeout=5)
