"""The parsed course is cached as JSON, and parsed again when anything changes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tutor import config, course_cache
from tutor.lessons import load_catalog
from tutor.course_cache import cache_path, load_cached_catalog

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


def test_a_damaged_cache_is_ignored(tutor_home):
    root = UI_COURSE
    path = cache_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    assert load_cached_catalog(root).find("basics")
    assert path.read_text().startswith("{\"fingerprint\"")


def test_the_app_starts_from_the_cache_without_the_parser(tutor_home):
    """The parser's dependencies (markdown-it, YAML) cost a start-up of the app some 50 ms:
    with the course cached, opening the app loads neither."""
    import json
    import subprocess
    import sys

    load_cached_catalog(config.builtin_lessons_dir())  # the cache is written
    probe = ("import json, sys\nfrom tutor import config\nfrom tutor.course_cache import load_cached_catalog\n"
             "import tutor.ui.app, tutor.ui.screens.home\n"
             "assert load_cached_catalog(config.builtin_lessons_dir()).lessons\n"
             "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert not loaded & {"yaml", "markdown_it", "tutor.lessons.parser"}
