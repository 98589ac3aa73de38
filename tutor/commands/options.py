"""Command-line options that several commands share. Imports nothing heavy: the
top-level parser uses them for ``tutor --help``."""

from __future__ import annotations

from dataclasses import dataclass

from tutor.config import DEVICES

DEFAULT_CELL_TIMEOUT = 300.0


def add_course_option(parser) -> None:
    parser.add_argument("--lessons", metavar="DIR", help="use the course in DIR instead of the built-in one")


def add_device_options(parser, *, memory: bool = True, prefix: str = "") -> None:
    """``--device`` (and ``--memory-limit``); ``prefix`` says when they apply, e.g. "with --run: "."""
    parser.add_argument("--device", choices=DEVICES, default=None,
                        help=f"{prefix}where learner code runs (default: auto = CUDA, then MPS, then CPU)")
    if memory:
        parser.add_argument("--memory-limit", metavar="SIZE", default=None,
                            help=f"{prefix}stop learner code that uses more memory than this, e.g. 4G "
                                 "(default: from RAM)")


def add_timeout_option(parser, *, prefix: str = "") -> None:
    parser.add_argument("--timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="S",
                        help=f"{prefix}stop a cell after S seconds (default {DEFAULT_CELL_TIMEOUT:g}; 0 = no limit)")


def add_perturb_option(parser, *, prefix: str = "") -> None:
    parser.add_argument("--perturb", type=int, default=0, metavar="K",
                        help=f"{prefix}shift every torch seed by K and use another CPU thread count, to find "
                             "claims that hold only by luck (a GPU's numerics differ too)")


def add_remote_options(parser) -> None:
    """``--remote [user@]host`` (or TUTOR_REMOTE), ``--ssh-command``, ``--remote-python``."""
    parser.add_argument("--remote", metavar="[USER@]HOST", default=None,
                        help="run learner code on HOST through your ssh (keys, agent, ProxyJump and "
                             "ControlMaster from ~/.ssh/config); default: TUTOR_REMOTE")
    parser.add_argument("--ssh-command", metavar="CMD", default=None,
                        help="the ssh to run, with options (default: TUTOR_SSH_COMMAND, else ssh)")
    parser.add_argument("--remote-python", metavar="CMD", default=None,
                        help="how to start Python on HOST, e.g. ~/venv/bin/python "
                             "(default: TUTOR_REMOTE_PYTHON, else python3)")


@dataclass(frozen=True)
class RemoteSetting:
    destination: str
    ssh_command: str | None
    python: str | None


def session_idle_timeout() -> float:
    """Seconds an idle session host waits for an app (TUTOR_SESSION_IDLE, else an hour);
    a value that is not a positive number of seconds is one line, before anything starts."""
    from tutor.config import session_idle_setting
    from tutor.errors import UserError

    try:
        return session_idle_setting()
    except ValueError as err:
        raise UserError(str(err)) from None


def remote_setting(args) -> RemoteSetting | None:
    """The remote machine the options (or TUTOR_REMOTE) name, or None for this one."""
    import os

    from tutor.errors import UserError

    destination = getattr(args, "remote", None) or os.environ.get("TUTOR_REMOTE") or None
    if destination is None:
        if getattr(args, "ssh_command", None) or getattr(args, "remote_python", None):
            raise UserError("--ssh-command and --remote-python only apply with --remote HOST")
        return None
    destination = destination.strip()
    if not destination or destination.startswith("-") or any(c.isspace() for c in destination):
        raise UserError(f"--remote wants a host as ssh takes it ([user@]host), not {destination!r}")
    return RemoteSetting(destination, args.ssh_command, args.remote_python)
