"""The parsed course is cached as JSON, and parsed again when anything changes."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from tutor import config, course_cache
from tutor.lessons import load_catalog
from tutor.course_cache import cache_path, load_cached_catalog, open_course
from tutor.lessons.outline import CourseOutline

UI_COURSE = Path(__file__).parents[1] / "ui" / "course"  # the small course of the UI tests


def test_the_cached_course_equals_the_parsed_one(tutor_home):
    root = config.builtin_lessons_dir()
    first = load_cached_catalog(root)
    assert cache_path(root).exists()
    again = load_cached_catalog(root)
    assert again == first == load_catalog(root)


def test_the_cache_is_used_when_nothing_changed(tutor_home, monkeypatch):
    root = UI_COURSE
    load_cached_catalog(root)
    monkeypatch.setattr(course_cache, "load_catalog", lambda r: (_ for _ in ()).throw(AssertionError("parsed")))
    assert load_cached_catalog(root).lessons


def test_an_edited_lesson_is_parsed_again(tutor_home, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(UI_COURSE, root)
    assert load_cached_catalog(root).find("basics").title == "Basics"
    lesson = root / "00-basics.md"
    lesson.write_text(lesson.read_text().replace("title: Basics", "title: Changed"))
    os.utime(lesson, ns=(lesson.stat().st_atime_ns, lesson.stat().st_mtime_ns + 10**9))
    assert load_cached_catalog(root).find("basics").title == "Changed"


def test_a_first_start_gets_the_outline_and_the_parse_is_cached_once(tutor_home, monkeypatch):
    root = config.builtin_lessons_dir()
    course = open_course(root)
    assert isinstance(course.now, CourseOutline) and not course.ready
    assert not cache_path(root).exists(), "nothing parsed yet"
    assert [l.id for l in course.now.lessons] == [l.id for l in load_catalog(root).lessons]
    parses = []
    real = course_cache.load_catalog
    monkeypatch.setattr(course_cache, "load_catalog", lambda r: parses.append(r) or real(r))
    results = []
    threads = [threading.Thread(target=lambda: results.append(course.parsed())) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(parses) == 1 and course.ready, "parsed once, however many threads asked"
    assert all(r is results[0] for r in results) and results[0] == load_catalog(root)
    again = open_course(root)
    assert again.ready and again.now == results[0], "the next start comes from the cache"


def test_a_changed_lesson_makes_the_next_start_a_first_start(tutor_home, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(UI_COURSE, root)
    open_course(root).parsed()
    assert open_course(root).ready
    lesson = root / "00-basics.md"
    lesson.write_text(lesson.read_text().replace("## Printing", "## Printing things"))
    os.utime(lesson, ns=(lesson.stat().st_atime_ns, lesson.stat().st_mtime_ns + 10**9))
    course = open_course(root)
    assert not course.ready and course.now.find("basics").steps[0].title == "Printing things"
    assert course.parsed().find("basics").steps[0].title == "Printing things"


def test_a_damaged_cache_is_ignored(tutor_home):
    root = UI_COURSE
    path = cache_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert load_cached_catalog(root).find("basics")
    assert path.read_text().startswith("{\"fingerprint\"")


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "first start"])
def test_the_app_starts_without_the_parser(tutor_home, cached):
    """The parser's dependencies (markdown-it, YAML) cost a start-up of the app some 50 ms:
    opening the app loads neither, from the cache or (a first start) from the outline."""
    import json
    import subprocess
    import sys

    if cached:
        load_cached_catalog(config.builtin_lessons_dir())  # the cache is written
    probe = ("import json, sys\nfrom tutor import config\nfrom tutor.course_cache import open_course\n"
             "import tutor.ui.app, tutor.ui.screens.home\n"
             "course = open_course(config.builtin_lessons_dir())\n"
             f"assert course.now.lessons and course.ready is {cached}\n"
             "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & {"yaml", "markdown_it", "tutor.lessons.parser"}
