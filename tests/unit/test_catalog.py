"""The catalog: order, lookup, and broken lessons that never stop the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lessons import LessonNotFound, load_catalog

COURSE = Path(__file__).resolve().parent.parent / "fixtures" / "course"
BUILTIN = Path(__file__).resolve().parents[2] / "lessons"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(COURSE)


def test_order_by_prefix_then_requires(catalog):
    # 03-a-third requires fourth (03-b-fourth), so fourth comes first despite its name.
    assert [l.id for l in catalog.lessons] == ["first", "second", "fourth", "third"]


def test_broken_lesson_is_reported_and_others_load(catalog):
    assert [r.path.name for r in catalog.broken] == ["02-broken.md"]
    (error,) = catalog.errors
    assert (error.line, error.message) == (8, "quiz has no 'answer'")
    assert len(catalog.lessons) == 4


def test_readme_is_not_a_lesson(catalog):
    assert all(r.path.name != "README.md" for r in catalog.results)


@pytest.mark.parametrize("key, lesson_id", [
    ("00", "first"), ("0", "first"), ("1", "second"), ("first", "first"),
    ("01-second.md", "second"), ("01-second", "second"), ("fourth", "fourth"),
])
def test_find_by_number_id_or_file_name(catalog, key, lesson_id):
    assert catalog.find(key).id == lesson_id


def test_find_by_path(catalog, tmp_path):
    assert catalog.find(str(COURSE / "00-first.md")).id == "first"


def test_find_unknown_lists_what_exists(catalog):
    with pytest.raises(LessonNotFound) as err:
        catalog.find("99")
    assert "no lesson '99'" in str(err.value) and "00 first" in str(err.value)


def test_find_broken_lesson_says_why(catalog):
    with pytest.raises(LessonNotFound) as err:
        catalog.find("broken")
    assert "02-broken.md:8: quiz has no 'answer'" in str(err.value)


def test_ambiguous_number_asks_for_the_id(catalog):
    with pytest.raises(LessonNotFound) as err:
        catalog.find("03")
    assert "ambiguous" in str(err.value) and "fourth" in str(err.value) and "third" in str(err.value)


def test_missing_folder():
    with pytest.raises(LessonNotFound):
        load_catalog(Path("/no/such/folder"))


def test_builtin_course_loads_without_errors():
    catalog = load_catalog(BUILTIN)
    assert catalog.errors == ()
    assert catalog.lessons and catalog.lessons[0].id == "fundamentals"
    numbers = [int(l.number) for l in catalog.lessons]
    assert numbers == sorted(numbers)


def test_by_id_gives_a_usable_lesson_or_none_and_its_name_has_its_number(catalog):
    first = catalog.lessons[0]
    assert catalog.by_id(first.id) is first
    assert catalog.by_id("no-such-lesson") is None and catalog.by_id(None) is None
    assert first.name == (f"{first.number} {first.title}" if first.number else first.title)
