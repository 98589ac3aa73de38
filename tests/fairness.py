"""What the fairness tests share: an answer to an exercise with the verdict it must get,
and the grading of a list of them in a worker where the lesson ran up to them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    exercise: str
    what: str        # what kind of answer this is, for the failure report
    code: str
    passes: bool
    says: str = ""   # a fragment the failure message must hold (wrong answers)


async def mismatches(bench, answers: list[Answer]) -> list[str]:
    """Grade every answer in the bench's worker (``bench.client``, ``bench.lesson``);
    describe each verdict that is not the one expected."""
    from tutor.runner import try_answer

    wrong = []
    for answer in answers:
        result = await try_answer(bench.client, bench.lesson, answer.exercise, answer.code, timeout=300)
        if result.ok != answer.passes:
            verdict = "passed" if result.ok else f"failed: {result.message}"
            wrong.append(f"{answer.exercise} ({answer.what}) {verdict}")
        elif not answer.passes and answer.says not in result.message:
            wrong.append(f"{answer.exercise} ({answer.what}) failed without saying {answer.says!r}: "
                         f"{result.message}")
    return wrong
