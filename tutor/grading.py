"""Quiz answer checking (pure; stdlib only).

    grade(quiz, response) -> Grade(correct, feedback, normalised, valid)

``response`` is what the learner gave: the text they typed, a choice's text, a choice's
1-based number ("2"), or for a multiple-choice quiz a tuple/set of those (or "1, 3").

- Choices: the picked choice must be the answer; for a list answer, exactly that set.
- Free text: compared after normalising case, spaces (spaces next to punctuation do not
  count), quotes (' " ` and curly quotes are alike; quotes around the whole answer are
  dropped), a trailing full stop and an optional leading ``torch.``.
- Shapes: ``(2, 3)``, ``[2, 3]``, ``2x3``, ``2 x 3``, ``2×3`` and ``torch.Size([2, 3])`` are
  the same shape; a bare ``6`` is the shape ``(6,)``.
- Numbers: within ``quiz.tolerance`` (exact by default, up to float rounding); ``1/4``,
  ``1e-3``, ``1,000`` and ``50%`` (also read as 0.5) are understood.

``valid=False`` means the response could not be read as an answer (empty, not a
number, not a shape, not a choice): the UI shows ``feedback`` and does not count it.
``quiz_problems(quiz)`` is the lesson self-test: the grader must accept the quiz's own
answer and reject at least one other.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from tutor.lessons.model import Quiz

RIGHT = "Right!"
WRONG = "Not quite."

Response = Union[str, int, tuple, list, set, frozenset]


@dataclass(frozen=True)
class Grade:
    correct: bool
    feedback: str
    normalised: str  # the response as compared (a choice's text, a shape, a number, text)
    valid: bool = True  # False: not readable as an answer; not an attempt


# -- normalising -----------------------------------------------------------------------

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": "'", "\u201d": "'", "`": "'", '"': "'",
                         "\u00b4": "'", "\u2032": "'"})


def normalise_text(text: str) -> str:
    """Text as compared: case, spaces, quotes and a final full stop do not matter."""
    s = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES).casefold().strip()
    while len(s) >= 2 and s[0] == s[-1] == "'":
        s = s[1:-1].strip()
    s = re.sub(r"\s+", " ", s)
    s = re.sub(r" ?([^\w ]) ?", r"\1", s)  # "f( x , y )" == "f(x,y)"
    if s.endswith(".") and not s.endswith(".."):
        s = s[:-1]
    if s.startswith("torch."):
        s = s[len("torch."):]
    return s


_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?"
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")


def parse_number(text: str) -> list[float]:
    """The values ``text`` may mean (``50%`` -> [0.5, 50.0]); empty when it is no number."""
    s = unicodedata.normalize("NFKC", str(text)).strip().casefold().replace("_", "").replace(" ", "")
    s = s.lstrip("~≈").rstrip(".").replace("\u2212", "-")
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    percent = s.endswith("%")
    if percent:
        s = s[:-1]
    value: float | None = None
    if re.fullmatch(_NUMBER, s):
        value = float(s)
    else:
        m = re.fullmatch(rf"({_NUMBER})/({_NUMBER})", s)
        if m and float(m.group(2)) != 0:
            value = float(m.group(1)) / float(m.group(2))
    if value is None or not math.isfinite(value):
        return []
    return [value / 100, value] if percent else [value]


_SIZE_CALL = re.compile(r"^(?:torch\.)?size\((.*)\)$")
_SHAPE_SEPARATOR = re.compile(r"\s*(?:,|x|×|\*|by)\s*|\s+")


def parse_shape(text: str, *, strict: bool = False) -> tuple[int, ...] | None:
    """``(2, 3)``, ``[2, 3]``, ``2x3``, ``torch.Size([2, 3])`` -> ``(2, 3)``; None if no shape.

    ``strict``: only text that is unmistakably a shape (brackets, ``x`` or commas), not
    a bare number; used to decide whether an author's answer is a shape at all.
    """
    s = unicodedata.normalize("NFKC", str(text)).translate(_QUOTES).casefold().strip().strip("'").strip()
    m = _SIZE_CALL.match(s)
    marked = m is not None
    if m:
        s = m.group(1).strip()
    for _ in range(2):  # Size([2, 3]) has two levels of brackets
        if len(s) >= 2 and (s[0], s[-1]) in (("(", ")"), ("[", "]")):
            s, marked = s[1:-1].strip(), True
    if not s:
        return () if marked else None
    s = s.rstrip(",").strip() if marked else s
    parts = _SHAPE_SEPARATOR.split(s)
    if not all(p.isdigit() for p in parts):
        return None
    if strict and not marked and len(parts) < 2:
        return None
    return tuple(int(p) for p in parts)


def format_shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:.10g}"


# -- grading ---------------------------------------------------------------------------


def grade(quiz: Quiz, response: Response) -> Grade:
    """Grade one response to ``quiz``; never raises for anything a learner can type."""
    if quiz.choices is not None:
        return _grade_choice(quiz, response)
    if not isinstance(response, str):
        items = list(response) if isinstance(response, (tuple, list, set, frozenset)) else [response]
        response = str(items[0]) if len(items) == 1 else ", ".join(map(str, items))
    if not response.strip():
        return Grade(False, "Type an answer first.", "", valid=False)
    if isinstance(quiz.answer, (int, float)) and not isinstance(quiz.answer, bool):
        return _grade_number(quiz, response)
    accepted = quiz.answer if isinstance(quiz.answer, tuple) else (quiz.answer,)
    return _grade_text(accepted, response)


def _resolve_choice(quiz: Quiz, item) -> str | None:
    """A choice's text from its text (exact, then normalised) or its 1-based number."""
    choices = quiz.choices or ()
    text = str(item).strip()
    if text in choices:
        return text
    wanted = normalise_text(text)
    for choice in choices:
        if normalise_text(choice) == wanted:
            return choice
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return choices[int(text) - 1]
    return None


