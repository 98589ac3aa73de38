"""``tutor check [PATH ...]``: validate lesson files; exit 1 with ``path:line:`` errors.

Every quiz is also graded against itself: its answer must be accepted and some other
answer rejected. ``--run`` (the lesson self-test, for authors) also runs each lesson in
the sandbox: every exercise's starter must fail its check and its solution pass.
"""

from __future__ import annotations

import time
from pathlib import Path

from tutor import config
from tutor.errors import UserError
from tutor.commands.options import add_device_options, add_perturb_option, add_timeout_option
from tutor.lessons.catalog import check_paths, lesson_files


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="lesson files or folders (default: the course in use)")
    parser.add_argument("--lessons", metavar="DIR", help="the course to check when no PATH is given")
    parser.add_argument("--run", action="store_true",
                        help="also run each lesson: every starter must fail its check, every solution pass")
    parser.add_argument("--record-curves", action="store_true",
                        help="run each lesson's solutions and save the curves its training cells draw "
                             "(NN-name.curves.json beside it), drawn faintly behind the learner's; "
                             "with --run, from the same run")
    add_timeout_option(parser, prefix="with --run: ")
    add_device_options(parser, memory=False, prefix="with --run: ")
    add_perturb_option(parser, prefix="with --run: ")


def collect(paths: list[str], lessons_option: str | None) -> list[Path]:
    if not paths:
        paths = [str(config.lessons_dir(lessons_option))]
    files: list[Path] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            found = lesson_files(path)
            if not found:
                raise UserError(f"no lesson files (*.md) in {path}")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"no such file or folder: {path}")
    return files


def quiz_errors(lesson) -> list[str]:
    """``path:line: quiz ...`` for each quiz the grader would treat wrongly."""
    from tutor.grading import quiz_problems

    return [f"{lesson.path}:{quiz.line}: {problem}" for quiz in lesson.quizzes() for problem in quiz_problems(quiz)]


def curve_errors(lesson) -> list[str]:
    """``path:line: ...`` for reference curves that do not fit the lesson (stale, unknown cell)."""
    from tutor import curves

    try:
        found = curves.load(lesson.path)
    except curves.CurvesError as err:
        return [f"{lesson.path}:1: {err}"]
    if found is None:
        return []
    return [f"{lesson.path}:{line}: {message}" for line, message in curves.problems(lesson, found)]


def _recording(recorder):
    """An ``on_event`` for ``run_lesson`` that feeds ``recorder`` (a curves.Recorder)."""
    from tutor.runner import BlockStarted
    from tutor.sandbox.events import MetricsLogged, WorkerStateChanged

    def on_event(event) -> None:
        if isinstance(event, BlockStarted):
            recorder.block_started(event.block_id, event.kind)
        elif isinstance(event, MetricsLogged):
            recorder.metrics(event.points)
        elif isinstance(event, WorkerStateChanged) and event.info is not None:
            recorder.worker_ready(event.info.device, event.info.device_name, event.info.torch_version)

    return on_event


def _save_curves(lesson, recorder, started: float) -> None:
    from tutor import curves
    from tutor.progress import write_atomically

    found = recorder.curves(lesson)
    path = curves.sidecar_path(lesson.path)
    write_atomically(path, curves.to_json(found))
    print(f"recorded {path.name}: {len(found.curves)} training cells on {found.label} "
          f"({time.monotonic() - started:.1f} s)", flush=True)


def record_curves(lesson, timeout: float, device: str) -> list[str]:
    """Run the lesson's solutions and save the curves of its training cells; the
    failures (nothing is saved then) as ``path:line: why``."""
    import asyncio

    from tutor import curves
    from tutor.runner import describe_failure, run_lesson

    recorder = curves.Recorder()
    started = time.monotonic()
    try:
        lesson_run = asyncio.run(run_lesson(lesson, mode="solutions", timeout=timeout or None, device=device,
                                            on_event=_recording(recorder)))
    except Exception as err:
        return [f"{lesson.path}:1: the sandbox could not run this lesson: {type(err).__name__}: {err}"]
    if lesson_run.failures:
        return [describe_failure(result) for result in lesson_run.failures]
    _save_curves(lesson, recorder, started)
    return []


def selftest_errors(lesson, timeout: float, device: str, perturb: int = 0, *, record: bool = False) -> list[str]:
    """Run the lesson in the sandbox (selftest mode); ``path:line: why`` per failure.
    ``record``: also save the curves of its training cells (the solutions' runs) when
    every block passed: one run of the lesson for both."""
    import asyncio

    from tutor import curves
    from tutor.runner import describe_failure, run_lesson

    recorder = curves.Recorder() if record else None
    started = time.monotonic()
    try:
        lesson_run = asyncio.run(run_lesson(lesson, mode="selftest", timeout=timeout or None, device=device,
                                            perturb=perturb, on_event=_recording(recorder) if recorder else None))
    except Exception as err:  # the sandbox itself failed: report it, go on with the others
        return [f"{lesson.path}:1: the sandbox could not run this lesson: {type(err).__name__}: {err}"]
    seconds = time.monotonic() - started
    failures = lesson_run.failures
    exercises = len(lesson.exercises())
    verdict = "ok" if not failures else f"{len(failures)} failed"
    print(f"ran {lesson.path.name}: {len(lesson_run.results)} blocks, {exercises} exercise"
          f"{'s' * (exercises != 1)}, {verdict} ({seconds:.1f} s)", flush=True)
    if recorder is not None and not failures:
        _save_curves(lesson, recorder, started)
    return [describe_failure(result) for result in failures]


def run(args) -> int:
    if args.timeout < 0:
        raise UserError("--timeout must be 0 (no limit) or a number of seconds")
    try:
        device = config.device_setting(args.device)
    except ValueError as err:
        raise UserError(str(err)) from None
    files = collect(args.paths, args.lessons)
    results = check_paths(files)
    bad: set[Path] = set()
    problems = 0

    def report(path: Path, lines: list) -> None:
        nonlocal problems
        for line in lines:
            print(line, flush=True)
        problems += len(lines)
        if lines:
            bad.add(path)

    if args.record_curves and args.perturb:
        raise UserError("--record-curves records the lesson's own runs: leave out --perturb")
    if args.record_curves:  # before the checks below, which look at the curves written
        for result in results:
            if result.ok and args.run:  # one run proves the exercises and records
                report(result.path, selftest_errors(result.lesson, args.timeout, device, record=True))
            elif result.ok:
                report(result.path, record_curves(result.lesson, args.timeout, device))
    for result in results:
        report(result.path, list(result.errors))
        if result.ok:
            report(result.path, quiz_errors(result.lesson))
            report(result.path, curve_errors(result.lesson))
    if args.run and not args.record_curves:
        for result in results:
            if result.ok:
                report(result.path, selftest_errors(result.lesson, args.timeout, device, args.perturb))
    count = f"{len(results)} lesson file{'s' * (len(results) != 1)}"
    if problems:
        print(f"{problems} problem{'s' * (problems != 1)} in {len(bad)} of {count}")
        return 1
    proven = " (every starter fails its check, every solution passes)" if args.run else ""
    print(f"{count} OK{proven}")
    return 0
