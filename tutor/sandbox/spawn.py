"""Client side: start one nanny + worker with its pipes. Stdlib only, no asyncio.

The nanny runs in a new session (``start_new_session``, never ``preexec_fn``: the UI
process has threads) and, where the system allows it, in a new user + PID namespace
(``unshare``): then nothing the learner starts can outlive it, even with setsid().
``TUTOR_SANDBOX_NAMESPACE=0`` turns the namespace off, ``=1`` insists on it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tutor.sandbox.protocol import ENV_WORKER_FDS, KEY_FIELD, encode, enlarge_pipe, new_key
from tutor.sandbox.workspace import WORKSPACE_ENV

PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
UNSHARE = ["--user", "--map-current-user", "--pid", "--fork", "--kill-child", "--mount-proc"]
ENV_NAMESPACE = "TUTOR_SANDBOX_NAMESPACE"

_namespace_works: bool | None = None


def namespace_command() -> list[str] | None:
    """The unshare prefix, if user + PID namespaces work here (probed once)."""
    global _namespace_works
    setting = os.environ.get(ENV_NAMESPACE, "")
    if setting == "0":
        return None
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return None
    if _namespace_works is None:
        try:
            probe = subprocess.run([unshare, *UNSHARE, "true"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
            _namespace_works = probe.returncode == 0
        except (OSError, subprocess.SubprocessError):
            _namespace_works = False
    return [unshare, *UNSHARE] if _namespace_works else None


@dataclass
class Launched:
    """A started nanny and the client's ends of its pipes."""

    process: subprocess.Popen
    requests: int  # client writes requests to the worker
    events: int  # client reads worker events
    control: int  # client writes to the nanny; closing it kills everything
    status: int  # client reads nanny reports
    log: int  # client reads the nanny's and worker's stray output (crash dumps)
    namespace: bool
    key: str  # every worker frame carries it (see tutor.sandbox.protocol)


def worker_environment(base: dict[str, str], extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(base)
    env.pop("PYTHONUNBUFFERED", None)  # it slows printing, and we batch anyway
    env.pop("PYTHONSTARTUP", None)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + path if path else "")
    if extra:
        env.update(extra)
    return env


def launch(*, workdir: Path, worker_command: list[str], worker_config: dict, memory_limit: int | None,
           env: dict[str, str], namespace: bool | None = None, nanny_options: dict | None = None) -> Launched:
    """Start the nanny, which starts the worker. Raises OSError when it cannot.
    ``nanny_options``: more settings for the nanny (``max_processes``)."""
    prefix = namespace_command() if namespace is None or namespace else None
    if namespace and prefix is None:
        raise OSError("user and PID namespaces are not available here")
    requests_r, requests_w = os.pipe()
    key = new_key()
    os.write(requests_w, encode({"t": "key", KEY_FIELD: key}))  # read first by the worker
    events_r, events_w = os.pipe()
    control_r, control_w = os.pipe()
    status_r, status_w = os.pipe()
    enlarge_pipe(events_w)
    child_ends = (requests_r, events_w, control_r, status_w)
    config = {"control": control_r, "status": status_w, "worker": worker_command,
              "worker_fds": [requests_r, events_w], "memory_limit": memory_limit, **(nanny_options or {})}
    env = dict(env)
    env[ENV_WORKER_FDS] = f"{requests_r},{events_w}"
    env[WORKSPACE_ENV] = str(Path(workdir).resolve())  # where file= and sh cells work, whatever the cwd becomes
    env["TUTOR_SANDBOX_CONFIG"] = json.dumps(worker_config)
    command = [*(prefix or []), sys.executable, "-m", "tutor.sandbox.nanny", json.dumps(config)]
    try:
        process = subprocess.Popen(
            command, cwd=str(workdir), env=env, pass_fds=child_ends, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, close_fds=True,
        )
    except BaseException:
        for fd in (*child_ends, requests_w, events_r, control_w, status_r):
            os.close(fd)
        raise
    for fd in child_ends:
        os.close(fd)
    log = os.dup(process.stdout.fileno())
    process.stdout.close()
    return Launched(process, requests_w, events_r, control_w, status_r, log, prefix is not None, key)
