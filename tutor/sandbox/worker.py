"""The worker: runs learner code in one persistent namespace, like a notebook kernel.

Run as ``python -m tutor.sandbox.worker`` by the nanny, with the request and event
pipes named in ``TUTOR_SANDBOX_FDS`` and its settings in ``TUTOR_SANDBOX_CONFIG``.
Never imports textual or rich; imports torch only to prewarm (``prewarm`` true).

- fd 1/2 are captured and streamed in batches (tutor.sandbox.capture); stdin is /dev/null
  and ``input()`` raises a clear error; a cell that closes fd 1 or 2 gets them back.
- errors are reported with learner frames only, in the cell's own lines.
- ``sys.exit`` stops the cell, not the worker; a SIGINT outside a cell is ignored.
- if Python itself dies (segfault), faulthandler writes the learner's frames to the
  nanny's log pipe, where the client reads them.
"""

from __future__ import annotations

import ast
import builtins
import faulthandler
import json
import os
import signal
import sys
import threading
import time
import types

from tutor.sandbox import advice, tracebacks
from tutor.sandbox.capture import OutputCapture
from tutor.sandbox.limits import apply_worker_limits, cuda_device_present, format_size
from tutor.sandbox.livesink import LiveSink
from tutor.sandbox.outputcap import CapLimits
from tutor.sandbox.protocol import (ENV_WORKER_FDS, PROTOCOL_VERSION, FrameReader, FrameWriter,
                                    ProtocolError, enlarge_pipe, read_frames)

ENV_CONFIG = "TUTOR_SANDBOX_CONFIG"


class NoInputError(EOFError):
    tutor_no_input = True


def no_input(prompt: object = "") -> str:
    raise NoInputError("input() has no keyboard to read from in the tutor")


