"""The worker: runs learner code in one persistent namespace, like a notebook kernel.

Run as ``python -m tutor.sandbox.worker`` by the nanny, with the request and event
pipes named in ``TUTOR_SANDBOX_FDS`` and its settings in ``TUTOR_SANDBOX_CONFIG``.
Never imports textual or rich; imports torch only to prewarm (``prewarm`` true). It
says ready once torch is imported and the device chosen, then warms up in a background
thread (tutor.sandbox.warmup). A standby worker (``standby`` true) imports torch and
waits for ``activate`` before it chooses the device: CUDA stays untouched until then.

- fd 1/2 are captured and streamed in batches (tutor.sandbox.capture); stdin is /dev/null
  and ``input()`` raises a clear error; a cell that closes fd 1 or 2 gets them back.
- errors are reported with learner frames only, in the cell's own lines, the way the
  traceback module does (``<exception str() failed>``, odd ``__notes__``), long
  messages cut; nothing a learner exception does can stop the worker.
- ``sys.exit`` stops the cell, not the worker; a SIGINT outside a cell is ignored. A
  SIGINT that lands inside ``os.fork`` (its at-fork hooks cannot raise) is raised when
  the fork returns; one swallowed anyway (a finalizer) is delivered again.
- a forked child cannot use the protocol: its copies of the channel are closed, and
  if it gets back to the worker's code (the cell ends in the child too) it exits.
- ``os._exit`` sends what the cell printed before the process goes.
- if Python itself dies (segfault), faulthandler writes the learner's frames to the
  nanny's log pipe, where the client reads them.
"""

from __future__ import annotations

import ast
import builtins
import faulthandler
import functools
import json
import os
import signal
import sys
import threading
import time
import types

from tutor.sandbox import advice, device, protocol, tracebacks
from tutor.sandbox.capture import OutputCapture, pipes_from_environment
from tutor.sandbox.limits import apply_worker_limits, cuda_device_present, format_size
from tutor.sandbox.livesink import LiveSink
from tutor.sandbox.outputcap import CapLimits
from tutor.sandbox.protocol import (ENV_WORKER_FDS, PROTOCOL_VERSION, FrameReader, FrameWriter,
                                    ProtocolError, enlarge_pipe, read_frames, read_key)
from tutor.sandbox.warmup import WarmUp

ENV_CONFIG = "TUTOR_SANDBOX_CONFIG"
UNSAFE_FRAMES = frozenset({"__del__"})  # where a raised interrupt is swallowed by Python


class NoInputError(EOFError):
    tutor_no_input = True


def no_input(prompt: object = "") -> str:
    raise NoInputError("input() has no keyboard to read from in the tutor")


