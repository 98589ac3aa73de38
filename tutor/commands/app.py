"""``tutor [LESSON]``: open the course in the terminal app."""

from __future__ import annotations

from tutor.commands import list as list_command


def run(args) -> int:
    # Until the terminal app lands, the front door lists the course.
    return list_command.run(args)
