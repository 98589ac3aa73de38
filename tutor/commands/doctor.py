"""``tutor doctor``: what tutor sees on this machine, and whether it will work.

torch is probed in a subprocess (with a time limit), so this command, like the rest of
the CLI, never imports torch itself.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys

from tutor import __version__, config
from tutor.sandbox.limits import format_size

TORCH_PROBE = r"""
import json, os, sys
out = {}
try:
    import torch
    out["torch"] = torch.__version__
    out["cuda_build"] = torch.version.cuda
    out["threads"] = torch.get_num_threads()
    gpus = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            free, total = torch.cuda.mem_get_info(i)
            gpus.append({"index": i, "name": p.name, "total": total, "free": free,
                         "capability": f"{p.major}.{p.minor}"})
    out["cuda"] = gpus
    mps = getattr(torch.backends, "mps", None)
    out["mps"] = bool(mps and mps.is_available())
except Exception as err:
    out["torch_error"] = f"{type(err).__name__}: {err}"
try:
    import torchvision
    out["torchvision"] = torchvision.__version__
except Exception as err:
    out["torchvision_error"] = f"{type(err).__name__}: {err}"
print(json.dumps(out))
"""


def add_arguments(parser) -> None:
    from tutor.commands.options import add_device_options, add_remote_options

    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--no-sandbox", action="store_true", help="skip starting the sandbox worker")
    add_device_options(parser, prefix="for the sandbox check: ")
    add_remote_options(parser)


def use_device_options(args) -> None:
    """``--device`` and ``--memory-limit`` for the checks (which read the settings
    as ``tutor`` would: TUTOR_DEVICE, TUTOR_MEMORY_LIMIT); a size that cannot be read
    is one line."""
    from tutor.errors import UserError

    if args.device:
        os.environ["TUTOR_DEVICE"] = args.device
    if args.memory_limit:
        try:
            config.parse_size(args.memory_limit)
        except ValueError as err:
            raise UserError(f"--memory-limit: {err}") from None
        os.environ["TUTOR_MEMORY_LIMIT"] = args.memory_limit


def probe_torch(timeout: float = 120.0) -> dict:
    try:
        proc = subprocess.run([sys.executable, "-c", TORCH_PROBE], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"torch_error": f"importing torch took more than {timeout:.0f} s"}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"torch_error": f"the probe failed (exit {proc.returncode}): {tail}"}
    return json.loads(lines[-1])


def terminal_report() -> dict:
    size = shutil.get_terminal_size(fallback=(0, 0))
    colorterm = os.environ.get("COLORTERM", "")
    term = os.environ.get("TERM", "")
    if colorterm in ("truecolor", "24bit"):
        colours = "truecolor (16 million)"
    elif "256" in term:
        colours = "256"
    elif term in ("", "dumb"):
        colours = "none"
    else:
        colours = "16 (set COLORTERM=truecolor if your terminal has more)"
    return {
        "size": f"{size.columns}x{size.lines}" if size.columns else "unknown (not a terminal)",
        "term": term or "unset",
        "colours": colours,
        "tmux": bool(os.environ.get("TMUX")),
        "ssh": bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY")),
        "stdout_is_tty": sys.stdout.isatty(),
    }


def paths_report() -> dict:
    return {
        "home (TUTOR_HOME)": str(config.home_dir()),
        "progress": str(config.progress_path()),
        "workspaces": str(config.home_dir() / "workspace"),
        "data": str(config.data_dir()),
        "lessons": str(config.lessons_dir()),
        "assets": str(config.assets_dir()),
        "sessions": str(_runtime_dir()),
    }


def _runtime_dir():
    from tutor.sessions.places import runtime_dir

    return runtime_dir()


def extra_checks(*, sandbox: bool = True) -> list[tuple[str, str, bool]]:
    """(name, finding, ok) from the parts that register doctor checks."""
    found: list[tuple[str, str, bool]] = []
    from tutor.commands import doctor_checks

    for check in doctor_checks.CHECKS:
        if not sandbox and check is doctor_checks.sandbox_check:
            continue
        try:
            found.extend(check())
        except Exception as err:  # a failing check is a finding, not a crash
            found.append((check.__name__, f"{type(err).__name__}: {err}", False))
    return found


def run(args) -> int:
    from tutor.commands.options import remote_setting

    use_device_options(args)
    remote = remote_setting(args)
    if remote is not None:
        return run_remote(args, remote)
    torch_info = probe_torch()
    report = {
        "tutor": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "torch": torch_info,
        "paths": paths_report(),
        "terminal": terminal_report(),
    }
    checks = extra_checks(sandbox=not args.no_sandbox)
    report["checks"] = [{"name": n, "finding": f, "ok": ok} for n, f, ok in checks]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
    healthy = "torch_error" not in torch_info and all(ok for _, _, ok in checks)
    return 0 if healthy else 1


def run_remote(args, remote) -> int:
    """``tutor doctor --remote HOST``: the far side's own doctor, through ssh, and how
    it compares with this tutor."""
    import time

    from tutor.errors import UserError
    from tutor.sandbox.sanitize import sanitize
    from tutor.sessions.transport import SessionUnavailable, run_remote as ssh_run

    words = ["tutor", "doctor", "--json"] + (["--no-sandbox"] if args.no_sandbox else [])
    for option, value in (("--device", args.device), ("--memory-limit", args.memory_limit)):
        if value:
            words += [option, value]
    started = time.perf_counter()
    try:
        out = ssh_run(remote.destination, words, ssh_command=remote.ssh_command, remote_python=remote.python,
                      timeout=600)
    except SessionUnavailable as err:
        raise UserError(str(err)) from None
    took = time.perf_counter() - started
    try:
        report = json.loads(sanitize(out[out.index("{"):]))
        if not isinstance(report, dict) or "torch" not in report:
            raise ValueError
    except ValueError:
        raise UserError(f"{remote.destination} gave no doctor report: "
                        f"{sanitize(out.strip().splitlines()[-1] if out.strip() else 'nothing')[:200]}") from None
    report["link"] = {"ssh": f"{remote.destination}: the whole check took {took:.1f} s through ssh",
                      "versions": _versions(report.get("tutor"), remote.destination)}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report, where=remote.destination)
    checks = report.get("checks") or []
    healthy = "torch_error" not in report["torch"] and all(c.get("ok") for c in checks) and \
        report.get("tutor") == __version__
    return 0 if healthy else 1


def _versions(theirs, destination: str) -> str:
    from tutor.sessions.transport import install_command

    if theirs == __version__:
        return f"tutor {__version__} on both ends"
    return (f"tutor {theirs} there, {__version__} here: install the same version on both "
            f"(from here: {install_command(destination)})")


def print_report(report: dict, where: str | None = None) -> None:
    t = report["torch"]
    line = lambda k, v: print(f"  {k:<18} {v}")  # noqa: E731
    print(f"tutor doctor · {where}" if where else "tutor doctor")
    if "link" in report:
        line("link", report["link"]["ssh"])
        line("versions", report["link"]["versions"])
    line("tutor", report["tutor"])
    line("python", report["python"])
    line("platform", report["platform"])
    line("cpus", report["cpus"])
    if "torch_error" in t:
        line("torch", f"NOT WORKING: {t['torch_error']}")
    else:
        build = f", CUDA build {t['cuda_build']}" if t.get("cuda_build") else ", CPU build"
        line("torch", f"{t['torch']}{build}, {t.get('threads')} threads")
    line("torchvision", t.get("torchvision") or f"NOT WORKING: {t.get('torchvision_error', 'unknown')}")
    gpus = t.get("cuda") or []
    if gpus:
        for g in gpus:
            line(f"cuda:{g['index']}", f"{g['name']} (sm {g['capability']}), "
                                       f"{format_size(g['total'] - g['free'])} used of {format_size(g['total'])}")
    elif "torch_error" not in t:
        line("cuda", "no CUDA device (lessons run on the CPU)")
    if "mps" in t:
        line("mps", "available" if t["mps"] else "not available")
    print("paths")
    for k, v in report["paths"].items():
        line(k, v)
    term = report.get("terminal")
    if where is None and term:
        _print_terminal(term, line)
    if report["checks"]:
        print("checks")
        for c in report["checks"]:
            line(c["name"], ("ok: " if c["ok"] else "PROBLEM: ") + c["finding"])


def _print_terminal(term: dict, line) -> None:
    print("terminal")
    line("size", term["size"])
    line("TERM", term["term"])
    line("colours", term["colours"])
    line("tmux / ssh", f"{'yes' if term['tmux'] else 'no'} / {'yes' if term['ssh'] else 'no'}")
