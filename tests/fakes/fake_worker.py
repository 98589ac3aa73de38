"""A misbehaving worker for client tests, in the spirit of jupyter_client's
problemkernel: it speaks the real protocol (tutor.sandbox.protocol) and misbehaves as
``FAKE_WORKER_MODE`` says. Never imports torch.

Modes:
  ok              answers every request: echoes the code to stdout, finishes ok (the
                  code "exit" makes any mode exit with code 3, as a crashing cell)
  slow_start      sleeps FAKE_WORKER_DELAY seconds (default 1) before hello/ready
  crash_at_start  writes a line to stderr and exits with code 3 at once
  never_ready     says hello, never ready
  bad_protocol    says hello with protocol 999
  hang            on execute: started, then ignores SIGINT and sleeps forever
  garbage         on execute: writes bytes that are not a frame to the event pipe
  die_idle        ready, then exits with code 7 after FAKE_WORKER_DELAY seconds
  late_output     finishes each request, then sends output for it after 50 ms
  ignore_shutdown ignores the shutdown request; on SIGTERM writes "SIGTERM" to
                  FAKE_WORKER_MARK and exits
  ignore_term     ignores the shutdown request and SIGTERM (only SIGKILL stops it)
  (any mode)      with "standby" in TUTOR_SANDBOX_CONFIG: says "standby" after hello
                  (holding FAKE_WORKER_STANDBY_BYTES of memory) and says ready only on
                  "activate"; with FAKE_WORKER_WARMUP=warm|failed it reports a warm-up
  hostile         puts HOSTILE (escape sequences, controls) in every text field of
                  every frame it sends: ready info, output (split byte by byte), charts,
                  images, the failure, thread names
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from tutor.sandbox.protocol import (ENV_WORKER_FDS, PROTOCOL_VERSION, FrameReader, FrameWriter, read_frames,
                                    read_key)

MODE = os.environ.get("FAKE_WORKER_MODE", "ok")
DELAY = float(os.environ.get("FAKE_WORKER_DELAY", "1"))
# Screen wipe, alternate screen, window title, clipboard write (OSC 52), DCS, C1 CSI and
# OSC, a bell, a lone ESC, a lone surrogate and a carriage return.
HOSTILE = ("A\x1b[2J\x1b[?1049h\x1b]0;pwned\x07\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\x1bP+q544e\x1b\\"
           "\x9b2J\x9d0;t\x9c\x07\x1b\ud800\rZ")


def send_hostile(out: FrameWriter, request_id: int) -> None:
    for byte in HOSTILE.encode("utf-8", "surrogatepass"):
        out.send({"t": "out", "id": request_id, "name": "stdout"}, bytes([byte]))
    out.send({"t": "metrics", "id": request_id, "points": [[1, {HOSTILE: 1.0}], [None, {"ok": 2.0}]]})
    out.send({"t": "plot", "id": request_id, "kind": HOSTILE, "title": HOSTILE,
              "series": [[HOSTILE, [0, 1], [1, 2]]]})
    out.send({"t": "images", "id": request_id, "title": HOSTILE, "ncols": 2,
              "images": [[1, 1, "L", HOSTILE], [1, 1, "RGB", HOSTILE]]}, b"\x00" + b"\x01\x02\x03")
    out.send({"t": "advice", "id": request_id, "kind": HOSTILE, "line": 2, "saw": HOSTILE, "why": HOSTILE,
              "fix": HOSTILE})
    out.send({"t": "failed", "id": request_id, "ename": HOSTILE, "message": HOSTILE,
              "frames": [{"filename": HOSTILE, "lineno": 1, "name": HOSTILE, "source": HOSTILE}],
              "advice": HOSTILE, "line": 1})
    out.send({"t": "finished", "id": request_id, "status": "error", "duration": 0.0, "threads": [HOSTILE]})


def say_ready(out: FrameWriter) -> None:
    warmup = os.environ.get("FAKE_WORKER_WARMUP")
    if warmup:
        out.send({"t": "warmup", "state": "warming", "detail": None})
    if MODE == "hostile":
        out.send({"t": "ready", "info": {"pid": os.getpid(), "torch_version": HOSTILE, "device": HOSTILE,
                                         "device_name": HOSTILE, "gpu_total": None, "note": HOSTILE}})
    else:
        out.send({"t": "ready", "info": {"pid": os.getpid(), "torch_version": None, "device": "cpu",
                                         "device_name": "fake", "gpu_total": None}})
    if warmup:
        time.sleep(0.1)
        out.send({"t": "warmup", "state": warmup, "detail": "0.10" if warmup == "warm" else "RuntimeError: no"})


def main() -> int:
    if MODE == "crash_at_start":
        sys.stderr.write("fake worker: cannot start (crash_at_start)\n")
        sys.stderr.flush()
        return 3
    requests_fd, events_fd = (int(fd) for fd in os.environ[ENV_WORKER_FDS].split(","))
    out = FrameWriter(events_fd, key=read_key(requests_fd))
    if MODE == "slow_start":
        time.sleep(DELAY)
    out.send({"t": "hello", "protocol": 999 if MODE == "bad_protocol" else PROTOCOL_VERSION, "pid": os.getpid()})
    if MODE == "never_ready":
        time.sleep(3600)
    config = json.loads(os.environ.get("TUTOR_SANDBOX_CONFIG") or "{}")
    reader = FrameReader()
    if config.get("standby"):
        held = b"x" * int(os.environ.get("FAKE_WORKER_STANDBY_BYTES", "0"))  # resident: it is written
        out.send({"t": "standby"})
        activated = False
        while not activated:
            frames = read_frames(requests_fd, reader)
            if frames is None:
                return 0
            activated = any(message["t"] == "activate" for message, _ in frames)
        del held
    say_ready(out)
    if MODE == "die_idle":
        time.sleep(DELAY)
        return 7
    if MODE == "ignore_shutdown":
        def on_term(signum, frame):
            with open(os.environ["FAKE_WORKER_MARK"], "w") as f:
                f.write("SIGTERM")
            os._exit(0)

        signal.signal(signal.SIGTERM, on_term)
    if MODE == "ignore_term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    in_request = False

    def on_sigint(signum, frame):
        if in_request:  # as the real worker: a SIGINT between cells is ignored
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    while True:
        in_request = False
        frames = read_frames(requests_fd, reader)
        if frames is None:
            return 0
        for message, _ in frames:
            if message["t"] == "shutdown" and MODE not in ("ignore_shutdown", "ignore_term"):
                return 0
            if message["t"] != "execute":
                continue
            request_id = message["id"]
            in_request = True
            try:  # as the real worker: an interrupt that lands in the request ends it, not the worker
                out.send({"t": "started", "id": request_id})
                if MODE == "hang":
                    signal.signal(signal.SIGINT, signal.SIG_IGN)
                    time.sleep(3600)
                if MODE == "hostile":
                    send_hostile(out, request_id)
                    continue
                if message["code"] == "exit":  # any mode: the cell ends the worker
                    return 3
                if MODE == "garbage":
                    os.write(events_fd, b"\xff\xff\xff\xffnot a frame at all" * 4)
                    time.sleep(3600)
                out.send({"t": "out", "id": request_id, "name": "stdout"}, message["code"].encode() + b"\n")
                status = "ok"
            except KeyboardInterrupt:
                status = "interrupted"
            in_request = False
            out.send({"t": "finished", "id": request_id, "status": status, "duration": 0.0, "threads": []})
            if MODE == "late_output":
                time.sleep(0.05)
                out.send({"t": "out", "id": request_id, "name": "stdout"}, b"LATE\n")


if __name__ == "__main__":
    raise SystemExit(main())
