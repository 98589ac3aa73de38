"""``tutor check [PATH ...]``: validate lesson files; exit 1 with ``path:line:`` errors."""

from __future__ import annotations

from pathlib import Path

from tutor import config
from tutor.errors import UserError
from tutor.lessons.catalog import check_paths, lesson_files


def add_arguments(parser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="lesson files or folders (default: the course in use)")
    parser.add_argument("--lessons", metavar="DIR", help="the course to check when no PATH is given")


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


def run(args) -> int:
    files = collect(args.paths, args.lessons)
    results = check_paths(files)
    problems = 0
    for result in results:
        for error in result.errors:
            print(error)
            problems += 1
    bad = sum(1 for r in results if r.errors)
    if problems:
        print(f"{problems} problem{'s' * (problems != 1)} in {bad} of {len(results)} lesson file{'s' * (len(results) != 1)}")
        return 1
    print(f"{len(results)} lesson file{'s' * (len(results) != 1)} OK")
    return 0
