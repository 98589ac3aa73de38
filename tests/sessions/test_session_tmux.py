"""The real ``tutor`` in tmux, as a person would use it: start a long run, quit keeping
it running, start ``tutor`` again, and see it re-attach: the home screen lists the run,
Enter shows its output from the start, and the run goes on."""

from __future__ import annotations

import re
import shlex
import sys
import time
from pathlib import Path

import pytest
from session_helpers import REPO

from tutor.sessions import places

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.timeout(240),
]

COURSE = Path(__file__).parent / "course"


def start(tmux, name: str, tutor_home: Path, *args: str) -> None:
    settings = {"TUTOR_HOME": tutor_home, "TERM": "xterm-256color", "PYTHONPATH": REPO, "TUTOR_SESSIONS": "on",
                "TUTOR_OFFLINE": "1"}
    command = " ".join(["env", *(shlex.quote(f"{k}={v}") for k, v in settings.items()),
                        shlex.quote(sys.executable), "-m", "tutor", "--lessons", shlex.quote(str(COURSE)), *args])
    tmux.start(name, command, cwd=REPO)


def epochs(screen: str) -> list[int]:
    """The epochs the cell's output shows (``epoch 41`` lines)."""
    return [int(m) for m in re.findall(r"\bepoch (\d+)\s*$", screen, re.MULTILINE)]


def test_quit_keeping_a_run_then_come_back_to_it(tutor_home, tmux):
    start(tmux, "first", tutor_home, "01")
    tmux.wait_for("first", lambda s: "A long run" in s and "worker ready" in s, 120)
    tmux.send("first", "F5")
    tmux.wait_for("first", lambda s: "epoch 3" in s, 60)
    tmux.send("first", "C-q")
    tmux.wait_for("first", lambda s: "Keep running (k)" in s, 20)
    tmux.send("first", "k")
    tmux.wait_gone("first")
    [kept] = places.list_sessions()
    assert kept.lesson_id == "long" and kept.state == "running"

    start(tmux, "second", tutor_home)
    home = tmux.wait_for("second", lambda s: "⟳ 01 A long run · Long" in s, 60)
    assert "Enter shows it" in home
    lines = home.splitlines()
    assert lines.index(next(l for l in lines if "⟳ 01" in l)) < lines.index(
        next(l for l in lines if "Continue" in l))  # what runs on comes first
    tmux.send("second", "Enter")
    screen = tmux.wait_for("second", lambda s: "(from before)" in s and "lines above" in s, 60)
    assert "running cell 1 (from before)" in screen
    shown = epochs(screen)
    assert shown and shown == sorted(shown)
    time.sleep(1.5)
    assert max(epochs(tmux.capture("second"))) > shown[-1]  # it goes on, live
    tmux.send("second", "C-q")
    tmux.wait_for("second", lambda s: "Keep running (k)" in s, 20)
    tmux.send("second", "s")
    tmux.wait_gone("second")
    deadline = time.monotonic() + 10
    while places.list_sessions() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert places.list_sessions() == []
