"""The wheel carries the course: a non-editable install finds lessons and assets."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling", reason="hatchling builds the wheel (test extra)")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(out), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (path,) = out.glob("*.whl")
    return path


def test_wheel_ships_lessons_and_assets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    shipped_lessons = {Path(n).name for n in names if n.startswith("tutor/_course/lessons/")}
    course = {p.name for p in (REPO / "lessons").glob("*.md")} | {p.name for p in (REPO / "lessons").glob("*.curves.json")}
    assert shipped_lessons == course  # the lessons and their reference curves (the ghosts)
    repo_assets = {str(p.relative_to(REPO / "assets")) for p in (REPO / "assets").rglob("*") if p.is_file()}
    shipped_assets = {n.removeprefix("tutor/_course/assets/") for n in names if n.startswith("tutor/_course/assets/")}
    assert repo_assets <= shipped_assets


def test_installed_wheel_uses_its_own_course(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)],
                   check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = ("import tutor, tutor.config as c; from tutor.lessons import load_catalog;"
            "print(tutor.__file__); print(c.builtin_lessons_dir());"
            "print(len(load_catalog(c.builtin_lessons_dir()).lessons))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    module_file, lessons_dir, count = out.stdout.split()
    assert module_file.startswith(str(target))
    assert lessons_dir == str(target / "tutor" / "_course" / "lessons")
    assert int(count) == len(list((REPO / "lessons").glob("*.md")))
