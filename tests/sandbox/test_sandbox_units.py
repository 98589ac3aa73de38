"""Pure parts of the sandbox: framing, sanitising, the output cap, tracebacks,
reasons, limits. No processes."""

from __future__ import annotations

import json
import signal
import struct

import pytest

from tutor.sandbox import limits, reasons, tracebacks
from tutor.sandbox.outputcap import CapLimits, OutputBudget
from tutor.sandbox.protocol import HEADER, FrameReader, ProtocolError, encode
from tutor.sandbox.sanitize import StreamSanitizer, sanitize


# -- protocol ---------------------------------------------------------------------------

def test_frames_survive_any_split():
    data = encode({"t": "out", "id": 1}, b"\x00\xffbinary") + encode({"t": "finished", "id": 1, "text": "é"})
    for cut in range(len(data) + 1):
        reader = FrameReader()
        frames = reader.feed(data[:cut]) + reader.feed(data[cut:])
        assert frames == [({"t": "out", "id": 1}, b"\x00\xffbinary"), ({"t": "finished", "id": 1, "text": "é"}, b"")]
        assert reader.feed(b"") == []


@pytest.mark.parametrize("garbage", [
    HEADER.pack(2**31, 0),  # absurd length
    HEADER.pack(0, 0),  # empty header
    HEADER.pack(5, 0) + b"{bad}",  # not JSON
    HEADER.pack(2, 0) + b"[]",  # not a message
    HEADER.pack(8, 0) + b'{"x": 1}',  # no type
    HEADER.pack(4, 0) + b"\xff\xfe{}",  # not UTF-8
])
def test_bad_frames_raise_protocol_error(garbage):
    with pytest.raises(ProtocolError):
        FrameReader().feed(garbage)


def test_header_is_json_then_blob():
    frame = encode({"t": "x"}, b"blob")
    header_len, blob_len = struct.unpack("!II", frame[:8])
    assert json.loads(frame[8:8 + header_len]) == {"t": "x"} and frame[8 + header_len:] == b"blob"


# -- sanitising --------------------------------------------------------------------------

def test_sanitize_keeps_colours_and_progress_bars():
    text = "\x1b[1;31mred\x1b[0m\tok 50%\r100%\n"
    assert sanitize(text) == text


def test_sanitize_drops_other_escapes_and_escapes_controls():
    assert sanitize("a\x1b[2Jb\x1b[10;5Hc\x1b]0;title\x07d\x1b(Be") == "abcde"
    assert sanitize("bell\x07 nul\x00 del\x7f c1\x85") == "bell\\x07 nul\\x00 del\\x7f c1\\x85"


def test_stream_sanitizer_holds_split_sequences():
    stream = StreamSanitizer()
    parts = [b"plain \x1b[3", b"2mgreen\x1b[0m \xe2\x82", b"\xac euro \xff end\x1b"]
    out = "".join(stream.feed(p) for p in parts) + stream.flush()
    assert out == "plain \x1b[32mgreen\x1b[0m € euro \\xff end\\x1b"


# -- output cap ------------------------------------------------------------------------

def test_cap_keeps_head_and_tail_lines():
    budget = OutputBudget(CapLimits(head_lines=3, head_bytes=1000, tail_lines=2, tail_bytes=1000))
    head = b"".join(budget.take("stdout", f"{i}\n".encode()) for i in range(100))
    assert head == b"0\n1\n2\n"
    result = budget.finish()
    assert result.tail == (("stdout", b"98\n"), ("stdout", b"99\n"))
    assert result.dropped_lines == 95
    assert result.dropped_bytes == sum(len(f"{i}\n") for i in range(3, 98))


def test_cap_on_one_huge_line():
    budget = OutputBudget(CapLimits(head_lines=10, head_bytes=100, tail_lines=5, tail_bytes=50))
    head = budget.take("stdout", b"x" * 10_000)
    assert head == b"x" * 100
    result = budget.finish()
    assert result.tail == (("stdout", b"x" * 50),) and result.dropped_bytes == 10_000 - 150


