"""``tutor [LESSON]``: open the course (home screen), or one lesson, in the terminal app.

Everything that can go wrong with the arguments (an unknown lesson, a bad device or
memory limit, no terminal) is one clear line before the app starts.
"""

from __future__ import annotations

import sys

from tutor import config
from tutor.commands.common import find_lesson
from tutor.commands.options import remote_setting, session_idle_timeout
from tutor.errors import UserError
from tutor.lessons import LessonNotFound


def run(args) -> int:
    from tutor.course_cache import open_course  # parsed lessons, cached; else an outline at first

    try:
        course = open_course(config.lessons_dir(args.lessons))
    except LessonNotFound as err:
        raise UserError(str(err)) from None
    # The home screen draws from the outline; a lesson asked for is opened parsed.
    catalog = course.parsed() if args.lesson else course.now
    lesson = find_lesson(catalog, args.lesson) if args.lesson else None
    try:
        device = config.device_setting(args.device)
        memory_limit = config.memory_limit_setting(args.memory_limit)
    except ValueError as err:
        raise UserError(str(err)) from None
    remote = remote_setting(args)
    idle_timeout = session_idle_timeout()
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError("the tutor needs a terminal (stdin and stdout are not one); "
                        "try 'tutor list' or 'tutor run LESSON' instead")
    from tutor.ui.app import run_app  # textual only now
    from tutor.ui.session_keeper import SessionSettings, sessions_setting

    settings = SessionSettings(enabled=sessions_setting(False if args.no_sessions else None),
                               remote=remote.destination if remote else None,
                               ssh_command=remote.ssh_command if remote else None,
                               remote_python=remote.python if remote else None, idle_timeout=idle_timeout)
    if remote and args.no_sessions:
        raise UserError("--remote runs the worker in a session on the remote machine: drop --no-sessions")
    return run_app(catalog, lesson=lesson, device=device, memory_limit=memory_limit, settings=settings,
                   parse_course=None if course.ready else course.parsed)