def _picked_items(quiz: Quiz, response: Response) -> list:
    if isinstance(response, (tuple, list, set, frozenset)):
        return list(response)
    text = str(response).strip()
    if quiz.is_multiple and _resolve_choice(quiz, text) is None:
        tokens = [t for t in re.split(r"[\s,;]+", text) if t]
        if tokens and all(t.isdigit() for t in tokens):
            return tokens  # "1, 3"
        return [line for line in text.splitlines() if line.strip()]
    return [text] if text else []


def _grade_choice(quiz: Quiz, response: Response) -> Grade:
    choices = quiz.choices or ()
    items = _picked_items(quiz, response)
    if not items:
        return Grade(False, "Pick a choice first.", "", valid=False)
    picked: list[str] = []
    for item in items:
        choice = _resolve_choice(quiz, item)
        if choice is None:
            return Grade(False, f"'{item}' is not one of the choices: pick one by its number (1-{len(choices)}).",
                         str(item), valid=False)
        if choice not in picked:
            picked.append(choice)
    picked.sort(key=choices.index)
    normalised = "; ".join(picked)
    if not quiz.is_multiple:
        if len(picked) > 1:
            return Grade(False, "Pick only one choice.", normalised, valid=False)
        return Grade(picked[0] == quiz.answer, RIGHT if picked[0] == quiz.answer else WRONG, normalised)
    wanted = set(quiz.answer)
    right = len(wanted & set(picked))
    wrong = len(set(picked) - wanted)
    missing = len(wanted - set(picked))
    if not wrong and not missing:
        return Grade(True, RIGHT, normalised)
    parts = [f"{right} right"] + [f"{wrong} wrong"] * bool(wrong) + [f"{missing} missing"] * bool(missing)
    return Grade(False, f"{WRONG} Pick all the right choices and only those ({', '.join(parts)}).", normalised)


def _grade_number(quiz: Quiz, response: str) -> Grade:
    values = parse_number(response)
    if not values:
        return Grade(False, "Answer with a number, e.g. 0.25 or 1/4.", response.strip(), valid=False)
    answer = float(quiz.answer)  # type: ignore[arg-type]
    tolerance = quiz.tolerance or 0.0
    for value in values:
        if math.isclose(value, answer, rel_tol=1e-9, abs_tol=tolerance + 1e-12):
            return Grade(True, RIGHT, format_number(value))
    value = values[-1]
    feedback = WRONG
    if tolerance and abs(value - answer) <= 10 * tolerance:
        feedback = f"{WRONG} Close, but not within ±{format_number(tolerance)}."
    return Grade(False, feedback, format_number(value))


