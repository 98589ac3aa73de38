"""Worker side of the cells that act on the lesson's workspace (stdlib only).

- ``write_file(path, text)`` runs a ``python file=PATH`` cell: the cell's text is
  written to PATH in the workspace, like Jupyter's ``%%writefile``. The path must
  resolve inside the workspace (symlinks included). A ``.py`` file is compiled after
  it is written, so a syntax error shows at once, at its line; modules already
  imported from that file are forgotten, so the next ``import`` reads the new code.
- ``run_command(command)`` runs an ``sh`` cell: ``/bin/sh -c COMMAND`` in the
  workspace, as a child of the worker (so under the same limits: memory, processes,
  file size). Its output is copied to the worker's captured stdout and stderr as it
  comes (streaming and the output cap work as for Python), and kept for checks
  (``last_command()``). ``python`` in the command is the worker's own interpreter,
  unbuffered. An interrupt reaches the whole command (its own process group), which
  is killed if it is still running after ``STOP_GRACE`` seconds. A non-zero exit
  raises :class:`ShellCommandError`.

The client turns those cells into one call to these functions (``tutor.execution``);
the workspace is ``TUTOR_WORKSPACE``, which the sandbox sets to the worker's folder.
"""

from __future__ import annotations

import os
import selectors
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tutor.sandbox import tracebacks

WORKSPACE_ENV = "TUTOR_WORKSPACE"
STOP_GRACE = 1.0  # seconds between the interrupt and the kill (the client waits 3 s)
KEEP_OUTPUT = 1 << 20  # the last bytes of a command's output kept for checks
READ_SIZE = 1 << 16
POLL = 0.1  # seconds between looks at whether the shell has exited
DRAIN = 0.2  # seconds to read what is left in the pipes once it has
SHIM_FOLDER = ".tutor/bin"  # in the workspace: `python` -> the worker's interpreter
SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}


class ShellCommandError(Exception):
    """An ``sh`` cell's command ended with a non-zero exit status."""

    tutor_frames: list = []  # the worker shows no Python frames for it: the command is the cell


class WorkspacePathError(Exception):
    """A ``file=`` cell's path leads outside the lesson's workspace."""

    tutor_frames: list = []


@dataclass(frozen=True)
class CommandRun:
    """One finished ``sh`` cell: what ran, its exit status (negative: killed by that
    signal), and its stdout and stderr together, in the order they came (the last
    ``KEEP_OUTPUT`` bytes)."""

    command: str
    returncode: int
    output: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


_last: CommandRun | None = None


def last_command() -> CommandRun | None:
    """The latest ``sh`` cell that ran in this worker (for checks), or None."""
    return _last


def workspace() -> Path:
    """The lesson's workspace folder (the worker's own folder, whatever the cwd is now)."""
    return Path(os.environ.get(WORKSPACE_ENV) or os.getcwd()).resolve()


# --- file cells ------------------------------------------------------------------------


def resolve_inside(path: str, root: Path | None = None) -> Path:
    """``root / path``, refusing anything that resolves outside ``root``."""
    root = (root or workspace()).resolve()
    if os.path.isabs(path):
        raise WorkspacePathError(f"{path} is an absolute path: file cells write inside the lesson's workspace")
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise WorkspacePathError(f"{path} leads outside the lesson's workspace ({root}): not written")
    if target == root or target.is_dir():
        raise WorkspacePathError(f"{path} is a folder, not a file: not written")
    return target


def write_file(path: str, text: str, *, label: str | None = None) -> None:
    """Write a file cell's ``text`` to ``path`` in the workspace and say so. ``label`` is
    the cell's name in tracebacks: a syntax error is shown at its line of the cell."""
    target = resolve_inside(path)
    existed = target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    lines = len(text.splitlines())
    print(f"{'Overwrote' if existed else 'Wrote'} {path} ({lines} line{'s' if lines != 1 else ''})")
    if target.suffix == ".py":
        _forget_modules(target)
        _compile_or_raise(text, target, label or path)


def _forget_modules(target: Path) -> None:
    """Drop imported modules loaded from ``target`` (and the caches of the folders on
    the way), so that the next import reads the file just written, as a fresh
    ``python train.py`` would."""
    import importlib

    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).resolve() == target:
            del sys.modules[name]
    importlib.invalidate_caches()


