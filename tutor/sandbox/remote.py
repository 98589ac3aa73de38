"""The far end of ``tutor --remote HOST``: what ``ssh HOST`` runs. Stdlib only.

    python3 -m tutor.sandbox.remote attach OPTIONS_JSON   # relay stdio to the lesson's host
    python3 -m tutor.sandbox.remote sessions              # the live sessions there, as JSON
    python3 -m tutor.sandbox.remote stop ID|all           # end sessions there

``attach`` finds the lesson's session host on this machine (starting it when none
runs, see ``tutor.sessions.host``), connects to its Unix socket and copies bytes both
ways between the socket and its own stdin/stdout (ssh's channel) until either side
ends. It adds nothing to the stream: the greeting, the frames and the heartbeat go end
to end between the app and the host. So when the ssh link dies, the host notices the
silence, keeps the cell running and its output buffered, and the app's next ``attach``
replays what it missed. Failures go to stderr as one line (ssh passes it on).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading

CHUNK = 1 << 16


def relay(sock: socket.socket, stdin: int = 0, stdout: int = 1) -> None:
    """Copy stdin -> sock and sock -> stdout until one side ends."""

    def upstream() -> None:
        try:
            while True:
                data = os.read(stdin, CHUNK)
                if not data:
                    break
                sock.sendall(data)
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_WR)  # the host sees the app leave
        except OSError:
            pass

    threading.Thread(target=upstream, daemon=True).start()
    try:
        while True:
            data = sock.recv(CHUNK)
            if not data:
                break
            view = memoryview(data)
            while view:
                view = view[os.write(stdout, view):]
    except OSError:
        pass


def attach(options_json: str) -> int:
    from tutor.sessions.host import HostOptions
    from tutor.sessions.transport import SessionUnavailable, ensure_host

    try:
        options = HostOptions.from_json(options_json)
    except (ValueError, TypeError) as err:
        print(f"tutor: bad session options: {err}", file=sys.stderr)
        return 2
    try:
        sock = ensure_host(options)
    except SessionUnavailable as err:
        print(f"tutor: {err}", file=sys.stderr)
        return 1
    relay(sock)
    return 0


def sessions() -> int:
    from tutor.sessions.places import list_sessions

    print(json.dumps([session.as_dict() for session in list_sessions()]))
    return 0


def stop(which: str) -> int:
    from tutor.sessions.control import stop_sessions

    stopped, problems = stop_sessions(which)
    print(json.dumps({"stopped": stopped, "problems": problems}))
    return 0 if not problems else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print("usage: python -m tutor.sandbox.remote attach OPTIONS | sessions | stop ID|all", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "attach" and len(rest) == 1:
        return attach(rest[0])
    if command == "sessions":
        return sessions()
    if command == "stop" and len(rest) == 1:
        return stop(rest[0])
    print(f"tutor: unknown remote command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
