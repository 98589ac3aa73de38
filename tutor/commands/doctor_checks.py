"""Health checks that other parts add to ``tutor doctor``.

Each check is a function returning a list of ``(name, finding, ok)``. Keep them
free of torch in this process: start a subprocess (the sandbox) when torch is needed.
"""

from __future__ import annotations

from collections.abc import Callable

CHECKS: list[Callable[[], list[tuple[str, str, bool]]]] = []


def lessons_check() -> list[tuple[str, str, bool]]:
    from tutor import config
    from tutor.lessons import load_catalog

    catalog = load_catalog(config.lessons_dir())
    broken = len(catalog.broken)
    finding = f"{len(catalog.lessons)} lessons load"
    if broken:
        finding += f", {broken} broken (run 'tutor check')"
    return [("lessons", finding, broken == 0)]


CHECKS.append(lessons_check)