class Worker:
    def __init__(self, requests_fd: int, events_fd: int, config: dict) -> None:
        self.requests_fd = requests_fd
        self.channel = FrameWriter(events_fd)
        self.config = config
        self.memory_limit = config.get("memory_limit")
        self.data_limited = bool(config.get("limit_data") and self.memory_limit)
        self.labels: set[str] = set()
        self.executing = False  # learner code is running: SIGINT raises KeyboardInterrupt
        self.in_request = False  # between "started" and "finished"
        self.interrupt_pending = False  # a SIGINT came in a request before its code ran
        self.main_module = types.ModuleType("__main__")
        self.main_module.__dict__["__builtins__"] = builtins
        self.namespace = self.main_module.__dict__
        self.capture: OutputCapture | None = None
        self.live: LiveSink | None = None

    # -- start ---------------------------------------------------------------------

    def start(self) -> None:
        self.channel.send({"t": "hello", "protocol": PROTOCOL_VERSION, "pid": os.getpid()})
        cap = self.config.get("cap")
        self.capture = OutputCapture(self.channel, CapLimits(**cap) if cap else None)
        self.live = LiveSink(self.channel)
        from tutor import live

        live._sink = self.live
        self.capture.extra_tick = self.live.tick
        self.capture.idle_tick = self.report_gpu
        builtins.input = no_input
        self.flush_before_children()
        sys.modules["__main__"] = self.main_module
        sys.argv = [""]
        signal.signal(signal.SIGINT, self.on_sigint)
        self.channel.send({"t": "ready", "info": self.prepare()})

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

    def prepare(self) -> dict:
        """Import and warm torch (unless prewarm is off); the info for the UI."""
        setting = self.config.get("device", "auto")
        info = {"pid": os.getpid(), "torch_version": None, "device": "cpu",
                "device_name": "CPU (PyTorch not loaded yet)", "gpu_total": None, "note": None}
        perturb = int(self.config.get("perturb") or 0)
        prewarm = self.config.get("prewarm", True)
        if not prewarm and not perturb:
            return info
        from tutor.sandbox import device

        try:
            import torch

            perturbed = None
            if perturb:
                from tutor.sandbox import perturb as perturbation

                perturbed = perturbation.apply(perturb)
            choice = device.choose_device(setting)
            device.set_chosen(choice)
            if prewarm:
                device.warm_up(choice.device)
        except BaseException as err:  # a broken install must not stop the worker
            info["note"] = f"PyTorch could not be loaded: {type(err).__name__}: {err}"
            if self.data_limited:
                info["note"] += (f" (the memory limit of {format_size(self.memory_limit)} may be too small "
                                 "for PyTorch: try --memory-limit 2G or more)")
            return info
        note = " ".join(n for n in (choice.note, perturbed) if n) or None
        info.update(torch_version=torch.__version__, device=choice.device, device_name=choice.name,
                    gpu_total=choice.gpu_total, note=note)
        return info

    def report_gpu(self) -> None:
        if "torch" not in sys.modules:
            return
        from tutor.sandbox.device import gpu_memory

        allocated, reserved = gpu_memory()
        if allocated is not None:
            self.channel.send({"t": "gpu", "allocated": allocated, "reserved": reserved})

    def on_sigint(self, signum, frame) -> None:
        if self.executing:
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
                    self.execute(int(message["id"]), message["code"], message.get("label") or "<cell>")
                elif kind == "shutdown":
                    return

    def execute(self, request_id: int, code: str, label: str) -> None:
        assert self.capture is not None and self.live is not None
        self.in_request, self.interrupt_pending = True, False
        self.channel.send({"t": "started", "id": request_id})
        self.capture.begin(request_id)
        self.live.begin(request_id)
        started = time.perf_counter()
        status = self.run_code(request_id, code, label)
        duration = time.perf_counter() - started
        for step in (self.live.end, self.capture.end, self.capture.repair):
            try:
                step()
            except Exception:  # e.g. MemoryError right at the limit: the cell's result matters more
                pass
        self.in_request = False
        self.channel.send({"t": "finished", "id": request_id, "status": status,
                           "duration": duration, "threads": self.background_threads()})

    def run_code(self, request_id: int, code: str, label: str) -> str:
        self.labels.add(label)
        tracebacks.remember_source(label, code)
        try:
            body, last = self.compile_cell(code, label)
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
            if err.code in (None, 0):
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
    def compile_cell(code: str, label: str):
        """The cell, and its last expression apart when it has one (shown like a notebook)."""
        tree = ast.parse(code, label, "exec")
        if tree.body and isinstance(tree.body[-1], ast.Expr) and not code.rstrip().endswith(";"):
            last = ast.Expression(tree.body.pop().value)
            return compile(tree, label, "exec"), compile(last, label, "eval")
        return compile(tree, label, "exec"), None

    def report_failure(self, request_id: int, err: BaseException, label: str, with_stack: bool = True) -> None:
        if isinstance(err, SyntaxError) and not with_stack:
            frames = tracebacks.syntax_error_frames(err, label)
        else:
            frames = tracebacks.learner_frames(err.__traceback__, self.labels)
            if isinstance(err, SyntaxError):
                frames += tracebacks.syntax_error_frames(err, label)
        try:
            tip = advice.advice_for(err, memory_limit=self.memory_limit)
        except Exception:
            tip = None
        self.channel.send({
            "t": "failed", "id": request_id, "ename": type(err).__name__,
            "message": tracebacks.exception_message(err), "frames": frames, "advice": tip,
            "line": tracebacks.failing_line(frames, label),
        })
        err.__traceback__ = None  # do not keep the cell's frames (and tensors) alive

    def background_threads(self) -> list[str]:
        own = set(self.capture.own_threads) if self.capture else set()
        main = threading.main_thread()
        return [t.name for t in threading.enumerate() if t is not main and t not in own and t.is_alive()]


def main() -> int:
    requests_fd, events_fd = (int(fd) for fd in os.environ[ENV_WORKER_FDS].split(","))
    config = json.loads(os.environ.get(ENV_CONFIG) or "{}")
    config["limit_data"] = config.get("device", "auto") == "cpu" or not cuda_device_present()
    apply_worker_limits(memory_limit=config.get("memory_limit"), limit_data=config["limit_data"],
                        nproc=config.get("nproc"))
    for name in (ENV_WORKER_FDS, ENV_CONFIG):
        os.environ.pop(name, None)
    crash_fd = os.dup(2)  # the nanny's log pipe, kept after fd 2 is captured
    faulthandler.enable(file=crash_fd, all_threads=False)
    enlarge_pipe(events_fd)
    worker = Worker(requests_fd, events_fd, config)
    try:
        worker.start()
        worker.serve()
    except (BrokenPipeError, ProtocolError):
        pass  # the client is gone or broken: the nanny cleans up
    os._exit(0)  # a normal exit with torch loaded costs about 0.5 s


if __name__ == "__main__":
    raise SystemExit(main())
