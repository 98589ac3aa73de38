"""A fake ``ssh`` for tests: runs the remote command on this machine, and misbehaves
when told to. Called like ssh: ``fake_ssh.py [options] DESTINATION COMMAND...``.

FAKE_SSH_MODE (comma-separated):
  unreachable   say "Could not resolve hostname", exit 255
  auth          say "Permission denied (publickey).", exit 255
  banner        print login noise (as a chatty .bashrc does) before the command's output
  drop=TEXT     once TEXT came from the far side the link dies: the command's stdin
                ends, we exit 255
  stall=TEXT    once TEXT came from the far side nothing passes either way, but the
                link stays open (a dead network under a live TCP connection)
  delay=S       every chunk waits S seconds on its way (both ways)
  corrupt=N     after N bytes from the far side, every byte that follows is garbled
FAKE_SSH_ONLY=K      misbehave (drop, stall, corrupt) only on the K-th connection
FAKE_SSH_COUNTER     a file that counts connections (needed with FAKE_SSH_ONLY)
FAKE_SSH_REMOTE_ENV  JSON: environment for the command (the far side's TUTOR_HOME...)
FAKE_SSH_LOG         a file that gets each command line
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

WITH_VALUE = set("bcDEeFIiJLlmOoopQRSWw")


def parse(argv: list[str]) -> tuple[str, str]:
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        flag = argv[i]
        i += 1
        if len(flag) == 2 and flag[1] in WITH_VALUE:
            i += 1
    return argv[i], " ".join(argv[i + 1:])


def modes() -> dict[str, str]:
    found = {}
    for part in os.environ.get("FAKE_SSH_MODE", "").split(","):
        name, _, value = part.strip().partition("=")
        if name:
            found[name] = value
    return found


def connection_number() -> int:
    path = os.environ.get("FAKE_SSH_COUNTER")
    if not path:
        return 1
    import fcntl

    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        count = int(f.read() or 0) + 1
        f.seek(0)
        f.truncate()
        f.write(str(count))
    return count


def main() -> int:
    destination, command = parse(sys.argv[1:])
    mode = modes()
    if os.environ.get("FAKE_SSH_LOG"):
        with open(os.environ["FAKE_SSH_LOG"], "a") as log:
            log.write(command + "\n")
    if "unreachable" in mode:
        sys.stderr.write(f"ssh: Could not resolve hostname {destination}: Name or service not known\n")
        return 255
    if "auth" in mode:
        sys.stderr.write(f"{destination}: Permission denied (publickey).\n")
        return 255
    only = os.environ.get("FAKE_SSH_ONLY")
    if only and connection_number() != int(only):
        mode = {k: v for k, v in mode.items() if k not in ("drop", "stall", "corrupt")}
    env = dict(os.environ)
    env.update(json.loads(os.environ.get("FAKE_SSH_REMOTE_ENV", "{}")))
    for name in ("FAKE_SSH_MODE", "FAKE_SSH_ONLY"):
        env.pop(name, None)
    if "banner" in mode:
        os.write(1, b"Welcome to gpu-box (GNU/Linux)\nLast login: yesterday\n")
    # The far side's pipes all end here, as they end in sshd: when we die, it sees that.
    child = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=env)

    def errors() -> None:
        for line in iter(child.stderr.readline, b""):
            os.write(2, line)

    threading.Thread(target=errors, daemon=True).start()
    stalled = threading.Event()
    delay = float(mode.get("delay") or 0)

    def up() -> None:
        while True:
            data = os.read(0, 65536)
            if stalled.is_set():
                threading.Event().wait()
            if not data:
                break
            if delay:
                time.sleep(delay)
            try:
                child.stdin.write(data)
                child.stdin.flush()
            except OSError:
                break
        try:
            child.stdin.close()
        except OSError:
            pass

    def drop() -> None:
        try:
            child.stdin.close()  # sshd closes the channel: the far side sees its stdin end
        except OSError:
            pass
        sys.stderr.write(f"Connection to {destination} closed by remote host.\n")
        sys.stderr.flush()
        os._exit(255)

    def down() -> None:
        sent = 0
        limit = int(mode["corrupt"]) if "corrupt" in mode else None
        seen = b""
        while True:
            data = child.stdout.read1(65536)
            if stalled.is_set():
                threading.Event().wait()
            if not data:
                break
            if delay:
                time.sleep(delay)
            if limit is not None and sent + len(data) > limit:
                keep = max(limit - sent, 0)
                data = data[:keep] + bytes(b ^ 0x5A for b in data[keep:])
            sent += len(data)
            try:
                os.write(1, data)
            except OSError:
                break
            seen = (seen + data)[-4096:]
            if "drop" in mode and mode["drop"].encode() in seen:
                drop()
            if "stall" in mode and mode["stall"].encode() in seen:
                stalled.set()
        os._exit(child.wait())

    threading.Thread(target=up, daemon=True).start()
    threading.Thread(target=down, daemon=True).start()
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