def test_no_cap_no_summary():
    budget = OutputBudget()
    assert budget.take("stderr", b"short\n") == b"short\n" and budget.finish() is None


def test_tail_starts_at_a_full_line_when_cut_by_bytes():
    budget = OutputBudget(CapLimits(head_lines=1, head_bytes=100, tail_lines=100, tail_bytes=10))
    budget.take("stdout", b"h\n" + b"".join(f"line{i}\n".encode() for i in range(10)))
    (name, tail), = budget.finish().tail
    assert tail == b"line9\n"


# -- tracebacks --------------------------------------------------------------------------

def test_repeated_frames_collapse():
    frame = tracebacks.frame_dict("c", 2, "f", "return f()")
    frames = [tracebacks.frame_dict("c", 3, "<module>", "f()")] + [frame] * 990
    short = tracebacks.shorten(frames)
    assert short == frames[:1] + [frame] * tracebacks.REPEATS_KEPT


def test_crash_frames_from_faulthandler():
    dump = ('Fatal Python error: Segmentation fault\n\nCurrent thread 0x00007f (most recent call first):\n'
            '  File "/usr/lib/python3.11/ctypes/__init__.py", line 519 in string_at\n'
            '  File "cell 7", line 2 in <module>\n  File "/x/worker.py", line 150 in run_code\n')
    assert tracebacks.crash_frames(dump, {"cell 7"}) == [("cell 7", 2, "<module>")]


# -- reasons ------------------------------------------------------------------------------

@pytest.mark.parametrize("exit, expected", [
    (reasons.Exit(None, signal.SIGSEGV, None), ("crashed", "Python crashed in native code (segmentation fault)")),
    (reasons.Exit(3, None, None), ("crashed", "Your code exited the worker (code 3)")),
    (reasons.Exit(None, signal.SIGKILL, None), ("killed", "Killed (SIGKILL: by the system, likely out of memory")),
    (reasons.Exit(None, signal.SIGKILL, "memory", figure=5 * 2**30 + 2**27),
     ("killed", "Stopped at 5.1 GiB (limit 4.0 GiB)")),
    (None, ("crashed", "The worker's supervisor died unexpectedly")),
])
def test_death_reasons(exit, expected):
    status, reason = reasons.death(exit, limit=4 * 2**30)
    assert status == expected[0] and reason.startswith(expected[1])
    assert reason.endswith("worker restarted, variables lost.")


def test_death_reason_names_the_place():
    _, reason = reasons.death(reasons.Exit(None, signal.SIGBUS, None), limit=None, place=("cell 2", 4))
    assert "(bus error) in cell 2, line 4:" in reason


# -- limits --------------------------------------------------------------------------------

def test_format_size():
    assert limits.format_size(4 * 2**30) == "4.0 GiB"
    assert limits.format_size(600 * 2**20) == "600 MiB"


def test_default_limit_is_three_quarters_of_ram(monkeypatch):
    monkeypatch.setattr(limits, "physical_memory", lambda: 16 * 2**30)
    assert limits.default_memory_limit() == 12 * 2**30
    monkeypatch.setattr(limits, "physical_memory", lambda: 2**30)
    assert limits.default_memory_limit() == limits.MIN_MEMORY_LIMIT


def test_process_limit_leaves_room(monkeypatch):
    monkeypatch.setattr(limits.os, "getuid", lambda: 1000)
    monkeypatch.setattr(limits, "user_task_count", lambda uid: 40)
    monkeypatch.setattr(limits.os, "cpu_count", lambda: 64)
    assert limits.process_limit() == 40 + 512
    monkeypatch.setattr(limits.os, "getuid", lambda: 0)
    assert limits.process_limit() is None  # root is not limited by the kernel anyway