def _grade_text(accepted: Iterable[str], response: str) -> Grade:
    accepted = [str(a) for a in accepted]
    shapes = [s for s in (parse_shape(a, strict=True) for a in accepted) if s is not None]
    if shapes and len(shapes) == len(accepted):
        got = parse_shape(response)
        if got is None:
            return Grade(False, "Write a shape, e.g. (2, 3).", response.strip(), valid=False)
        if got in shapes:
            return Grade(True, RIGHT, format_shape(got))
        same_sizes = any(sorted(got) == sorted(s) for s in shapes)
        hint = " The right sizes, in another order." if same_sizes else ""
        return Grade(False, WRONG + hint, format_shape(got))
    normalised = normalise_text(response)
    for answer in accepted:
        shape = parse_shape(answer, strict=True)
        if shape is not None and parse_shape(response) == shape:
            return Grade(True, RIGHT, format_shape(shape))
        numbers = parse_number(answer)
        if numbers and any(math.isclose(v, numbers[-1], rel_tol=1e-9) for v in parse_number(response)):
            return Grade(True, RIGHT, format_number(numbers[-1]))
        if normalise_text(answer) == normalised:
            return Grade(True, RIGHT, normalised)
    return Grade(False, WRONG, normalised)


# -- showing answers -------------------------------------------------------------------


def answer_text(quiz: Quiz, response: Response) -> str:
    """A response as it is stored and shown: choices by their text, typed text as typed."""
    if quiz.choices is not None:
        result = grade(quiz, response)
        if result.valid:
            return result.normalised
    if isinstance(response, (tuple, list, set, frozenset)):
        return "; ".join(str(r) for r in response)
    return str(response).strip()


def correct_answer_text(quiz: Quiz) -> str:
    """The answer, for showing after a wrong try: ``(1, 2, 3)``, ``0.5 (±0.01)``, ``a; b``."""
    answer = quiz.answer
    if isinstance(answer, tuple):
        return "; ".join(answer) if quiz.choices is not None else " or ".join(answer)
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        tol = f" (±{format_number(quiz.tolerance)})" if quiz.tolerance else ""
        return format_number(float(answer)) + tol
    return str(answer)


# -- the lesson self-test --------------------------------------------------------------


def _other_responses(quiz: Quiz) -> list[Response]:
    """Plausible wrong answers; at least one must be rejected."""
    answer = quiz.answer
    if quiz.choices is not None:
        if not quiz.is_multiple:
            return [c for c in quiz.choices if c != answer]
        others = [c for c in quiz.choices if c not in answer]
        wrong: list[Response] = []
        if len(answer) > 1:
            wrong.append(tuple(answer[:-1]))
        if others:
            wrong.append(tuple(answer) + (others[0],))
            wrong.append((others[0],))
        return wrong
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        value = float(answer)
        return [format_number(v) for v in (0.0 if value else 1.0, value * 2 + 1, -value - 1)]
    accepted = answer if isinstance(answer, tuple) else (answer,)
    wrong = ["none of these", "0"]
    for text in accepted:
        shape = parse_shape(text, strict=True)
        if shape is not None:
            wrong += [format_shape(tuple(reversed(shape))), format_shape(shape + (1,)), format_shape(shape[1:])]
    return [w for w in wrong if w not in accepted]


def _own_responses(quiz: Quiz) -> list[Response]:
    answer = quiz.answer
    if quiz.choices is not None:
        return [answer]  # type: ignore[list-item]
    if isinstance(answer, tuple):
        return list(answer)
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        return [format_number(float(answer))]
    return [str(answer)]


def quiz_problems(quiz: Quiz) -> list[str]:
    """Why the grader would treat this quiz wrongly: its answer rejected, or nothing else
    rejected (a quiz that cannot be failed). Empty when the quiz is sound."""
    problems = []
    for own in _own_responses(quiz):
        if quiz.choices is None and not normalise_text(str(own)):
            problems.append(f"quiz '{quiz.id}': answer {own!r} is empty once quotes and spaces are dropped")
            continue
        result = grade(quiz, own)
        if not result.correct:
            problems.append(f"quiz '{quiz.id}': its own answer {own!r} is not accepted ({result.feedback})")
    others = _other_responses(quiz)
    if not any(not grade(quiz, other).correct for other in others):
        tried = ", ".join(repr(o) for o in others) or "nothing"
        problems.append(f"quiz '{quiz.id}': every other answer tried is accepted too ({tried}); "
                        "check 'answer' and 'tolerance'")
    return problems
