"""Plain words for how a cell or a worker ended. Stdlib only."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from tutor.sandbox.limits import format_size

LOST = "worker restarted, variables lost."
INTERRUPTED = "Interrupted, variables kept."
NOT_STOPPED = ("Didn't stop after interrupt (catching KeyboardInterrupt, or a long native "
               "operation): " + LOST)
RESTARTED = "Worker restarted: variables lost."
GPU_LOST = ("CUDA can't go on in a process after an error like this one (every later GPU call "
            "would fail the same way): " + LOST)
SHUT_DOWN = "The worker was shut down: variables lost."

_SIGNALS = {
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "arithmetic error",
    signal.SIGILL: "illegal instruction",
    signal.SIGABRT: "aborted",
}


def seconds(value: float) -> str:
    return f"{value:g} s" if value < 120 else f"{value / 60:.1f} min"


def timed_out(limit: float, kept: bool) -> str:
    if kept:
        return f"Stopped after {seconds(limit)} (the time limit): variables kept."
    return f"Didn't stop at the time limit ({seconds(limit)}): {LOST}"


@dataclass(frozen=True)
class Exit:
    """How a worker ended, as the nanny saw it."""

    code: int | None
    signal: int | None
    cause: str | None  # "memory", "processes", "request", "parent", "spawn", None (on its own)
    figure: int | None = None  # memory reached ("memory") or processes counted ("processes")
    error: str | None = None  # for "spawn"
    files: dict | None = None  # for "memory": {"bytes": n, "paths": [...]} held in RAM-backed files


def _files(files: dict | None) -> str:
    """RAM-backed files (/dev/shm, tmpfs) outlive the worker: say which to delete."""
    if not files or not files.get("bytes"):
        return ""
    paths = [str(p) for p in files.get("paths") or []]
    shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return (f" {format_size(files['bytes'])} of it is in files in memory (tmpfs), which stay until "
            f"deleted{': ' + shown if shown else ''}.")


def where(place: tuple[str, int] | None) -> str:
    return f" in {place[0]}, line {place[1]}" if place else ""


def death(exit: Exit | None, *, limit: int | None, place: tuple[str, int] | None = None) -> tuple[str, str]:
    """(status, reason) for a worker that died on its own or was killed for memory."""
    if exit is None:
        return "crashed", f"The worker's supervisor died unexpectedly: {LOST}"
    if exit.cause == "memory":
        figure = format_size(exit.figure or 0)
        cap = format_size(limit) if limit else "?"
        return "killed", f"Stopped at {figure} (limit {cap}){where(place)}: {LOST}{_files(exit.files)}"
    if exit.cause == "processes":
        return "killed", (f"Stopped: your code started {exit.figure or 'too many'} processes (a fork bomb?)"
                          f"{where(place)}: {LOST}")
    if exit.cause == "spawn":
        return "crashed", f"The worker could not be started ({exit.error})."
    if exit.signal is not None:
        if exit.signal in _SIGNALS:
            return "crashed", f"Python crashed in native code ({_SIGNALS[exit.signal]}){where(place)}: {LOST}"
        if exit.signal == signal.SIGKILL:
            return "killed", f"Killed (SIGKILL: by the system, likely out of memory, or by your code){where(place)}: {LOST}"
        try:
            name = signal.Signals(exit.signal).name
        except ValueError:
            name = f"signal {exit.signal}"
        return "crashed", f"The worker was stopped by {name}{where(place)}: {LOST}"
    return "crashed", f"Your code exited the worker (code {exit.code}){where(place)}: {LOST}"
