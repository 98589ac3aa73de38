"""Quiz grading: every way a learner may write a right answer, and wrong ones."""

from __future__ import annotations

import pytest

from tutor.grading import (
    answer_text,
    correct_answer_text,
    grade,
    normalise_text,
    parse_number,
    parse_shape,
    quiz_problems,
)
from tutor.lessons.model import Quiz
from tutor.lessons.parser import parse_text


def quiz(answer, choices=None, tolerance=None) -> Quiz:
    return Quiz(id="q", question="?", answer=answer, line=1,
                choices=tuple(choices) if choices else None, tolerance=tolerance)


def quiz_from_yaml(body: str) -> Quiz:
    result = parse_text(f"---\nid: t\ntitle: T\n---\n## S\n\n```quiz\n{body}\n```\n")
    assert result.ok, result.errors
    return result.lesson.quizzes()[0]


# -- single choice -----------------------------------------------------------------

CHOICES = ["torch.tensor([1, 2])", "torch.tensor([1.0, 2.0])", "torch.rand(2)"]


@pytest.mark.parametrize("response", ["torch.rand(2)", "3", " 3 ", "TORCH.RAND(2)", "torch.rand( 2 )",
                                      "rand(2)", ("torch.rand(2)",), {"3"}, 3])
def test_single_choice_accepts_the_answer_written_any_way(response):
    result = grade(quiz("torch.rand(2)", CHOICES), response)
    assert result.correct and result.valid
    assert result.normalised == "torch.rand(2)"


@pytest.mark.parametrize("response", ["torch.tensor([1, 2])", "1", "2"])
def test_single_choice_rejects_other_choices(response):
    result = grade(quiz("torch.rand(2)", CHOICES), response)
    assert not result.correct and result.valid
    assert result.feedback == "Not quite."


@pytest.mark.parametrize("response, message", [
    ("", "Pick a choice first."),
    ("7", "not one of the choices"),
    ("torch.zeros(2)", "not one of the choices"),
    (("1", "3"), "Pick only one choice."),
])
def test_single_choice_unreadable_responses_are_not_attempts(response, message):
    result = grade(quiz("torch.rand(2)", CHOICES), response)
    assert not result.correct and not result.valid
    assert message in result.feedback


def test_a_choice_that_looks_like_a_number_is_matched_by_its_text_first():
    q = quiz("3", ["1", "2", "3"])
    assert grade(q, "3").correct
    assert not grade(q, "1").correct


# -- multiple choice ---------------------------------------------------------------

MULTI = quiz(("torch.tensor([1.0, 2.0])", "torch.rand(2)"), CHOICES)


@pytest.mark.parametrize("response", [
    ("torch.tensor([1.0, 2.0])", "torch.rand(2)"),
    {"torch.rand(2)", "torch.tensor([1.0, 2.0])"},
    ["3", "2"],
    "2, 3",
    "3 2",
    "torch.tensor([1.0, 2.0])\ntorch.rand(2)",
    ("2", "3", "3"),
])
def test_multiple_choice_needs_exactly_the_set(response):
    result = grade(MULTI, response)
    assert result.correct, result
    assert result.normalised == "torch.tensor([1.0, 2.0]); torch.rand(2)"


@pytest.mark.parametrize("response, counts", [
    (("torch.rand(2)",), "1 right, 1 missing"),
    ("1, 2, 3", "2 right, 1 wrong"),
    ("1", "0 right, 1 wrong, 2 missing"),
])
def test_multiple_choice_wrong_sets_say_how_far_off(response, counts):
    result = grade(MULTI, response)
    assert not result.correct and result.valid
    assert counts in result.feedback


def test_multiple_choice_unknown_pick_is_not_an_attempt():
    result = grade(MULTI, ("2", "torch.ones(2)"))
    assert not result.valid and "torch.ones(2)" in result.feedback


def test_multiple_choice_from_yaml_list():
    q = quiz_from_yaml('question: Which?\nchoices: [a, b, c]\nanswer: [a, c]')
    assert q.is_multiple
    assert grade(q, {"a", "c"}).correct
    assert not grade(q, {"a"}).correct


# -- free text ---------------------------------------------------------------------


@pytest.mark.parametrize("response", ["ReLU", "relu", "  RELU ", '"relu"', "'ReLU'", "`relu`", "relu.",
                                      "\u201cReLU\u201d", "torch.relu"])
