"""The nanny: a small supervisor between the client and the worker. Stdlib only.

Run as ``python -m tutor.sandbox.nanny CONFIG_JSON`` (by the client, in a new session,
inside a user+PID namespace when the system allows). It

- becomes a child subreaper, so descendants that call setsid() still come back to it;
- ignores SIGINT, SIGTERM and SIGHUP (learner code doing ``os.kill(os.getppid(), ...)``
  cannot kill it; in a PID namespace it is init, which SIGKILL from inside cannot hit);
- starts the worker in its own session, interrupts it (SIGINT to its group), stops it
  (SIGTERM to its group) and kills it on request;
- watches the memory of the worker's whole tree (anonymous and shared-memory RSS every
  250 ms, plus the RAM in tmpfs files it made or holds, see tutor.sandbox.tmpfs;
  confirmed with PSS) and kills it above the limit; and counts its processes, killing
  a tree that grows past ``max_processes`` (a fork bomb, even as root);
- makes the pipes of the worker's stdout and stderr and keeps their read ends, so that
  what the worker printed just before it died still reaches the client (``out``);
- kills every descendant when the worker exits, when asked, or when the client dies
  (end of file on the control pipe), then reports how the worker ended and exits.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time

from tutor.sandbox import proctree
from tutor.sandbox.protocol import ENV_CAPTURE_FDS, PROTOCOL_VERSION, FrameReader, FrameWriter, ProtocolError, enlarge_pipe
from tutor.sandbox.tmpfs import TmpfsWatch

POLL = 0.25  # seconds between memory samples
REPORT_EVERY = 4  # samples between reports to the client (about once a second)
PR_SET_CHILD_SUBREAPER = 36
IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
MAX_PROCESSES = 1024  # a bigger tree is a fork bomb (RLIMIT_NPROC does not hold root back)
LEFTOVER_OUTPUT = 1 << 20  # at most this much of each stream is passed on after the exit


def become_subreaper() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


class Nanny:
    def __init__(self, config: dict) -> None:
        self.control = config["control"]
        self.status = FrameWriter(config["status"])
        self.worker_command: list[str] = config["worker"]
        self.worker_fds: list[int] = config["worker_fds"]
        self.memory_limit: int | None = config.get("memory_limit")
        self.max_processes: int = config.get("max_processes") or MAX_PROCESSES
        self.in_namespace = os.getpid() == 1
        self.capture: dict[str, int] = {}  # stream name -> our copy of its read end
        self.worker_pid = 0
        self.worker_status: int | None = None
        self.cause: str | None = None  # why we killed it: "request", "memory", "parent"
        self.figure: int | None = None  # memory reached, for "memory"
        self.files: dict | None = None  # RAM in tmpfs files, for "memory"
        self.tree: list[int] = []
        self.tmpfs = TmpfsWatch() if self.memory_limit else None
        self.in_files = 0  # bytes in tmpfs files at the last refresh

    # -- the process tree ------------------------------------------------------------

    def family(self) -> list[int]:
        """Every live descendant of the nanny."""
        me = os.getpid()
        if self.in_namespace:
            return [pid for pid in proctree.all_pids() if pid != me and proctree.alive(pid)]
        return proctree.descendants(me)

    def kill_everything(self) -> None:
        if self.worker_pid and self.worker_status is None:
            try:
                os.killpg(self.worker_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proctree.kill_all(self.family, on_reaped=self.note_reaped)

    def note_reaped(self, pid: int, status: int) -> None:
        if pid == self.worker_pid and self.worker_status is None:
            self.worker_status = status

    def reap(self) -> None:
        for pid, status in proctree.reap_children():
            self.note_reaped(pid, status)

    # -- memory ----------------------------------------------------------------------

    def measure(self, refresh: bool) -> int:
        if refresh or not self.tree:
            self.tree = self.family()
            if self.tmpfs is not None:
                self.in_files = self.tmpfs.measure(self.tree)[0]
        return sum(proctree.counted_rss(pid) for pid in self.tree) + self.in_files

    def check_memory(self, tick: int) -> None:
        refresh = tick % REPORT_EVERY == 0
        rss = self.measure(refresh)
        if refresh and len(self.tree) > self.max_processes:
            self.cause, self.figure = "processes", len(self.tree)
            self.kill_everything()
            return
        limit = self.memory_limit
        if limit and rss > limit:
            self.tree = self.family()
            in_files, paths = self.tmpfs.measure(self.tree, exclude_mapped=True) if self.tmpfs else (0, [])
            confirmed = sum(proctree.counted_pss(pid) for pid in self.tree) + in_files
            if confirmed > limit:
                self.cause, self.figure = "memory", confirmed
                if in_files:
                    self.files = {"bytes": in_files, "paths": paths[:10]}
                self.kill_everything()
                return
        if refresh:
            self.send({"t": "rss", "rss": rss, "limit": limit})

    # -- talking to the client -------------------------------------------------------

    def send(self, message: dict, blob: bytes = b"") -> None:
        try:
            self.status.send(message, blob)
        except OSError:  # the client is gone
            if self.cause is None:
                self.cause = "parent"
            self.kill_everything()

    def handle(self, message: dict) -> None:
        kind = message.get("t")
        if kind == "interrupt":
            if self.worker_status is None:
                try:
                    os.killpg(self.worker_pid, signal.SIGINT)
                except (ProcessLookupError, PermissionError):
                    pass
            self.send({"t": "interrupt-sent"})  # the client waits for this before the next cell
        elif kind == "terminate" and self.worker_status is None:
            self.cause = self.cause or "request"
            try:
                os.killpg(self.worker_pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        elif kind == "kill":
            self.cause = self.cause or "request"
            self.kill_everything()

    # -- the main loop ---------------------------------------------------------------

    def spawn_worker(self) -> None:
        pipes = {}
        for name in ("stdout", "stderr"):
            pipes[name] = os.pipe()
            enlarge_pipe(pipes[name][1])
        passed = [*self.worker_fds, *(fd for pair in pipes.values() for fd in pair)]
        for fd in passed:
            os.set_inheritable(fd, True)
        env = dict(os.environ)
        env[ENV_CAPTURE_FDS] = ",".join(str(fd) for pair in pipes.values() for fd in pair)
        try:
            self.worker_pid = os.posix_spawnp(
                self.worker_command[0], self.worker_command, env,
                setsid=True,
                setsigdef=IGNORED,  # what the nanny ignores, the worker must not inherit
                file_actions=[(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)],
            )
        finally:
            for fd in self.worker_fds:
                os.close(fd)
            for name, (read_end, write_end) in pipes.items():
                os.close(write_end)
                os.set_inheritable(read_end, False)
                os.set_blocking(read_end, False)
                self.capture[name] = read_end
        self.send({"t": "spawned", "pid": self.worker_pid})

    def pass_on_leftover_output(self) -> None:
        """What the worker printed but did not send before it ended (``os._exit`` right
        after a print, a crash): everything that could write is dead by now."""
        for name, fd in self.capture.items():
            left = LEFTOVER_OUTPUT
            while left > 0:
                try:
                    data = os.read(fd, min(left, 1 << 16))
                except OSError:  # nothing more now (a writer escaped), or closed
                    break
                if not data:
                    break
                left -= len(data)
                self.send({"t": "out", "name": name}, data)
            os.close(fd)
        self.capture.clear()

    def run(self) -> int:
        for sig in IGNORED:
            signal.signal(sig, signal.SIG_IGN)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        become_subreaper()
        self.send({"t": "nanny", "protocol": PROTOCOL_VERSION, "pid": os.getpid(),
                   "namespace": self.in_namespace})
        try:
            self.spawn_worker()
        except OSError as err:
            self.send({"t": "exited", "code": None, "signal": None, "cause": "spawn",
                       "error": f"{type(err).__name__}: {err}"})
            return 1
        reader = FrameReader()
        tick = 0
        next_sample = time.monotonic() + POLL
        while self.worker_status is None:
            timeout = max(next_sample - time.monotonic(), 0)
            try:
                readable, _, _ = select.select([self.control, wake_r], [], [], timeout)
            except InterruptedError:
                continue
            if wake_r in readable:
                os.read(wake_r, 4096)
            if self.control in readable:
                data = os.read(self.control, 65536)
                if not data:
                    self.cause = self.cause or "parent"
                    self.kill_everything()
                    break
                try:
                    for message, _ in reader.feed(data):
                        self.handle(message)
                except ProtocolError:
                    self.cause = self.cause or "parent"
                    self.kill_everything()
                    break
            self.reap()
            if self.worker_status is None and time.monotonic() >= next_sample:
                tick += 1
                next_sample = time.monotonic() + POLL
                self.check_memory(tick)
        # The worker is gone: nothing it started may outlive it.
        self.kill_everything()
        self.reap()
        if self.cause != "parent":
            self.pass_on_leftover_output()
        self.report_exit()
        return 0

    def report_exit(self) -> None:
        status = self.worker_status
        code = sig = None
        if status is not None:
            if os.WIFSIGNALED(status):
                sig = os.WTERMSIG(status)
            elif os.WIFEXITED(status):
                code = os.WEXITSTATUS(status)
        message = {"t": "exited", "code": code, "signal": sig, "cause": self.cause}
        if self.figure is not None:
            message["figure"] = self.figure
        if self.files is not None:
            message["files"] = self.files
        if self.cause != "parent":
            self.send(message)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    config = json.loads(argv[0])
    for fd in (config["control"], config["status"]):
        os.set_inheritable(fd, False)
    return Nanny(config).run()


if __name__ == "__main__":
    raise SystemExit(main())
