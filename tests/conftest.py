"""Shared fixtures. Every test runs with its own TUTOR_HOME, so nothing touches the
real progress file or data folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def tutor_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("tutor-home")
    monkeypatch.setenv("TUTOR_HOME", str(home))
    # Tests never use the network: data helpers skip their download attempt.
    monkeypatch.setenv("TUTOR_OFFLINE", "1")
    monkeypatch.delenv("TUTOR_LESSONS", raising=False)
    monkeypatch.delenv("TUTOR_DEVICE", raising=False)
    monkeypatch.delenv("TUTOR_MEMORY_LIMIT", raising=False)
    return home


@pytest.fixture
def repo_root() -> Path:
    return REPO


def pytest_collection_modifyitems(config, items):
    """Skip GPU tests where there is no CUDA device (checked without importing torch
    in the test process when no test needs it)."""
    gpu_items = [i for i in items if "gpu" in i.keywords]
    if not gpu_items:
        return
    if os.environ.get("TUTOR_TEST_GPU") == "1":
        return
    import shutil

    if shutil.which("nvidia-smi") is None:
        skip = pytest.mark.skip(reason="no CUDA device here (nvidia-smi not found)")
        for item in gpu_items:
            item.add_marker(skip)


class ExerciseBench:
    """A worker where a built-in lesson ran up to one exercise (solutions above it),
    ready to grade answers to it: ``await bench.attempt(code)`` runs the code and the
    hidden check, and returns the runner's result (``ok``, ``message``)."""

    def __init__(self, client, lesson, exercise_id: str) -> None:
        self.client, self.lesson, self.exercise_id = client, lesson, exercise_id

    async def attempt(self, code: str):
        from tutor.runner import try_answer

        return await try_answer(self.client, self.lesson, self.exercise_id, code, timeout=300)


@pytest.fixture
async def exercise_bench(tmp_path):
    """``await exercise_bench("03", "exercise-id")``: run built-in lesson 03 up to that
    exercise once (the slow part), then try several answers in the same worker."""
    from tutor import config
    from tutor.lessons import load_catalog
    from tutor.runner import describe_failure, run_lesson
    from tutor.sandbox.client import SandboxClient

    clients = []

    async def open_bench(lesson_ref: str, exercise_id: str, **client_options) -> ExerciseBench:
        lesson = load_catalog(config.builtin_lessons_dir()).find(lesson_ref)
        client = SandboxClient(workdir=tmp_path / f"bench{len(clients)}", **client_options)
        clients.append(client)
        run = await run_lesson(lesson, mode="solutions", client=client, stop_before=exercise_id, timeout=300)
        assert run.ok, "\n".join(describe_failure(r) for r in run.failures)
        return ExerciseBench(client, lesson, exercise_id)

    yield open_bench
    for client in clients:
        await client.shutdown()


class TmuxServer:
    """A tmux server of the test's own (``tmux -L``), as a person's terminal: its
    sessions get the environment of this process, where a server already running
    (someone's own tmux) would give them its own, and it ends with the test."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.socket, *args], check=check, capture_output=True, text=True,
                              **kwargs)

    def start(self, session: str, command: str, *, width: int = 100, height: int = 30, **kwargs) -> None:
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-s", session, command, **kwargs)

    def send(self, session: str, *keys: str) -> None:
        self.tmux("send-keys", "-t", session, *keys)

    def capture(self, session: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", session, check=False).stdout

    def alive(self, session: str) -> bool:
        return self.tmux("has-session", "-t", session, check=False).returncode == 0

    def wait_for(self, session: str, predicate, seconds: float) -> str:
        """The screen once ``predicate(screen)`` holds; fails with the last screen."""
        deadline = time.monotonic() + seconds
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture(session)
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out; the screen was:\n{screen}")

    def wait_gone(self, session: str, seconds: float = 20) -> None:
        """Until ``session`` has ended (its program quit)."""
        deadline = time.monotonic() + seconds
        while self.alive(session):
            if time.monotonic() > deadline:
                raise AssertionError("it did not quit:\n" + self.capture(session))
            time.sleep(0.2)


@pytest.fixture
def tmux():
    """A private tmux server (``TmuxServer``), killed after the test."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    server = TmuxServer(f"tutor-test-{uuid.uuid4().hex[:8]}")
    yield server
    server.tmux("kill-server", check=False)
