"""The ``tutor`` command line: argument parsing and dispatch, nothing heavy.

Each command lives in ``tutor.commands.<name>`` and is imported only when used, so
``tutor --help`` never pays for torch, textual or the lesson parser.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from tutor import __version__
from tutor.commands.options import add_course_option, add_device_options, add_remote_options
from tutor.errors import UserError

COMMANDS = {
    "list": "list the lessons of the course, with progress",
    "check": "validate lesson files (path:line: errors); --run also proves each exercise",
    "doctor": "report Python, torch, devices, paths, terminal and sandbox health",
    "run": "run a lesson headless in the sandbox; exit 0 only if every cell and check passes",
    "progress": "scores per lesson; --reset, --export FILE, --import FILE",
    "review": "list the quizzes and exercises due for review",
    "export": "write a lesson as a Jupyter notebook, with your code and outputs (-o FILE.ipynb)",
    "sessions": "lessons whose worker runs on in the background; --stop ID|all ends them",
}

DESCRIPTION = """\
Learn deep learning with PyTorch in your terminal: read short lessons, run and edit
real code, watch models train, answer quizzes and solve checked exercises.

  tutor                 open the course (home screen)
  tutor 03              open lesson 03 (a number, an id, or a path to a .md file)
  tutor COMMAND --help  help for one command
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutor",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Commands:\n" + "\n".join(f"  {name:<10} {text}" for name, text in COMMANDS.items()),
    )
    parser.add_argument("--version", action="version", version=f"tutor {__version__}")
    parser.add_argument("lesson", nargs="?", help="a lesson to open: number (03), id, or path")
    add_course_option(parser)
    add_device_options(parser)
    add_remote_options(parser)
    parser.add_argument("--no-sessions", action="store_true",
                        help="run each lesson's worker as a child of the app: nothing outlives it "
                             "(default: TUTOR_SESSIONS, on; see docs/sessions.md)")
    return parser


def build_command_parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"tutor {name}", description=COMMANDS[name])
    module = importlib.import_module(f"tutor.commands.{name}")
    module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in COMMANDS:
            name = argv.pop(0)
            args = build_command_parser(name).parse_args(argv)
            module = importlib.import_module(f"tutor.commands.{name}")
            return int(module.run(args) or 0)
        args = build_parser().parse_args(argv)
        from tutor.commands import app

        return int(app.run(args) or 0)
    except UserError as err:
        print(f"tutor: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("tutor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `tutor list | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:  # a bug of ours: one line here, details in a file
        return _report_bug(err)


def _report_bug(err: BaseException) -> int:
    detail = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    where = None
    try:
        from tutor.config import home_dir

        home = home_dir()
        home.mkdir(parents=True, exist_ok=True)
        where = home / "crash.log"
        with open(where, "a", encoding="utf-8") as log:
            log.write(detail + "\n")
    except OSError:
        pass
    if os.environ.get("TUTOR_DEBUG"):
        print(detail, file=sys.stderr)
    place = f" (details in {where})" if where else ""
    print(f"tutor: internal error: {type(err).__name__}: {err}{place}", file=sys.stderr)
    return 70


if __name__ == "__main__":
    raise SystemExit(main())
