"""Shared fixtures. Every test runs with its own TUTOR_HOME, so nothing touches the
real progress file or data folder."""

from __future__ import annotations

import os
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
