"""The real ``tutor`` command in tmux, as a person would use it: open lesson 00, run its
first cell with the real worker (torch included, in the worker only), read the result
from the screen, quit."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tutor import config
from tutor.lessons import load_catalog

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.timeout(180),
]


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


def test_run_the_first_cell_of_lesson_00_in_tmux(tutor_home, tmp_path, tmux):
    lesson = load_catalog(config.builtin_lessons_dir()).find("00")
    first = lesson.cells()[0]
    expected = first_cell_output(first.code, tmp_path)
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TERM": "xterm-256color"}
    tmux.start("tutor", f"{sys.executable} -m tutor 00", env=env)
    tmux.wait_for("tutor", lambda s: lesson.title in s and "f5 Run" in s, 60)
    tmux.send("tutor", "F5")
    screen = tmux.wait_for("tutor", lambda s: "[1] cell · ✓" in s and all(line in s for line in expected[:2]), 120)
    for line in expected[:2]:
        assert line in screen
    assert "worker ready" in screen and ("CPU" in screen or "CUDA" in screen)
    tmux.send("tutor", "C-q")
    tmux.wait_gone("tutor")
    deadline = time.monotonic() + 10
    while processes_in(tutor_home) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not processes_in(tutor_home), "the worker outlived the tutor"
