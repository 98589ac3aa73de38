"""What the learner did, as read-only snapshots: a lesson's progress, its quiz and
exercise records, and its score. Also the one rule of what counts as done."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from tutor.progress.document import MAX_QUIZ_ATTEMPTS, empty_lesson


@dataclass(frozen=True)
class Attempt:
    answer: str
    correct: bool
    time: float


@dataclass(frozen=True)
class QuizRecord:
    """All attempts at one quiz. ``correct``: the latest attempt was right."""

    attempts: tuple[Attempt, ...]
    correct: bool

    @property
    def last_answer(self) -> str | None:
        return self.attempts[-1].answer if self.attempts else None


@dataclass(frozen=True)
class ExerciseRecord:
    attempts: int
    passed: bool
    solution_revealed: bool
    needed_solution: bool = False  # revealed before the first pass


@dataclass(frozen=True)
class Score:
    """A lesson's progress in numbers, for lists and progress bars."""

    steps_seen: int
    steps: int
    quizzes_right: int
    quizzes: int
    exercises_passed: int
    exercises: int
    steps_done: int = 0  # by the one rule: see LessonProgress.block_done

    @property
    def fraction(self) -> float:
        """0..1: the share of the lesson's steps that are done."""
        return self.steps_done / self.steps if self.steps else 0.0

    @property
    def done(self) -> bool:
        """Every step of the lesson is done."""
        return bool(self.steps) and self.steps_done == self.steps


@dataclass(frozen=True)
class LessonProgress:
    """What the learner did in one lesson (a snapshot: it never changes; the ``with_*``
    methods return a new one with a change applied, as the store applies it)."""

    lesson_id: str
    steps_seen: frozenset[str]
    cells_run: frozenset[str]
    cells_failed: frozenset[str]  # cells whose latest run failed
    quizzes: dict[str, QuizRecord]
    exercises: dict[str, ExerciseRecord]
    code: dict[str, str]  # edited code by cell (or exercise) id
    position: str | None  # the step the learner was last at
    last_seen: float | None

    @property
    def started(self) -> bool:
        return self.last_seen is not None

    # -- what counts as done: the one rule, for the contents, home, ``tutor list`` ----

    def block_done(self, block) -> bool:
        """A quiz whose latest answer was right, an exercise passed, a cell whose latest
        run ran to its end (a ``raises=`` cell: raised as meant); prose always."""
        from tutor.lessons.model import Exercise, Prose, Quiz

        if isinstance(block, Quiz):
            return block.id in self.quizzes and self.quizzes[block.id].correct
        if isinstance(block, Exercise):
            return block.id in self.exercises and self.exercises[block.id].passed
        if isinstance(block, Prose):
            return True
        return block.id in self.cells_run and block.id not in self.cells_failed  # any block that runs

    def step_done(self, step) -> bool:
        """The step was seen and every block in it is done."""
        return step.id in self.steps_seen and all(self.block_done(b) for b in step.blocks)

    def done_steps(self, lesson) -> set[str]:
        return {step.id for step in lesson.steps if self.step_done(step)}

    # -- counts -------------------------------------------------------------------

    def quiz_score(self, quiz_ids: Iterable[str]) -> tuple[int, int]:
        """(right, total) over ``quiz_ids``: a quiz counts when its latest answer was right."""
        ids = list(quiz_ids)
        return sum(1 for q in ids if q in self.quizzes and self.quizzes[q].correct), len(ids)

    def exercise_score(self, exercise_ids: Iterable[str]) -> tuple[int, int]:
        """(passed, total) over ``exercise_ids``."""
        ids = list(exercise_ids)
        return sum(1 for e in ids if e in self.exercises and self.exercises[e].passed), len(ids)

    def steps_score(self, step_ids: Iterable[str]) -> tuple[int, int]:
        """(seen, total) over ``step_ids``."""
        ids = list(step_ids)
        return sum(1 for s in ids if s in self.steps_seen), len(ids)

    def score(self, lesson) -> Score:
        """This progress measured against ``lesson`` (a ``tutor.lessons.Lesson``)."""
        steps = self.steps_score(s.id for s in lesson.steps)
        quizzes = self.quiz_score(q.id for q in lesson.quizzes())
        exercises = self.exercise_score(e.id for e in lesson.exercises())
        return Score(*steps, *quizzes, *exercises, steps_done=len(self.done_steps(lesson)))

    # -- the same changes the store makes, applied to this snapshot ----------------

    def with_step_seen(self, step_id: str) -> LessonProgress:
        return replace(self, steps_seen=self.steps_seen | {step_id})

    def with_cell_run(self, cell_id: str, ok: bool) -> LessonProgress:
        failed = self.cells_failed - {cell_id} if ok else self.cells_failed | {cell_id}
        return replace(self, cells_run=self.cells_run | {cell_id}, cells_failed=failed)

    def with_quiz_attempt(self, quiz_id: str, answer: str, correct: bool, now: float) -> LessonProgress:
        old = self.quizzes.get(quiz_id)
        attempts = (*(old.attempts if old else ()), Attempt(str(answer), bool(correct), now))[-MAX_QUIZ_ATTEMPTS:]
        return replace(self, quizzes={**self.quizzes, quiz_id: QuizRecord(attempts, bool(correct))})

    def with_exercise_attempt(self, exercise_id: str, passed: bool) -> LessonProgress:
        old = self.exercises.get(exercise_id) or ExerciseRecord(0, False, False)
        record = replace(old, attempts=old.attempts + 1, passed=old.passed or passed)
        return replace(self, exercises={**self.exercises, exercise_id: record})


def lesson_snapshot(lesson_id: str, data: dict | None) -> LessonProgress:
    data = data or empty_lesson()
    quizzes = {}
    for quiz_id, record in data["quizzes"].items():
        attempts = tuple(Attempt(a["answer"], a["correct"], a["time"]) for a in record["attempts"])
        quizzes[quiz_id] = QuizRecord(attempts, bool(attempts) and attempts[-1].correct)
    exercises = {
        ex_id: ExerciseRecord(
            attempts=r["attempts"],
            passed=r["passed_at"] is not None,
            solution_revealed=r["revealed_at"] is not None,
            needed_solution=r["revealed_at"] is not None
            and (r["passed_at"] is None or r["revealed_at"] < r["passed_at"]),
        )
        for ex_id, r in data["exercises"].items()
    }
    times = [*data["steps"].values(), *(c["time"] for c in data["cells"].values()),
             *(a.time for q in quizzes.values() for a in q.attempts),
             *(e["time"] for e in data["exercises"].values()), *(c["time"] for c in data["code"].values())]
    if data["position"]:
        times.append(data["position"]["time"])
    return LessonProgress(
        lesson_id=lesson_id,
        steps_seen=frozenset(data["steps"]),
        cells_run=frozenset(data["cells"]),
        cells_failed=frozenset(c for c, r in data["cells"].items() if not r["ok"]),
        quizzes=quizzes,
        exercises=exercises,
        code={c: r["code"] for c, r in data["code"].items() if r["code"] is not None},
        position=data["position"]["step"] if data["position"] else None,
        last_seen=max(times) if times else None,
    )