def _compile_or_raise(text: str, target: Path, label: str) -> None:
    """A syntax error now, at its line of the cell, rather than at the next import."""
    try:
        compile(text, label, "exec")
    except SyntaxError as err:
        err.msg = f"{err.msg} (in {target.name}, which was written anyway)"
        err.tutor_frames = tracebacks.syntax_error_frames(err, label)
        raise


# --- shell cells -----------------------------------------------------------------------


def python_shim(root: Path | None = None) -> Path:
    """A folder holding ``python`` and ``python3`` that run this worker's interpreter."""
    folder = (root or workspace()) / SHIM_FOLDER
    script = f"#!/bin/sh\nexec {shlex.quote(sys.executable)} \"$@\"\n"
    for name in ("python", "python3"):
        shim = folder / name
        try:
            if shim.read_text() == script:
                continue
        except OSError:
            pass
        folder.mkdir(parents=True, exist_ok=True)
        shim.write_text(script)
        shim.chmod(0o755)
    return folder


def command_environment(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(python_shim(root)), env.get("PATH") or os.defpath])
    env["PYTHONUNBUFFERED"] = "1"  # a script's prints stream as they happen
    env[WORKSPACE_ENV] = str(root)
    return env


def run_command(command: str) -> None:
    """Run an ``sh`` cell; raise :class:`ShellCommandError` if it does not exit with 0.
    What ran, its status and output: ``last_command()``."""
    global _last
    root = workspace()
    _flush_python()
    started = time.monotonic()
    # Its own session and process group: an interrupt or a kill reaches everything the
    # command started, and nothing of the worker's.
    process = subprocess.Popen(["/bin/sh", "-c", command], cwd=root, env=command_environment(root),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    kept = _Tail(KEEP_OUTPUT)
    try:
        _relay(process, kept)
    except KeyboardInterrupt:
        _stop(process, kept)
        raise
    finally:
        _kill_group(process)  # what the command left running in the background ends with the cell
        process.wait()
        for pipe in (process.stdout, process.stderr):
            pipe.close()
        _last = CommandRun(command, process.returncode, kept.text(), time.monotonic() - started)
    if process.returncode != 0:
        raise ShellCommandError(describe_exit(command, process.returncode))


def describe_exit(command: str, returncode: int) -> str:
    lines = [line for line in command.strip().splitlines() if line.strip()]
    what = lines[0].strip() if lines else command.strip()
    if len(what) > 60:
        what = what[:57] + "..."
    if len(lines) > 1:
        what += " ..."
    if returncode < 0:
        name = SIGNAL_NAMES.get(-returncode, f"signal {-returncode}")
        return f"`{what}` was stopped by {name}"
    return f"`{what}` exited with status {returncode}"


class _Tail:
    """The last ``limit`` bytes of what went through."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        while self.size - len(self.chunks[0]) >= self.limit:
            self.size -= len(self.chunks.pop(0))

    def text(self) -> str:
        data = b"".join(self.chunks)[-self.limit:]
        return data.decode("utf-8", errors="replace")


def _flush_python() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def _relay(process: subprocess.Popen, kept: _Tail, until: float | None = None) -> None:
    """Copy the command's stdout and stderr to ours as they come, until the shell has
    exited and its pipes are drained (or until the monotonic time ``until``). Pipes a
    background job holds open do not keep the cell running."""
    drain_until = None
    with selectors.DefaultSelector() as selector:
        for pipe, fd in ((process.stdout, 1), (process.stderr, 2)):
            selector.register(pipe, selectors.EVENT_READ, fd)
        while selector.get_map():
            now = time.monotonic()
            ends = [end for end in (until, drain_until) if end is not None]
            if any(now >= end for end in ends):
                return
            for key, _ in selector.select(min([POLL, *(end - now for end in ends)])):
                data = os.read(key.fileobj.fileno(), READ_SIZE)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                kept.add(data)
                _write_all(key.data, data)
            if drain_until is None and process.poll() is not None:
                drain_until = time.monotonic() + DRAIN


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _stop(process: subprocess.Popen, kept: _Tail) -> None:
    """Interrupted: pass the interrupt to the command's group and give it ``STOP_GRACE``
    seconds to end, its last output still shown (the caller then kills the group)."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        _relay(process, kept, until=time.monotonic() + STOP_GRACE)
    except (KeyboardInterrupt, ProcessLookupError, PermissionError):
        pass  # a second interrupt: stop at once


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
