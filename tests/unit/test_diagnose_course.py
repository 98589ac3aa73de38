"""No false alarms on the course: the static diagnosis finds nothing in any cell of the
built-in lessons (cells, setups, exercises' starters, solutions and checks), except in
cells whose info string marks the mistake as shown on purpose."""

from __future__ import annotations

import pytest

from tutor import config
from tutor.diagnose import diagnose_code
from tutor.lessons.catalog import check_paths, lesson_files
from tutor.lessons.model import CodeCell, Exercise, diagnosis_on, mistakes_shown

LESSONS = lesson_files(config.builtin_lessons_dir())


def pieces(lesson):
    """(where, code, the advice it may get) for every piece of Python the lesson runs
    with the diagnosis on."""
    for block in lesson.blocks():
        if not isinstance(block, (CodeCell, Exercise)):
            continue
        yield from ((f"setup at {s.line}", s.code, ()) for s in block.setup)
        if not diagnosis_on(block.diagnose) or block.language != "python":  # shell text is not Python
            continue
        shown = mistakes_shown(block.diagnose)
        if isinstance(block, CodeCell):
            yield f"cell at {block.line}", block.code, shown
        else:
            yield f"exercise at {block.line}", block.starter, shown
            yield f"solution at {block.solution_line}", block.solution, shown
            yield f"check at {block.check_line}", block.check, ()


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_no_static_advice_on_the_course(path):
    [result] = check_paths([path])
    alarms = [f"{path.name}: {where}, line {tip.line}: {tip.saw}"
              for where, code, shown in pieces(result.lesson)
              for tip in diagnose_code(code).advice if tip.kind not in shown]
    assert not alarms, "\n".join(alarms)
