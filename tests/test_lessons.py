"""Every lesson of the built-in course: it parses; each quiz accepts its own answer and
rejects another; each exercise's starter fails its check and its solution passes
(one selftest run per lesson in the real sandbox, within a time budget); and the
solutions pass again perturbed (every torch seed shifted, another thread count), so
that no claim holds only for one lucky random stream.

TUTOR_LESSON_BUDGET (seconds, default 420) bounds one lesson's whole selftest run, so
that a lesson that hangs or grows too slow fails here instead of stalling CI.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from tutor import config
from tutor.grading import quiz_problems
from tutor.lessons.catalog import check_paths, lesson_files

LESSONS = lesson_files(config.builtin_lessons_dir())
BUDGET = float(os.environ.get("TUTOR_LESSON_BUDGET", "420"))
CELL_TIMEOUT = 180.0
by_name = pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])


def load(path):
    [result] = check_paths([path])
    assert result.ok, "\n".join(str(e) for e in result.errors)
    return result.lesson


def test_the_course_has_lessons():
    assert LESSONS, f"no lessons in {config.builtin_lessons_dir()}"


@by_name
def test_lesson_parses(path):
    lesson = load(path)
    assert lesson.steps


@by_name
def test_every_quiz_accepts_its_answer_and_rejects_another(path):
    lesson = load(path)
    problems = [f"{path.name}:{quiz.line}: {p}" for quiz in lesson.quizzes() for p in quiz_problems(quiz)]
    assert not problems, "\n".join(problems)


def run_within_budget(path, tmp_path, **options):
    from tutor.runner import describe_failure, run_lesson

    try:
        run = asyncio.run(asyncio.wait_for(
            run_lesson(load(path), timeout=CELL_TIMEOUT, workdir=tmp_path, **options), BUDGET))
    except asyncio.TimeoutError:
        pytest.fail(f"{path.name}: the run took more than its budget of {BUDGET:g} s "
                    "(shorten the training cells, or raise TUTOR_LESSON_BUDGET)")
    assert run.ok, "\n".join(describe_failure(r) for r in run.failures)
    return run


@pytest.mark.slow
@by_name
def test_every_starter_fails_and_every_solution_passes(path, tmp_path):
    lesson = load(path)
    run = run_within_budget(path, tmp_path, mode="selftest")
    proven = {(r.block_id, r.kind) for r in run.results if r.ok}
    for exercise in lesson.exercises():
        assert (exercise.id, "starter") in proven and (exercise.id, "solution") in proven, exercise.id


@pytest.mark.slow
@by_name
def test_every_solution_passes_perturbed(path, tmp_path):
    run_within_budget(path, tmp_path, mode="solutions", perturb=1)


@pytest.mark.slow
@pytest.mark.gpu
@by_name
def test_every_lesson_proves_itself_on_cuda(path, tmp_path):
    from tutor.sandbox.events import WorkerStateChanged

    devices = set()

    def note_device(event) -> None:
        if isinstance(event, WorkerStateChanged) and event.info is not None:
            devices.add(event.info.device)

    run_within_budget(path, tmp_path, mode="selftest", device="cuda", on_event=note_device)
    assert devices and all(d.startswith("cuda") for d in devices), devices
