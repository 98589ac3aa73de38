"""The command line, through its entry points: exit codes and what the user reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tutor import __version__
from tutor.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def tutor(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed console script, as a user would."""
    exe = Path(sys.executable).with_name("tutor")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "tutor"]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_version():
    out = tutor("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"tutor {__version__}"


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "tutor", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and __version__ in out.stdout


def test_help_lists_commands():
    out = tutor("--help")
    assert out.returncode == 0
    for command in ("list", "check", "doctor"):
        assert f"  {command}" in out.stdout


def test_list_shows_lessons(capsys):
    assert main(["list", "--lessons", str(FIXTURES / "course")]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["00", "First"] and "5 min" in lines[0]
    assert "first: The first lesson." in lines[1]
    assert "02-broken.md: broken (1 problem)" in err


def test_list_uses_tutor_lessons_env(monkeypatch, capsys):
    monkeypatch.setenv("TUTOR_LESSONS", str(FIXTURES / "course"))
    assert main(["list"]) == 0
    assert "Fourth" in capsys.readouterr().out


def test_check_builtin_course_is_clean():
    out = tutor("check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("OK")


def test_check_broken_fixtures_gives_one_line_per_problem():
    out = tutor("check", str(FIXTURES / "broken"))
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    problems = lines[:-1]
    assert lines[-1] == "14 problems in 12 of 12 lesson files"
    expected = {
        "01-bad-yaml.md:3:", "02-no-title.md:1:", "03-quiz-not-mapping.md:8:", "04-quiz-no-question.md:8:",
        "05-quiz-no-answer.md:8:", "06-answer-not-in-choices.md:11:", "07-orphans.md:8:", "07-orphans.md:12:",
        "07-orphans.md:16:", "08-exercise-without-check.md:8:", "09-duplicate-ids.md:14:", "10-misspelt.md:8:",
        "11-unknown-requires.md:4:", "12-duplicate-lesson-id.md:2:",
    }
    got = {Path(line.split(": ", 1)[0] + ":").name for line in problems}
    assert got == expected
    assert not out.stderr


def test_check_single_file_sees_siblings_for_requires():
    # 01-second requires 'first', which lives beside it.
    assert main(["check", str(FIXTURES / "course" / "01-second.md")]) == 0


@pytest.mark.parametrize("args, message", [
    (["check", "/no/such/path.md"], "no such file or folder: /no/such/path.md"),
    (["list", "--lessons", "/no/such/dir"], "no lesson folder at /no/such/dir"),
])
def test_user_errors_are_one_line(args, message):
    out = tutor(*args)
    assert out.returncode == 2
    assert out.stderr.strip() == f"tutor: {message}"
    assert "Traceback" not in out.stderr + out.stdout


def test_unknown_command_or_option_is_an_argparse_error():
    out = tutor("list", "--bogus")
    assert out.returncode == 2 and "unrecognized arguments: --bogus" in out.stderr
    assert "Traceback" not in out.stderr


def test_internal_error_is_one_line_and_logged(monkeypatch, capsys, tutor_home):
    import tutor.commands.list as list_command

    def boom(args):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(list_command, "run", boom)
    assert main(["list"]) == 70
    err = capsys.readouterr().err
    assert err.startswith("tutor: internal error: RuntimeError: kaboom (details in ")
    assert "kaboom" in (tutor_home / "crash.log").read_text()


def test_doctor_reports_environment(tmp_path):
    out = tutor("doctor", "--no-sandbox", env={"TUTOR_HOME": str(tmp_path)}, timeout=300)
    assert "Traceback" not in out.stderr
    text = out.stdout
    for field in ("python", "torch", "torchvision", "progress", "terminal", "colours", "lessons", "Fashion-MNIST"):
        assert field in text
    assert "sandbox" not in text.split("checks")[-1]  # --no-sandbox skips only that check
    assert str(tmp_path) in text
    assert out.returncode == 0, text


def test_doctor_checks_the_device_and_memory_limit_it_is_given(monkeypatch, capsys):
    from tutor import config
    from tutor.commands import doctor, doctor_checks

    seen = []
    monkeypatch.setattr(doctor_checks, "CHECKS", [lambda: seen.append(
        (config.device_setting(), config.memory_limit_setting())) or [("sandbox", "looked", True)]])
    monkeypatch.setattr(doctor, "probe_torch", lambda: {"torch": "2.x"})
    monkeypatch.setenv("TUTOR_DEVICE", "auto")  # so that what doctor sets is undone after the test
    monkeypatch.setenv("TUTOR_MEMORY_LIMIT", "")
    main(["doctor", "--device", "cpu", "--memory-limit", "3G"])
    assert seen == [("cpu", 3 * 2**30)] and "looked" in capsys.readouterr().out
    assert main(["doctor", "--memory-limit", "lots"]) == 2
    assert "--memory-limit: cannot read 'lots' as a size" in capsys.readouterr().err