def test_free_text_ignores_case_spaces_and_quotes(response):
    assert grade(quiz("ReLU"), response).correct


@pytest.mark.parametrize("response", ["sigmoid", "relu6", "leaky relu", "re lu"])
def test_free_text_rejects_other_words(response):
    result = grade(quiz("ReLU"), response)
    assert not result.correct and result.valid


def test_free_text_accepts_any_of_a_list():
    q = quiz(("nn.Linear", "a linear layer"))
    assert grade(q, "nn.linear").correct
    assert grade(q, "A  Linear Layer").correct
    assert grade(q, "torch.nn.Linear").correct
    assert not grade(q, "nn.Conv2d").correct


def test_free_text_spaces_next_to_punctuation_do_not_count():
    q = quiz("x.reshape(2, 3)")
    assert grade(q, "x.reshape(2,3)").correct
    assert grade(q, "x . reshape( 2 , 3 )").correct
    assert not grade(q, "x.reshape(3, 2)").correct


def test_free_text_yes_and_no_stay_words():
    q = quiz_from_yaml("question: Is it?\nanswer: no")
    assert q.answer == "no"
    assert grade(q, "No").correct and not grade(q, "yes").correct


@pytest.mark.parametrize("response", ["", "   ", ()])
def test_empty_free_text_is_not_an_attempt(response):
    result = grade(quiz("ReLU"), response)
    assert not result.valid and result.feedback == "Type an answer first."


def test_numeric_text_answers_compare_as_numbers():
    q = quiz("0.5")
    assert grade(q, "0.50").correct and grade(q, "1/2").correct
    assert not grade(q, "0.6").correct


# -- shapes ------------------------------------------------------------------------


@pytest.mark.parametrize("response", ["(2, 3)", "(2,3)", "[2, 3]", "2x3", "2 x 3", "2X3", "2×3", "2 by 3",
                                      "2, 3", "torch.Size([2, 3])", "Size([2,3])", "torch.size([2, 3])",
                                      "'(2, 3)'", "(2, 3,)", "2 3"])
def test_shapes_written_any_common_way_are_equal(response):
    result = grade(quiz("(2, 3)"), response)
    assert result.correct, response
    assert result.normalised == "(2, 3)"


@pytest.mark.parametrize("answer", ["(2, 3)", "[2, 3]", "2x3", "torch.Size([2, 3])"])
def test_the_author_may_write_the_shape_any_way_too(answer):
    assert grade(quiz(answer), "(2, 3)").correct
    assert not grade(quiz(answer), "(3, 2)").correct


def test_reversed_shape_is_wrong_with_a_hint():
    result = grade(quiz("(2, 3)"), "(3, 2)")
    assert not result.correct and result.valid
    assert "another order" in result.feedback


@pytest.mark.parametrize("response", ["(2, 3, 1)", "(6,)", "(2,)", "()", "[[2, 3]]x"])
def test_other_shapes_are_wrong(response):
    assert not grade(quiz("(2, 3)"), response).correct


def test_not_a_shape_is_not_an_attempt():
    result = grade(quiz("(2, 3)"), "two by three")
    assert not result.valid and "(2, 3)" in result.feedback


def test_one_dimensional_and_scalar_shapes():
    assert grade(quiz("(6,)"), "6").correct
    assert grade(quiz("(6,)"), "torch.Size([6])").correct
    assert grade(quiz("(6,)"), "(6)").correct
    assert grade(quiz("torch.Size([])"), "()").correct
    assert not grade(quiz("()"), "(1,)").correct


def test_shape_from_yaml_with_a_list_of_shapes():
    q = quiz_from_yaml("question: Shape?\nanswer: ['(1, 2, 3)', '[1, 2, 3]']")
    assert grade(q, "1x2x3").correct


@pytest.mark.parametrize("text, shape", [
    ("(2, 3)", (2, 3)), ("torch.Size([])", ()), ("()", ()), ("[7]", (7,)), ("7", (7,)),
    ("(1, 2, 3)", (1, 2, 3)), ("hello", None), ("(2, -3)", None), ("(2, 3", None), ("", None),
])
def test_parse_shape(text, shape):
    assert parse_shape(text) == shape


