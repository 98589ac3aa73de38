"""Where tutor keeps things, and the settings that TUTOR_* variables override.

- ``TUTOR_HOME``: the folder for progress, workspaces and data (default: the
  platform's user data folder, e.g. ``~/.local/share/tutor``).
- ``TUTOR_LESSONS``: a course folder to use instead of the built-in one.
- ``TUTOR_DEVICE``: auto, cpu, cuda or mps.
- ``TUTOR_MEMORY_LIMIT``: the worker's memory limit, e.g. ``4G`` or ``3500M``.
- ``TUTOR_SESSION_IDLE``: seconds an idle session host waits for an app (an hour).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEVICES = ("auto", "cpu", "cuda", "mps")


def _course_dir(name: str) -> Path:
    """A folder of the built-in course: inside the wheel, or in a checkout."""
    shipped = PACKAGE_DIR / "_course" / name
    if shipped.is_dir():
        return shipped
    return PACKAGE_DIR.parent / name


def builtin_lessons_dir() -> Path:
    return _course_dir("lessons")


def assets_dir() -> Path:
    return _course_dir("assets")


def lessons_dir(override: str | os.PathLike | None = None) -> Path:
    """The course in use: ``--lessons``, else ``TUTOR_LESSONS``, else the built-in one."""
    chosen = override or os.environ.get("TUTOR_LESSONS")
    return Path(chosen).expanduser() if chosen else builtin_lessons_dir()


def home_dir() -> Path:
    """The folder for everything tutor writes. Not created here."""
    override = os.environ.get("TUTOR_HOME")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("tutor", appauthor=False))


def progress_path() -> Path:
    return home_dir() / "progress.json"


def workspace_dir(lesson_id: str) -> Path:
    """The working folder of one lesson's worker (files learner code writes)."""
    return home_dir() / "workspace" / lesson_id


def data_dir() -> Path:
    """Datasets that lessons prepare (e.g. an unpacked Fashion-MNIST)."""
    return home_dir() / "data"


def device_setting(override: str | None = None) -> str:
    value = (override or os.environ.get("TUTOR_DEVICE") or "auto").lower()
    if value not in DEVICES:
        raise ValueError(f"unknown device '{value}' (choose from {', '.join(DEVICES)})")
    return value


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """``"4G"``, ``"3500M"``, ``"2.5GiB"`` or a byte count -> bytes."""
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"cannot read '{text}' as a size (try 4G or 3500M)")
    number, unit = match.groups()
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[unit.lower()]
    return int(float(number) * scale)


def memory_limit_setting(override: str | None = None) -> int | None:
    """Bytes, or None to let the sandbox derive a limit from the machine's RAM."""
    value = override or os.environ.get("TUTOR_MEMORY_LIMIT")
    return parse_size(value) if value else None


DEFAULT_IDLE_TIMEOUT = 3600.0
ENV_SESSION_IDLE = "TUTOR_SESSION_IDLE"


def session_idle_setting(value: str | float | None = None) -> float:
    """Seconds from ``value``, else TUTOR_SESSION_IDLE, else one hour."""
    raw = value if value is not None else os.environ.get(ENV_SESSION_IDLE)
    if raw is None or raw == "":
        return DEFAULT_IDLE_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{ENV_SESSION_IDLE}: cannot read '{raw}' as seconds for the idle timeout") from None
    if not seconds > 0:  # (nan too)
        raise ValueError(f"{ENV_SESSION_IDLE}: the idle timeout must be more than 0 seconds")
    return seconds
