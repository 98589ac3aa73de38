"""``tutor run LESSON|PATH``: run a lesson headless in the sandbox, cell by cell.

Prints each cell's output as it comes, the tutor's training-loop advice as
``advice: path:line: ...`` lines, and its charts (as text) when it ends; exits 0 only
if every cell and check passed, else names each failure as ``path:line: why``.
"""

from __future__ import annotations

import asyncio
import sys

from tutor import config
from tutor.commands.common import add_course_option, find_lesson, open_catalog
from tutor.commands.options import (
    add_device_options, add_perturb_option, add_remote_options, add_timeout_option, remote_setting,
    session_idle_timeout,
)
from tutor.errors import UserError


def add_arguments(parser) -> None:
    parser.add_argument("lesson", help="a lesson: number (03), id, or path to a .md file")
    parser.add_argument("--solutions", action="store_true", help="run each exercise's solution instead of its starter")
    parser.add_argument("--selftest", action="store_true",
                        help="prove each exercise: its starter must fail the check, its solution pass")
    add_timeout_option(parser)
    add_device_options(parser)
    add_perturb_option(parser)
    add_course_option(parser)
    add_remote_options(parser)
    parser.add_argument("--quiet", action="store_true", help="print only failures and the summary")


class Printer:
    """Prints the run as it goes (sandbox and runner events). Worker text arrives
    sanitised (only SGR colours are left in output); with no terminal to colour, those
    go too, so a log file holds no escape sequence at all."""

    def __init__(self, quiet: bool) -> None:
        from tutor.sandbox.sanitize import strip_colours

        self.quiet = quiet
        self.at_line_start = True
        self.last_link: str | None = None
        self.check_heading = ""  # written before a check's first output, if it prints any
        self.plain = None if sys.stdout.isatty() else strip_colours

    def write(self, text: str) -> None:
        if not text:
            return
        if self.plain is not None:
            text = self.plain(text)
        sys.stdout.write(text)
        sys.stdout.flush()
        self.at_line_start = text.endswith("\n")

    def newline(self) -> None:
        if not self.at_line_start:
            self.write("\n")

    def __call__(self, event) -> None:
        from tutor.runner import AdviceNoted, BlockFinished, BlockStarted, CheckStarted
        from tutor.sandbox.events import OutputCapped, OutputStreamed, WorkerState, WorkerStateChanged

        from tutor.sessions.events import LinkChanged

        if isinstance(event, WorkerStateChanged):
            if event.state in (WorkerState.RESTARTING, WorkerState.CRASHED) and event.reason:
                self.newline()
                self.write(f"[worker] {event.reason}\n")
            elif event.state is WorkerState.READY and event.reason:
                self.write(f"[worker] {event.reason}\n")
            return
        if isinstance(event, LinkChanged):
            self.link(event)
            return
        if self.quiet:
            if isinstance(event, BlockFinished) and not event.result.ok:
                self.write(describe(event.result) + "\n")
            return
        if isinstance(event, CheckStarted):
            self.check_heading = f"── check of {event.block_id} ({event.location})\n"
            return
        if isinstance(event, (OutputStreamed, OutputCapped, BlockStarted, BlockFinished)) and self.check_heading:
            if isinstance(event, (OutputStreamed, OutputCapped)):
                self.newline()
                self.write(self.check_heading)
            self.check_heading = ""
        if isinstance(event, BlockStarted):
            self.newline()
            self.write(f"── {event.kind} {event.block_id} ({event.location})\n")
        elif isinstance(event, AdviceNoted):
            self.newline()
            self.write(f"advice: {event.text}\n")
        elif isinstance(event, OutputStreamed):
            self.write(event.text)
        elif isinstance(event, OutputCapped):
            self.newline()
            self.write(f"… {event.dropped_lines} lines ({event.dropped_bytes} bytes) not shown …\n")
        elif isinstance(event, BlockFinished):
            self.newline()
            for chart in event.result.charts:
                self.write(chart + "\n")
            mark = "ok" if event.result.ok else "FAILED"
            detail = f": {event.result.message}" if event.result.message else ""
            self.write(f"   {mark}{detail}\n")


    def link(self, event) -> None:
        """Only what changes the picture: the link lost (the cells go on over there)
        and found again (the missed output follows)."""
        if event.state == "reconnecting" and event.reason and event.reason != self.last_link:
            self.newline()
            self.write(f"[link] {event.reason}\n")
            self.last_link = event.reason
        elif event.state == "attached" and self.last_link is not None:
            self.write(f"[link] reconnected to {event.where}; what was missed follows\n")
            self.last_link = None


def describe(result) -> str:
    from tutor.runner import describe_failure

    return describe_failure(result)


def run(args) -> int:
    from tutor.runner import run_lesson

    if args.solutions and args.selftest:
        raise UserError("choose one of --solutions and --selftest")
    try:
        device = config.device_setting(args.device)
        memory_limit = config.memory_limit_setting(args.memory_limit)
    except ValueError as err:
        raise UserError(str(err)) from None
    if args.timeout < 0:
        raise UserError("--timeout must be 0 (no limit) or a number of seconds")
    lesson = find_lesson(open_catalog(args.lessons), args.lesson)
    mode = "selftest" if args.selftest else "solutions" if args.solutions else "starters"
    mode_words = f"{mode}, perturbed by {args.perturb}" if args.perturb else mode
    printer = Printer(args.quiet)
    remote = remote_setting(args)
    if remote is None:
        lesson_run = asyncio.run(run_lesson(lesson, mode=mode, timeout=args.timeout or None, device=device,
                                            memory_limit=memory_limit, on_event=printer, perturb=args.perturb))
    else:
        lesson_run = asyncio.run(run_remote(lesson, remote, mode=mode, timeout=args.timeout or None,
                                            device=device, memory_limit=memory_limit, on_event=printer,
                                            idle_timeout=session_idle_timeout(),
                                            perturb=args.perturb))
    printer.newline()
    failures = lesson_run.failures
    total = len(lesson_run.results)
    if not failures:
        print(f"{lesson.id}: all {total} passed ({mode_words})")
        return 0
    print(f"{lesson.id}: {len(failures)} of {total} failed ({mode_words}):")
    for result in failures:
        print("  " + describe(result))
    return 1


async def run_remote(lesson, remote, *, mode: str, timeout: float | None, device: str, memory_limit: int | None,
                     on_event, perturb: int, idle_timeout: float | None = None):
    """The same run in a session of its own on ``remote`` (ended afterwards): a dropped
    link is reconnected and the missed output printed, the cells go on meanwhile."""
    import os

    from tutor.runner import run_lesson
    from tutor.sessions.connect import host_options, session_client

    options = host_options(lesson, device=device, memory_limit=memory_limit, perturb=perturb,
                           session_id=f"run-{lesson.id}-{os.getpid()}", idle_timeout=idle_timeout)
    client = session_client(options, remote=remote.destination, ssh_command=remote.ssh_command,
                            remote_python=remote.python, on_event=on_event)
    try:
        failure = await client.wait_attached()
        if failure is not None:
            raise UserError(failure)
        return await run_lesson(lesson, mode=mode, timeout=timeout, on_event=on_event, client=client)
    finally:
        await client.shutdown()