def test_strict_shapes_need_brackets_or_separators():
    assert parse_shape("7", strict=True) is None
    assert parse_shape("7x1", strict=True) == (7, 1)


# -- numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("response", ["0.25", ".25", "0.250", "1/4", "2.5e-1", "25%", " 0.25 ", "+0.25", "~0.25"])
def test_numbers_written_any_way(response):
    assert grade(quiz(0.25), response).correct


@pytest.mark.parametrize("response", ["0.26", "-0.25", "4", "0.2"])
def test_numbers_exact_without_tolerance(response):
    result = grade(quiz(0.25), response)
    assert not result.correct and result.valid


def test_float_rounding_is_not_a_mistake():
    assert grade(quiz(0.3), str(0.1 + 0.2)).correct


def test_numbers_within_tolerance():
    q = quiz(3.14159, tolerance=0.01)
    assert grade(q, "3.14").correct and grade(q, "3.15").correct
    wrong = grade(q, "3.2")
    assert not wrong.correct and "Close" in wrong.feedback and "±0.01" in wrong.feedback
    far = grade(q, "42")
    assert not far.correct and "Close" not in far.feedback


def test_integers_and_thousands():
    q = quiz(1000)
    assert grade(q, "1000").correct and grade(q, "1,000").correct and grade(q, "1_000").correct
    assert grade(q, "1e3").correct
    assert not grade(q, "999").correct


def test_percent_means_either_a_fraction_or_a_percentage():
    assert grade(quiz(50), "50%").correct
    assert grade(quiz(0.5), "50%").correct


@pytest.mark.parametrize("response", ["abc", "one", "1/0", "nan", "inf", "(2, 3)"])
def test_not_a_number_is_not_an_attempt(response):
    result = grade(quiz(0.25), response)
    assert not result.valid and "number" in result.feedback


def test_parse_number():
    assert parse_number("1/4") == [0.25]
    assert parse_number("50%") == [0.5, 50.0]
    assert parse_number("\u22122") == [-2.0]
    assert parse_number("x") == []


def test_normalise_text():
    assert normalise_text("  Hello,   World. ") == "hello,world"
    assert normalise_text("\u2018x\u2019") == "x"
    assert normalise_text("torch.float32") == "float32"


# -- showing answers ---------------------------------------------------------------


def test_answer_text_keeps_what_the_learner_typed_or_the_choice_texts():
    assert answer_text(quiz("ReLU"), "  Relu ") == "Relu"
    assert answer_text(MULTI, "3, 2") == "torch.tensor([1.0, 2.0]); torch.rand(2)"
    assert answer_text(quiz("a", ["a", "b"]), "1") == "a"
    assert answer_text(quiz("a", ["a", "b"]), "zzz") == "zzz"


def test_correct_answer_text():
    assert correct_answer_text(quiz("(1, 2, 3)")) == "(1, 2, 3)"
    assert correct_answer_text(quiz(0.5, tolerance=0.01)) == "0.5 (±0.01)"
    assert correct_answer_text(quiz(3)) == "3"
    assert correct_answer_text(MULTI) == "torch.tensor([1.0, 2.0]); torch.rand(2)"
    assert correct_answer_text(quiz(("relu", "ReLU()"))) == "relu or ReLU()"


# -- the self-test ------------------------------------------------------------------


@pytest.mark.parametrize("q", [
    quiz("(1, 2, 3)"), quiz("ReLU"), quiz(("a", "b")), quiz(0.5, tolerance=0.01), quiz(0),
    quiz("a", ["a", "b"]), MULTI, quiz(("a",), ["a", "b"]), quiz("(7,)"),
])
def test_sound_quizzes_have_no_problems(q):
    assert quiz_problems(q) == []


def test_a_quiz_that_accepts_everything_is_reported():
    problems = quiz_problems(quiz(0.5, tolerance=1000))
    assert len(problems) == 1 and "every other answer" in problems[0]


def test_a_quiz_whose_answer_is_rejected_is_reported():
    problems = quiz_problems(quiz("z", ["a", "b"]))  # the parser forbids it; the model does not
    assert any("own answer 'z' is not accepted" in p for p in problems)


def test_an_answer_that_is_only_quotes_is_reported():
    problems = quiz_problems(quiz("``"))
    assert any("empty once quotes" in p for p in problems)
