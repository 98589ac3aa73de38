"""The real ``tutor`` in tmux, as a person would use it: start a long run, quit keeping
it running, start ``tutor`` again, and see it re-attach: the home screen lists the run,
Enter shows its output from the start, and the run goes on."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from session_helpers import REPO

from tutor.sessions import places

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.timeout(240),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

COURSE = Path(__file__).parent / "course"


def capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def wait_for(session: str, predicate, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    screen = ""
    while time.monotonic() < deadline:
        screen = capture(session)
        if predicate(screen):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"timed out; the screen was:\n{screen}")


def start(name: str, tutor_home: Path, *args: str) -> None:
    # The settings go on the command line: a tmux server that already runs gives a new
    # session its own environment, not the one of the client that asked for it.
    settings = {"TUTOR_HOME": tutor_home, "TERM": "xterm-256color", "PYTHONPATH": REPO, "TUTOR_SESSIONS": "on",
                "TUTOR_OFFLINE": "1"}
    command = " ".join(["env", *(shlex.quote(f"{k}={v}") for k, v in settings.items()),
                        shlex.quote(sys.executable), "-m", "tutor", "--lessons", shlex.quote(str(COURSE)), *args])
    subprocess.run(["tmux", "new-session", "-d", "-x", "100", "-y", "30", "-s", name, command],
                   check=True, cwd=REPO)


def epochs(screen: str) -> list[int]:
    """The epochs the cell's output shows (``epoch 41`` lines)."""
    return [int(m) for m in re.findall(r"\bepoch (\d+)\s*$", screen, re.MULTILINE)]


def ended(name: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while subprocess.run(["tmux", "has-session", "-t", name], capture_output=True).returncode == 0:
        if time.monotonic() > deadline:
            raise AssertionError("tutor did not quit:\n" + capture(name))
        time.sleep(0.2)


def test_quit_keeping_a_run_then_come_back_to_it(tutor_home):
    first, second = (f"tutor-test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    try:
        start(first, tutor_home, "01")
        wait_for(first, lambda s: "A long run" in s and "worker ready" in s, 120)
        subprocess.run(["tmux", "send-keys", "-t", first, "F5"], check=True)
        wait_for(first, lambda s: "epoch 3" in s, 60)
        subprocess.run(["tmux", "send-keys", "-t", first, "C-q"], check=True)
        wait_for(first, lambda s: "Keep running (k)" in s, 20)
        subprocess.run(["tmux", "send-keys", "-t", first, "k"], check=True)
        ended(first)
        [kept] = places.list_sessions()
        assert kept.lesson_id == "long" and kept.state == "running"

        start(second, tutor_home)
        home = wait_for(second, lambda s: "⟳ 01 A long run · Long" in s, 60)
        assert "Enter shows it" in home
        lines = home.splitlines()
        assert lines.index(next(l for l in lines if "⟳ 01" in l)) < lines.index(
            next(l for l in lines if "Continue" in l))  # what runs on comes first
        subprocess.run(["tmux", "send-keys", "-t", second, "Enter"], check=True)
        screen = wait_for(second, lambda s: "(from before)" in s and "lines above" in s, 60)
        assert "running cell 1 (from before)" in screen
        shown = epochs(screen)
        assert shown and shown == sorted(shown)
        time.sleep(1.5)
        assert max(epochs(capture(second))) > shown[-1]  # it goes on, live
        subprocess.run(["tmux", "send-keys", "-t", second, "C-q"], check=True)
        wait_for(second, lambda s: "Keep running (k)" in s, 20)
        subprocess.run(["tmux", "send-keys", "-t", second, "s"], check=True)
        ended(second)
        deadline = time.monotonic() + 10
        while places.list_sessions() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert places.list_sessions() == []
    finally:
        for name in (first, second):
            subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