class Worker:
    def __init__(self, requests_fd: int, events_fd: int, config: dict, *, key: str | None = None,
                 capture_pipes: list[tuple[int, int]] | None = None) -> None:
        self.pid = os.getpid()
        self.requests_fd = requests_fd
        self.channel = FrameWriter(events_fd, key=key)
        self.capture_pipes = capture_pipes
        self.config = config
        self.memory_limit = config.get("memory_limit")
        self.data_limited = bool(config.get("limit_data") and self.memory_limit)
        self.labels: set[str] = set()
        self.executing = False  # learner code is running: SIGINT raises KeyboardInterrupt
        self.in_request = False  # between "started" and "finished"
        self.interrupt_pending = False  # a SIGINT came in a request before its code ran
        self.forking = 0  # inside os.fork (its at-fork hooks): a SIGINT waits until it returns
        self.interrupt_deferred = False
        self.main_module = types.ModuleType("__main__")
        self.main_module.__dict__["__builtins__"] = builtins
        self.namespace = self.main_module.__dict__
        self.capture: OutputCapture | None = None
        self.live: LiveSink | None = None
        self.watcher = None  # tutor.diagnose.runtime.Watcher, made for the first diagnosed cell
        self.gpu_lost = False  # a sticky CUDA error: every later GPU call here would fail
        self.request_id: int | None = None
        self.torch = None
        self.torch_problem: str | None = None  # why torch could not be imported
        self.active = False
        self.warmup: WarmUp | None = None

    # -- start ---------------------------------------------------------------------

    def start(self) -> None:
        self.channel.send({"t": "hello", "protocol": PROTOCOL_VERSION, "pid": os.getpid()})
        cap = self.config.get("cap")
        self.capture = OutputCapture(self.channel, CapLimits(**cap) if cap else None, self.capture_pipes)
        self.live = LiveSink(self.channel)
        from tutor import live

        live._sink = self.live
        self.capture.extra_tick = self.live.tick
        self.capture.idle_tick = self.report_gpu
        builtins.input = no_input
        self.flush_before_children()
        sys.modules["__main__"] = self.main_module
        sys.argv = [""]
        self.guard_forks()
        self.guard_exit()
        signal.signal(signal.SIGINT, self.on_sigint)
        self._default_unraisablehook = sys.unraisablehook
        sys.unraisablehook = self.on_unraisable
        self.torch_problem = self.import_torch()
        if self.config.get("standby"):
            self.channel.send({"t": "standby"})  # the client sends "activate" when it needs us
        else:
            self.activate()

    def guard_forks(self) -> None:
        """A forked child never reads requests nor writes frames: its copies of the
        channel are closed, and FrameWriter makes it exit if it tries. ``os.fork``
        also defers a SIGINT that arrives while it runs its at-fork hooks."""
        for fd in (self.requests_fd, self.channel.fd):
            os.set_inheritable(fd, False)
        os.register_at_fork(after_in_child=self.in_forked_child)
        real_fork = os.fork

        @functools.wraps(real_fork)
        def fork() -> int:
            if self.warmup is not None:
                self.warmup.wait(30.0)  # no child may inherit torch in the middle of an operation
            self.forking += 1
            try:
                pid = real_fork()
            finally:
                self.forking -= 1
            if self.interrupt_deferred and not self.forking:
                self.interrupt_deferred = False
                if self.executing:  # in the parent and in the child: both stop
                    raise KeyboardInterrupt
            return pid

        os.fork = fork

    def in_forked_child(self) -> None:
        for fd in (self.requests_fd, self.channel.fd):
            try:
                os.close(fd)
            except OSError:
                pass

    def guard_exit(self) -> None:
        """``print(..., flush=True); os._exit(0)``: what the cell printed still reaches
        the client (the pump sends it before the process goes)."""
        real_exit = protocol._exit

        @functools.wraps(real_exit)
        def _exit(code) -> None:
            try:
                if os.getpid() == self.pid and self.in_request and self.capture is not None:
                    self.capture.end(timeout=2.0)
                elif self.capture is not None:
                    self.capture.flush_python()
            except BaseException:  # noqa: BLE001 - exiting matters more
                pass
            real_exit(code)

        os._exit = _exit

    def on_unraisable(self, unraisable) -> None:
        """An interrupt raised where Python cannot raise (a finalizer, a weakref
        callback) is swallowed there: raise it again on the next line of the code that
        was running, rather than print "Exception ignored" and lose it."""
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt) \
                and self.executing and os.getpid() == self.pid:
            try:
                frame = sys._getframe(1)  # the code the finalizer interrupted
            except ValueError:
                frame = None
            self.interrupt_on_next_line(frame)
            return
        self._default_unraisablehook(unraisable)

    def interrupt_on_next_line(self, frame) -> None:
        def trace(frame, event, arg):
            if frame.f_code.co_name in UNSAFE_FRAMES:
                return trace  # not inside another finalizer: its interrupt would be lost too
            sys.settrace(None)
            frame.f_trace = None  # (on a call, the new frame: harmless)
            if self.executing:
                raise KeyboardInterrupt
            return None

        if frame is not None:
            frame.f_trace = trace
            frame.f_trace_lines = True
        sys.settrace(trace)  # and the next call, wherever it is

    def flush_before_children(self) -> None:
        """``print("a"); os.system("echo b")`` shows a before b: buffered output is
        flushed before a child process writes to the same pipe (forks are covered by
        the capture's at-fork hook)."""
        import functools
        import subprocess

        flush = self.capture.flush_python

        def flushing(function):
            @functools.wraps(function)
            def wrapper(*args, **kwargs):
                flush()
                return function(*args, **kwargs)
            return wrapper

        os.system = flushing(os.system)
        subprocess.Popen.__init__ = flushing(subprocess.Popen.__init__)

    def import_torch(self) -> str | None:
        """Import torch (unless prewarm and perturb are both off); None, or why it failed.
        CUDA is not touched here: a standby worker waits like this, its GPU untouched."""
        if not (self.config.get("prewarm", True) or self.config.get("perturb")):
            return None
        try:
            import torch
        except BaseException as err:  # noqa: BLE001 - a broken install must not stop the worker
            return self.torch_note(err, "loaded")
        self.torch = torch
        return None

    def torch_note(self, err: BaseException, what: str) -> str:
        note = f"PyTorch could not be {what}: {type(err).__name__}: {err}"
        if self.data_limited:
            note += (f" (the memory limit of {format_size(self.memory_limit)} may be too small "
                     "for PyTorch: try --memory-limit 2G or more)")
        return note

    def activate(self) -> None:
        """Choose the device (the first CUDA call), perturb if asked, say ready, then
        warm up in the background (tutor.sandbox.warmup): cells run meanwhile."""
        if self.active:
            return
        self.active = True
        info = {"pid": os.getpid(), "torch_version": None, "device": "cpu",
                "device_name": "CPU (PyTorch not loaded yet)", "gpu_total": None, "note": self.torch_problem}
        torch = self.torch
        if torch is not None:
            try:
                perturb = int(self.config.get("perturb") or 0)
                perturbed = None
                if perturb:
                    from tutor.sandbox import perturb as perturbation

                    perturbed = perturbation.apply(perturb)
                choice = device.choose_device(self.config.get("device", "auto"))
                device.set_chosen(choice)
            except BaseException as err:  # noqa: BLE001
                info["note"] = self.torch_note(err, "set up")
            else:
                info.update(torch_version=torch.__version__, device=choice.device, device_name=choice.name,
                            gpu_total=choice.gpu_total,
                            note=" ".join(n for n in (choice.note, perturbed) if n) or None)
                if self.config.get("prewarm", True):
                    self.warmup = WarmUp(torch, choice.device, self.report_warmup)
                    self.warmup.start()
        self.channel.send({"t": "ready", "info": info})

    def report_warmup(self, state: str, detail: str | None) -> None:
        self.channel.send({"t": "warmup", "state": state, "detail": detail})

    def report_gpu(self) -> None:
        if "torch" not in sys.modules:
            return
        allocated, reserved = device.gpu_memory()
        if allocated is not None:
            self.channel.send({"t": "gpu", "allocated": allocated, "reserved": reserved})

    def on_sigint(self, signum, frame) -> None:
        if self.executing:
            if self.forking:
                self.interrupt_deferred = True  # raised when os.fork returns
                return
            raise KeyboardInterrupt
        if self.in_request:
            self.interrupt_pending = True
        # between cells: nothing to interrupt

    # -- the request loop --------------------------------------------------------------

    def serve(self) -> None:
        reader = FrameReader()
        while True:
            frames = read_frames(self.requests_fd, reader)
            if frames is None:
                return  # the client closed the pipe
            for message, _ in frames:
                kind = message["t"]
                if kind == "execute":
                    self.execute(int(message["id"]), message["code"], message.get("label") or "<cell>",
                                 bool(message.get("diagnose")))
                elif kind == "activate":
                    self.activate()
                elif kind == "shutdown":
                    return

    def execute(self, request_id: int, code: str, label: str, diagnose: bool = False) -> None:
        assert self.capture is not None and self.live is not None
        self.in_request, self.interrupt_pending, self.request_id = True, False, request_id
        self.channel.send({"t": "started", "id": request_id})
        self.capture.begin(request_id)
        self.live.begin(request_id)
        started = time.perf_counter()
        try:
            status = self.run_code(request_id, code, label, diagnose)
        except BaseException:  # noqa: BLE001 - e.g. an interrupt between two steps of ours
            status = "interrupted" if self.interrupt_pending else "error"
        duration = time.perf_counter() - started
        if os.getpid() != self.pid:
            self.leave_forked_child()
        for step in (self.stop_watching, self.live.end, self.capture.end, self.capture.repair):
            try:
                step()
            except Exception:  # e.g. MemoryError right at the limit: the cell's result matters more
                pass
        self.in_request = False
        finished = {"t": "finished", "id": request_id, "status": status,
                    "duration": duration, "threads": self.background_threads()}
        if self.gpu_lost:
            finished["gpu_lost"] = True  # the client replaces this worker
        self.channel.send(finished)

    def run_code(self, request_id: int, code: str, label: str, diagnose: bool = False) -> str:
        self.labels.add(label)
        tracebacks.remember_source(label, code)
        try:
            body, last = self.compile_cell(code, label, self.watch if diagnose else None)
        except (SyntaxError, ValueError, OverflowError) as err:
            self.report_failure(request_id, err, label, with_stack=False)
            return "error"
        try:
            self.executing = True
            try:
                if self.interrupt_pending:
                    raise KeyboardInterrupt
                exec(body, self.namespace)
                if last is not None:
                    value = eval(last, self.namespace)
                    self.executing = False
                    if value is not None:
                        sys.displayhook(value)
            finally:
                self.executing = False
        except KeyboardInterrupt as err:
            self.report_failure(request_id, err, label)
            return "interrupted"
        except SystemExit as err:
            if self.plain_exit(err):
                self.capture.flush_python()
                sys.stderr.write("note: sys.exit() was ignored (it would stop the tutor's worker); "
                                 "the rest of the cell was skipped.\n")
                return "ok"
            self.report_failure(request_id, err, label)
            return "error"
        except BaseException as err:
            self.report_failure(request_id, err, label)
            return "error"
        return "ok"

    @staticmethod
    def plain_exit(err: SystemExit) -> bool:
        """``sys.exit()`` or ``sys.exit(0)`` (a code whose ``==`` raises is not)."""
        try:
            code = err.code
            return code is None or (type(code) is int and code == 0)
        except BaseException:  # noqa: BLE001
            return False

    def leave_forked_child(self) -> None:
        """A child forked by the cell got back here: it must not act as the worker."""
        if self.capture is not None:
            self.capture.flush_python()
        protocol._exit(0)

    @staticmethod
    def compile_cell(code: str, label: str, parsed=None):
        """The cell, and its last expression apart when it has one (shown like a notebook).
        ``parsed(label, tree)`` sees the whole tree first (the diagnosis reads it)."""
        tree = ast.parse(code, label, "exec")
        if parsed is not None:
            parsed(label, tree)
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not code.rstrip().endswith(";"):
            last = ast.Expression(tree.body.pop().value)
            return compile(tree, label, "exec"), compile(last, label, "eval")
        return compile(tree, label, "exec"), None

    def report_failure(self, request_id: int, err: BaseException, label: str, with_stack: bool = True) -> None:
        """Send the failure the way the traceback module would show it. Nothing the
        exception does (a raising ``__str__``, odd ``__notes__``, a metaclass) may stop
        the worker: each part falls back on its own."""
        if self.in_request and self.capture is not None and os.getpid() == self.pid:
            # what the cell printed goes first (a forked child has no pump thread to wait for)
            _attempt(self.capture.send_written, None)
        ename = tracebacks.type_name(err)
        message = _attempt(lambda: tracebacks.exception_message(err), "<exception str() failed>")
        frames = _attempt(lambda: self.failure_frames(err, label, with_stack), [])
        tip = _attempt(lambda: advice.advice_for(err, memory_limit=self.memory_limit, frames=frames), None)
        line = _attempt(lambda: tracebacks.failing_line(frames, label), None)
        self.gpu_lost = self.gpu_lost or _attempt(lambda: device.cuda_lost(err), False)
        if self.watcher is not None and self.watcher.active:  # a training mistake behind the error
            _attempt(lambda: self.watcher.explain(err, line), None)
        report = {"t": "failed", "id": request_id, "ename": ename, "message": message, "frames": frames,
                  "advice": tip, "line": line}
        try:
            self.channel.send(report)
        except protocol.FrameTooLarge:
            self.channel.send({**report, "message": tracebacks.cut(message, 2000), "frames": frames[:2],
                               "advice": None})
        try:
            err.__traceback__ = None  # do not keep the cell's frames (and tensors) alive
        except BaseException:  # noqa: BLE001
            pass

    def watch(self, label: str, tree: ast.AST) -> None:
        """Watch this cell for training-loop mistakes (tutor.diagnose): advice frames."""
        try:
            if self.watcher is None:
                from tutor.diagnose.runtime import Watcher

                self.watcher = Watcher(lambda tip: self.channel.send({"t": "advice", "id": self.request_id,
                                                                      **tip.to_wire()}), self.namespace)
            self.watcher.begin(label, tree)
        except Exception:  # noqa: BLE001 - the diagnosis must never stop a cell
            pass

    def stop_watching(self) -> None:
        if self.watcher is not None:
            self.watcher.end()

    def failure_frames(self, err: BaseException, label: str, with_stack: bool) -> list[dict]:
        chosen = getattr(err, "tutor_frames", None)
        if isinstance(chosen, list):  # the error names its frames (a shell cell's: none)
            return [frame for frame in chosen if isinstance(frame, dict)]
        if isinstance(err, SyntaxError) and not with_stack:
            return tracebacks.syntax_error_frames(err, label)
        frames = tracebacks.learner_frames(err.__traceback__, self.labels)
        if isinstance(err, SyntaxError):
            frames += tracebacks.syntax_error_frames(err, label)
        return frames

    def background_threads(self) -> list[str]:
        own = set(self.capture.own_threads) if self.capture else set()
        if self.warmup is not None:
            own.add(self.warmup.thread)
        main = threading.main_thread()
        return [t.name for t in threading.enumerate() if t is not main and t not in own and t.is_alive()]


