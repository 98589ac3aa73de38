"""The real ``tutor`` command in tmux, as a person would use it: open lesson 00, run its
first cell with the real worker (torch included, in the worker only), read the result
from the screen, quit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tutor import config
from tutor.lessons import load_catalog

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


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


def processes_in(folder) -> list[int]:
    """Processes whose working folder is under ``folder`` (the lesson workers)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                found.append(int(pid))
        except OSError:
            pass
    return found


def first_cell_output(code: str, workdir) -> list[str]:
    """What the first cell prints, from a plain Python (not this process: no torch here)."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=workdir)
    assert out.returncode == 0, out.stderr
    return [line.rstrip() for line in out.stdout.splitlines() if line.strip()]


def test_run_the_first_cell_of_lesson_00_in_tmux(tutor_home, tmp_path):
    lesson = load_catalog(config.builtin_lessons_dir()).find("00")
    first = lesson.cells()[0]
    expected = first_cell_output(first.code, tmp_path)
    session = f"tutor-test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TERM": "xterm-256color"}
    command = f"{sys.executable} -m tutor 00"
    subprocess.run(["tmux", "new-session", "-d", "-x", "100", "-y", "30", "-s", session, command],
                   check=True, env=env)
    try:
        wait_for(session, lambda s: lesson.title in s and "f5 Run" in s, 60)
        subprocess.run(["tmux", "send-keys", "-t", session, "F5"], check=True)
        screen = wait_for(session, lambda s: "[1] cell · ✓" in s and all(line in s for line in expected[:2]), 120)
        for line in expected[:2]:
            assert line in screen
        assert "worker ready" in screen and ("CPU" in screen or "CUDA" in screen)
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            alive = subprocess.run(["tmux", "has-session", "-t", session], capture_output=True).returncode == 0
            if not alive:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("tutor did not quit on ctrl+q:\n" + capture(session))
        deadline = time.monotonic() + 10
        while processes_in(tutor_home) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not processes_in(tutor_home), "the worker outlived the tutor"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
