"""The command line of sessions: ``tutor sessions`` (here and through ssh), ``--stop``,
and ``tutor doctor --remote``; every failure is one line, never a traceback."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import pytest
from session_helpers import FAKE_SSH, REPO, child_environment, run, runtime_dir_of

from tutor.sessions import places

SSH = " ".join(FAKE_SSH)


def tutor(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tutor", *args], capture_output=True, text=True, timeout=300,
                          env=child_environment(**env), cwd=REPO)


async def test_sessions_lists_a_detached_session_and_stop_ends_it(make_client):
    client = await make_client()
    cell = client.execute("import time\nprint('go', flush=True)\ntime.sleep(60)", label="cell 5",
                          tag={"title": "training"})
    await cell.__anext__()
    await client.detach()
    await cell.aclose()
    listed = tutor("sessions")
    assert listed.returncode == 0
    assert re.search(r"03 · running “training”, (just now|\d+ s ago)", listed.stdout) and "no app attached" in listed.stdout
    as_json = json.loads(tutor("sessions", "--json").stdout)
    assert as_json[0]["lesson"] == "03" and as_json[0]["running"] == "training"
    stopped = tutor("sessions", "--stop", "03")
    assert stopped.returncode == 0 and "stopped 03" in stopped.stdout
    assert places.list_sessions() == []
    assert "no sessions" in tutor("sessions").stdout


def test_a_listing_line_says_what_runs_and_since_when(tmp_path):
    info = places.SessionInfo("03", "03", "03", 1, 900.0, "running", "training", 1000.0, False, "cpu", None,
                              places.SessionPaths(tmp_path, "03"))
    assert info.describe(now=1125.0) == "03 · running “training”, 2 min ago"
    assert info.describe(now=1003.0) == "03 · running “training”, just now"
    assert dataclasses.replace(info, state="idle", running=None, since=None).describe() == "03 · idle"
    crashed = dataclasses.replace(info, state="crashed", running=None)
    assert crashed.describe(now=1000.0 + 7200) == "03 · crashed, 2.0 h ago"


def test_stopping_what_does_not_run_says_so():
    out = tutor("sessions", "--stop", "07")
    assert out.returncode == 1 and "no session '07' runs" in out.stdout and "Traceback" not in out.stderr


async def test_sessions_on_a_remote_machine(make_remote, far_home):
    client = await make_remote()
    await run(client, "x = 1")
    await client.detach()
    env = {"TUTOR_REMOTE_PYTHON": sys.executable}
    listed = tutor("sessions", "--remote", "gpu-box", "--ssh-command", SSH, **env)
    assert "sessions on gpu-box:" in listed.stdout and "03 · idle" in listed.stdout
    assert "tutor --remote gpu-box LESSON" in listed.stdout
    by_environment = tutor("sessions", TUTOR_REMOTE="gpu-box", TUTOR_SSH_COMMAND=SSH, **env)  # no --remote
    assert "sessions on gpu-box:" in by_environment.stdout and "03 · idle" in by_environment.stdout
    stopped = tutor("sessions", "--remote", "gpu-box", "--ssh-command", SSH, "--stop", "all", **env)
    assert stopped.returncode == 0 and "stopped 03" in stopped.stdout


@pytest.mark.parametrize("args, words", [
    (["sessions", "--remote", "gpu-box"], "cannot reach gpu-box"),
    (["sessions", "--ssh-command", "ssh -v"], "only apply with --remote"),
    (["sessions", "--remote=-oProxyCommand=evil"], "--remote wants a host"),
])
def test_remote_failures_are_one_line(args, words, monkeypatch):
    out = tutor(*args, FAKE_SSH_MODE="unreachable", TUTOR_SSH_COMMAND=SSH)
    assert out.returncode != 0 and words in out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_doctor_checks_the_far_side(far_home):
    out = tutor("doctor", "--remote", "gpu-box", "--no-sandbox", "--ssh-command", SSH,
                TUTOR_REMOTE_PYTHON=sys.executable)
    assert "tutor doctor · gpu-box" in out.stdout, out.stderr
    assert "on both ends" in out.stdout and "torch " in out.stdout
    assert str(far_home) in out.stdout  # the far side's paths, not ours
    assert "terminal" not in out.stdout


COURSE = str(REPO / "tests" / "sessions" / "course")


@pytest.mark.parametrize("mode, code", [("--solutions", 0), ("--quiet", 1)])
def test_a_remote_run_prints_and_exits_as_a_local_one(far_home, mode, code, tutor_home):
    local = tutor("run", "00", "--lessons", COURSE, mode)
    remote = tutor("run", "00", "--lessons", COURSE, mode, "--remote", "gpu-box", "--ssh-command", SSH,
                   TUTOR_REMOTE_PYTHON=sys.executable, FAKE_SSH_MODE="drop=epoch 4", FAKE_SSH_ONLY="1")
    assert local.returncode == remote.returncode == code, remote.stderr
    shown = [line for line in remote.stdout.splitlines() if not line.startswith("[link]")]
    assert shown == local.stdout.splitlines()
    if mode == "--solutions":
        assert "[link] gpu-box closed the connection; the cell goes on there" in remote.stdout
        assert "[link] reconnected to gpu-box" in remote.stdout
    assert places.list_sessions(runtime_dir_of(far_home)) == []  # the run's own session ended with it


def test_the_idle_timeout_is_an_hour_unless_set(monkeypatch):
    from tutor.config import session_idle_setting

    monkeypatch.delenv("TUTOR_SESSION_IDLE", raising=False)
    assert session_idle_setting() == 3600
    monkeypatch.setenv("TUTOR_SESSION_IDLE", "90")
    assert session_idle_setting() == 90


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan"])
def test_a_bad_idle_timeout_is_one_line_before_anything_starts(value):
    app = tutor("00", "--lessons", COURSE, TUTOR_SESSION_IDLE=value)  # said before it asks for a terminal
    remote_run = tutor("run", "00", "--lessons", COURSE, "--remote", "gpu-box", "--ssh-command", SSH,
                       TUTOR_SESSION_IDLE=value, FAKE_SSH_MODE="unreachable")
    for out in (app, remote_run):
        assert out.returncode == 2 and out.stderr.startswith("tutor: TUTOR_SESSION_IDLE: "), out.stderr
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_a_remote_run_that_cannot_connect_is_one_line(far_home):
    out = tutor("run", "00", "--lessons", COURSE, "--remote", "gpu-box", "--ssh-command", SSH,
                FAKE_SSH_MODE="auth")
    assert out.returncode == 2 and "Run 'ssh gpu-box' once by hand" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
