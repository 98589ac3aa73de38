"""``tutor sessions [--stop ID|all] [--remote HOST]``: the lessons whose worker runs on
in the background (a session host each), here or on a remote machine, and ending them.
"""

from __future__ import annotations

import json

from tutor.commands.options import add_remote_options, remote_setting
from tutor.errors import UserError


def add_arguments(parser) -> None:
    parser.add_argument("--stop", metavar="ID", help="end the session of lesson ID (or 'all'): its worker, "
                                                      "what runs in it, and its variables")
    parser.add_argument("--json", action="store_true", help="print the sessions as JSON")
    add_remote_options(parser)


def run(args) -> int:
    remote = remote_setting(args)
    if args.stop:
        stopped, problems = _stop(args.stop, remote)
        for session_id in stopped:
            print(f"stopped {session_id}")
        for problem in problems:
            print(f"tutor: {problem}")
        return 0 if not problems else 1
    sessions = _list(remote)
    if args.json:
        print(json.dumps(sessions, indent=1))
        return 0
    where = f" on {remote.destination}" if remote else ""
    if not sessions:
        print(f"no sessions{where}")
        return 0
    from tutor.sessions.places import listing_line

    print(f"sessions{where}:")
    for s in sessions:
        since = s.get("since") if isinstance(s.get("since"), (int, float)) else None
        running = s.get("running") if isinstance(s.get("running"), str) else None
        line = listing_line(s.get("title") or s["lesson"], s.get("state"), running, since)
        app = "an app is attached" if s.get("attached") else "no app attached"
        print(f"  {line}  ({s.get('device') or '?'}, {app}, pid {s['pid']})")
        if s.get("state") == "crashed" and s.get("reason"):
            print(f"      {s['reason']}")
    hint = f" --remote {remote.destination}" if remote else ""
    print(f"'tutor{hint} LESSON' re-attaches; 'tutor sessions{hint} --stop LESSON' ends one.")
    return 0


def _list(remote) -> list[dict]:
    from tutor.sessions.control import session_list
    from tutor.sessions.transport import SessionUnavailable

    try:
        if remote is None:
            return session_list()
        return session_list(remote.destination, ssh_command=remote.ssh_command, remote_python=remote.python)
    except SessionUnavailable as err:
        raise UserError(str(err)) from None


def _stop(which: str, remote) -> tuple[list[str], list[str]]:
    if remote is None:
        from tutor.sessions.control import stop_sessions

        return stop_sessions(which)
    out = _remote(remote, ["stop", which])
    try:
        answer = json.loads(out.strip().splitlines()[-1])
        return [str(x) for x in answer["stopped"]], [str(x) for x in answer["problems"]]
    except (ValueError, IndexError, KeyError, TypeError):
        raise UserError(f"{remote.destination} gave an unreadable answer to --stop") from None


def _remote(remote, words: list[str]) -> str:
    from tutor.sessions.transport import SessionUnavailable, run_remote

    try:
        return run_remote(remote.destination, ["tutor.sandbox.remote", *words], ssh_command=remote.ssh_command,
                          remote_python=remote.python, timeout=60)
    except SessionUnavailable as err:
        raise UserError(str(err)) from None