def _attempt(compute, fallback):
    try:
        return compute()
    except BaseException:  # noqa: BLE001 - learner objects may raise anything
        return fallback


def main() -> int:
    requests_fd, events_fd = (int(fd) for fd in os.environ[ENV_WORKER_FDS].split(","))
    key = read_key(requests_fd)
    if key is None:
        sys.stderr.write("tutor worker: no key from the tutor on the request pipe\n")
        return 2
    config = json.loads(os.environ.get(ENV_CONFIG) or "{}")
    config["limit_data"] = config.get("device", "auto") == "cpu" or not cuda_device_present()
    apply_worker_limits(memory_limit=config.get("memory_limit"), limit_data=config["limit_data"],
                        nproc=config.get("nproc"))
    for name in (ENV_WORKER_FDS, ENV_CONFIG):
        os.environ.pop(name, None)
    crash_fd = os.dup(2)  # the nanny's log pipe, kept after fd 2 is captured
    faulthandler.enable(file=crash_fd, all_threads=False)
    enlarge_pipe(events_fd)
    worker = Worker(requests_fd, events_fd, config, key=key, capture_pipes=pipes_from_environment())
    try:
        worker.start()
        worker.serve()
    except (OSError, ProtocolError):
        pass  # the client is gone or broken (or a cell closed our pipes): the nanny cleans up
    protocol._exit(0)  # a normal exit with torch loaded costs about 0.5 s


if __name__ == "__main__":
    raise SystemExit(main())
