"""Opening a byte stream to a lesson's session host: here, or through the system ssh.

- ``LocalTransport``: the host's Unix socket on this machine; when no host listens,
  it starts one (``python -m tutor.sessions.host``) and connects.
- ``SshTransport``: ``ssh -T -o BatchMode=yes HOST <python> -m tutor.sandbox.remote
  attach OPTIONS`` (ssh-agent, ProxyJump, ControlMaster and host keys come from the
  user's own ~/.ssh/config); on the far side that command does what LocalTransport
  does, then relays its stdin and stdout to the host's socket. No port is opened.

``open()`` returns an ``Opened`` stream or raises ``SessionUnavailable`` with a plain
message; ``explain_failure`` turns what ssh said into one (host unreachable, login
refused, tutor missing there).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from tutor import __version__
from tutor.sessions import places
from tutor.sessions.host import HostOptions

ENV_REMOTE = "TUTOR_REMOTE"
ENV_REMOTE_PYTHON = "TUTOR_REMOTE_PYTHON"
ENV_SSH_COMMAND = "TUTOR_SSH_COMMAND"
DEFAULT_REMOTE_PYTHON = "python3"
HOST_START_TIMEOUT = 20.0
STDERR_KEEP = 40  # lines of ssh's stderr kept to explain a failure


class SessionUnavailable(Exception):
    """The session cannot be reached; ``str`` is the message for the learner."""


@dataclass
class Opened:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    process: asyncio.subprocess.Process | None = None
    stderr: deque = field(default_factory=lambda: deque(maxlen=STDERR_KEEP))
    _stderr_task: asyncio.Task | None = None

    async def close(self) -> None:
        """Close the stream and end ssh (if any), without waiting long for it."""
        try:
            self.writer.close()
        except (OSError, RuntimeError):
            pass
        process = self.process
        if process is not None and process.returncode is None:
            try:
                await asyncio.wait_for(process.wait(), 2.0)
            except asyncio.TimeoutError:
                try:
                    process.kill()
                except ProcessLookupError:
                    pass
                try:  # (asyncio also waits for its pipes, which a child of ssh may hold)
                    await asyncio.wait_for(process.wait(), 2.0)
                except asyncio.TimeoutError:
                    pass
        if self._stderr_task is not None:
            self._stderr_task.cancel()


class LocalTransport:
    """A host on this machine, started when none runs."""

    remote = False
    where = ""

    def __init__(self, options: HostOptions, python: str | None = None) -> None:
        self.options = options
        self.python = python or sys.executable
        self.peer = "the session host"

    def describe(self) -> str:
        return "this machine"

    def paths(self) -> places.SessionPaths:
        return places.SessionPaths.of(self.options.key)

    async def open(self, *, start: bool = True) -> Opened:
        loop = asyncio.get_running_loop()
        sock = await loop.run_in_executor(None, lambda: ensure_host(self.options, python=self.python, start=start))
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=1 << 20)
        return Opened(reader, writer)


def ensure_host(options: HostOptions, *, python: str | None = None, start: bool = True) -> socket.socket:
    """A connected socket to the lesson's host, started first if none runs (blocking).
    Raises SessionUnavailable."""
    try:
        folder = places.ensure_runtime_dir()
    except places.SessionPlaceError as err:
        raise SessionUnavailable(str(err)) from None
    paths = places.SessionPaths.of(options.key, folder)
    sock = connect(paths)
    if sock is not None:
        return sock
    if not start:
        raise SessionUnavailable(f"no session {options.key} runs here")
    deadline = time.monotonic() + HOST_START_TIMEOUT
    while True:
        if not places.host_alive(paths):
            answer = _launch(options, python or sys.executable)
            if answer.startswith("error "):
                raise SessionUnavailable(f"could not start the session host: {answer[6:]}")
        # "ready": it listens now; "running": another start won the race, or a host is
        # ending (then its lock goes soon and the next turn starts a fresh one)
        sock = connect(paths)
        if sock is not None:
            return sock
        if time.monotonic() > deadline:
            raise SessionUnavailable(f"the session host did not answer within {HOST_START_TIMEOUT:g} s "
                                     f"(its log: {paths.log})")
        time.sleep(0.05)


def _launch(options: HostOptions, python: str) -> str:
    """Run the host's launcher: "ready PID", "running" or "error WHY"."""
    try:
        done = subprocess.run([python, "-m", "tutor.sessions.host", options.to_json()],
                              stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True,
                              env=_host_environment(), timeout=HOST_START_TIMEOUT)
    except subprocess.TimeoutExpired:
        return "error the host launcher did not answer"
    except OSError as err:
        return f"error {err.strerror or err}"
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
        return f"error {tail[:300]}"
    return lines[-1]


