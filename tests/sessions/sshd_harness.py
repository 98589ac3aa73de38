"""A real OpenSSH server on 127.0.0.1 for end-to-end tests: a free port, throwaway
keys, ``UsePAM no``, and a client config that reaches it as ``tutor-test``.

As root, sshd wants its privilege-separation folder /run/sshd: where it is missing we
start sshd in a private mount namespace (``unshare --mount``) with a fresh tmpfs on
/run, so the machine itself is never changed. As an ordinary user sshd needs none.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
INSTALL = "apt-get install -y openssh-server openssh-client"


def missing() -> str | None:
    """Why a real sshd cannot run here, or None."""
    if SSHD is None:
        return f"openssh-server is not installed (sshd not found; {INSTALL})"
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"openssh-client is not installed ({tool} not found; {INSTALL})"
    if os.getuid() == 0 and not os.path.isdir("/run/sshd") and shutil.which("unshare") is None:
        return "sshd as root needs /run/sshd, and unshare is missing to make one privately"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Sshd:
    folder: Path
    port: int
    process: subprocess.Popen
    client_config: Path
    alias: str = "tutor-test"

    @property
    def ssh_command(self) -> str:
        return f"ssh -F {self.client_config}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(folder: Path) -> Sshd:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for name in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
    os.chmod(folder / "authorized_keys", 0o600)
    port = free_port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin prohibit-password\n"
        f"StrictModes no\nPidFile {folder / 'sshd.pid'}\nLogLevel ERROR\n")
    client_config = folder / "ssh_config"
    client_config.write_text(
        f"Host tutor-test\n  HostName 127.0.0.1\n  Port {port}\n  User {getpass.getuser()}\n"
        f"  IdentityFile {folder / 'user_key'}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {folder / 'known_hosts'}\n  StrictHostKeyChecking accept-new\n"
        "  LogLevel ERROR\n")
    command = [SSHD, "-D", "-e", "-f", str(folder / "sshd_config")]
    if os.getuid() == 0 and not os.path.isdir("/run/sshd"):
        command = ["unshare", "--mount", "sh", "-c",
                   "mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec \"$@\"", "sh", *command]
    log = open(folder / "sshd.log", "wb")
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    log.close()
    deadline = time.monotonic() + 15
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()[-500:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("sshd did not listen within 15 s")
            time.sleep(0.1)
    return Sshd(folder, port, process, client_config)