def _host_environment() -> dict[str, str]:
    """The host runs the tutor this process runs, whatever the current folder."""
    from tutor.sandbox.spawn import PACKAGE_ROOT

    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + path if path else "")
    return env


def connect(paths: places.SessionPaths) -> socket.socket | None:
    """A socket connected to a live host, or None when none listens (blocking)."""
    if not places.host_alive(paths):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(paths.socket))
    except (FileNotFoundError, ConnectionRefusedError):
        sock.close()
        return None
    except OSError as err:
        sock.close()
        raise SessionUnavailable(f"cannot connect to {paths.socket}: {err.strerror or err}") from None
    return sock


class SshTransport:
    """A host on another machine, through the system ssh."""

    remote = True

    def __init__(self, destination: str, options: HostOptions, *, ssh_command: str | None = None,
                 remote_python: str | None = None) -> None:
        if not destination or destination.startswith("-"):
            raise SessionUnavailable(f"not a host to connect to: {destination!r}")
        self.destination = destination
        self.options = options
        self.ssh_words = shlex.split(ssh_command or os.environ.get(ENV_SSH_COMMAND) or "ssh")
        self.remote_python = remote_python or os.environ.get(ENV_REMOTE_PYTHON) or DEFAULT_REMOTE_PYTHON
        self.where = _short_host(destination)
        self.peer = self.where

    def describe(self) -> str:
        return self.where

    def command(self) -> list[str]:
        return ssh_command_line(self.destination, ["tutor.sandbox.remote", "attach", self.options.to_json()],
                                ssh_words=self.ssh_words, remote_python=self.remote_python)

    async def open(self, *, start: bool = True) -> Opened:
        try:
            process = await asyncio.create_subprocess_exec(
                *self.command(), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, start_new_session=True, limit=1 << 20)
        except FileNotFoundError:
            raise SessionUnavailable(f"'{self.ssh_words[0]}' was not found: install OpenSSH's client "
                                     "(ssh) to use --remote") from None
        except OSError as err:
            raise SessionUnavailable(f"cannot run {self.ssh_words[0]}: {err.strerror or err}") from None
        opened = Opened(process.stdout, process.stdin, process)
        opened._stderr_task = asyncio.get_running_loop().create_task(_collect(process.stderr, opened.stderr))
        return opened

    async def explain_failure(self, opened: Opened, fallback: str) -> str:
        """Why the connection failed, from ssh's exit status and what it printed."""
        process = opened.process
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), 3.0)
            except asyncio.TimeoutError:
                pass
            if opened._stderr_task is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(opened._stderr_task), 1.0)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    pass
        code = process.returncode if process is not None else None
        return explain_ssh(self.where, self.destination, code, list(opened.stderr), fallback,
                           remote_python=self.remote_python)


def ssh_command_line(destination: str, module_args: list[str], *, ssh_words: list[str],
                     remote_python: str) -> list[str]:
    """``ssh -T -o BatchMode=yes DEST '<python> -m MODULE ARGS...'`` (quoted for the far
    shell; ``remote_python`` is the user's own words, so it is not quoted)."""
    remote = f"{remote_python} -m " + " ".join(shlex.quote(word) for word in module_args)
    return [*ssh_words, "-T", "-o", "BatchMode=yes", destination, remote]


def run_remote(destination: str, module_args: list[str], *, ssh_command: str | None = None,
               remote_python: str | None = None, timeout: float = 300.0) -> str:
    """Run ``<python> -m MODULE ARGS`` on ``destination`` through ssh; its stdout.
    Raises SessionUnavailable with one plain line when that fails."""
    if not destination or destination.startswith("-"):
        raise SessionUnavailable(f"not a host to connect to: {destination!r}")
    words = shlex.split(ssh_command or os.environ.get(ENV_SSH_COMMAND) or "ssh")
    python = remote_python or os.environ.get(ENV_REMOTE_PYTHON) or DEFAULT_REMOTE_PYTHON
    try:
        done = subprocess.run(ssh_command_line(destination, module_args, ssh_words=words, remote_python=python),
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise SessionUnavailable(f"'{words[0]}' was not found: install OpenSSH's client (ssh) to use --remote") from None
    except subprocess.TimeoutExpired:
        raise SessionUnavailable(f"{destination} did not answer within {timeout:g} s") from None
    out = done.stdout.decode("utf-8", "replace")
    if done.returncode != 0 and not out.strip():
        stderr = done.stderr.decode("utf-8", "replace").splitlines()[-STDERR_KEEP:]
        raise SessionUnavailable(explain_ssh(_short_host(destination), destination, done.returncode, stderr,
                                             f"ssh {destination} failed (exit {done.returncode})",
                                             remote_python=python))
    return out


async def _collect(stream: asyncio.StreamReader, keep: deque) -> None:
    while True:
        line = await stream.readline()
        if not line:
            return
        text = line.decode("utf-8", "replace").rstrip()
        if text:
            keep.append(text)


def install_command(destination: str, remote_python: str = DEFAULT_REMOTE_PYTHON) -> str:
    """How to put this very tutor on ``destination``: tutor is not published on PyPI,
    so it goes from this source folder when tutor runs from one."""
    from tutor.sandbox.spawn import PACKAGE_ROOT

    if not (Path(PACKAGE_ROOT) / "pyproject.toml").is_file():
        return f"install tutor {__version__} on {destination} from the same source as here"
    remote = shlex.quote(f"{remote_python} -m pip install ./tutor")
    return (f"rsync -a --exclude .venv {shlex.quote(PACKAGE_ROOT)}/ {destination}:tutor/ && "
            f"ssh {destination} {remote}")


def _short_host(destination: str) -> str:
    """``user@gpu-box.example.org`` -> ``gpu-box`` (what the status line shows)."""
    host = destination.rpartition("@")[2]
    if host.startswith("[") or host.replace(".", "").isdigit():
        return host
    return host.split(".")[0] or destination


AUTH_SIGNS = ("Permission denied", "Host key verification failed", "Too many authentication failures",
              "no matching host key", "REMOTE HOST IDENTIFICATION HAS CHANGED", "Authentication failed")
UNREACHABLE_SIGNS = ("Could not resolve hostname", "Connection refused", "Connection timed out",
                     "No route to host", "Network is unreachable", "Name or service not known",
                     "Connection closed by", "port 22: ", "Operation timed out", "Temporary failure in name")


def explain_ssh(where: str, destination: str, code: int | None, stderr: list[str], fallback: str, *,
                remote_python: str = DEFAULT_REMOTE_PYTHON) -> str:
    """One plain message for a failed ``ssh ... tutor.sandbox.remote`` (never a traceback)."""
    from tutor.sandbox.sanitize import sanitize

    text = "\n".join(stderr)
    said = sanitize(_last_meaningful(stderr))[:300]
    install = install_command(destination, remote_python)
    if "No module named tutor.sandbox.remote" in text or "No module named 'tutor.sandbox.remote'" in text:
        return (f"the tutor installed on {where} is too old for remote sessions. From here, run: {install}")
    if "No module named tutor" in text or "No module named 'tutor'" in text:
        return (f"tutor is not installed on {where} for {remote_python}. From here, run: {install} "
                f"(or point {ENV_REMOTE_PYTHON} / --remote-python at the Python that has it)")
    if code == 127 or "command not found" in text or "No such file or directory" in text and remote_python in text:
        return (f"{remote_python} was not found on {where}: install Python 3.10+ there, then tutor "
                f"(from here: {install}), or point {ENV_REMOTE_PYTHON} / --remote-python at the Python that has it")
    if any(sign in text for sign in AUTH_SIGNS):
        return (f"ssh could not log in to {destination} without asking ({said}). Run 'ssh {destination}' "
                "once by hand (accept the host key, set up a key or ssh-agent), then try again")
    if code == 255 or any(sign in text for sign in UNREACHABLE_SIGNS):
        return f"cannot reach {destination}" + (f" ({said})" if said else f" (ssh exit {code})")
    if said:
        return f"the tutor on {where} stopped: {said}"
    return fallback


def _last_meaningful(lines: list[str]) -> str:
    for line in reversed(lines):
        line = line.strip()
        if line and not line.startswith(("Warning: Permanently added", "debug", "Traceback")):
            return line
    return ""
