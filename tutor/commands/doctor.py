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
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--no-sandbox", action="store_true", help="skip starting the sandbox worker")


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


def gib(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


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
    }


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


def print_report(report: dict) -> None:
    t = report["torch"]
    line = lambda k, v: print(f"  {k:<18} {v}")  # noqa: E731
    print("tutor doctor")
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
                                       f"{gib(g['total'] - g['free'])} used of {gib(g['total'])}")
    elif "torch_error" not in t:
        line("cuda", "no CUDA device (lessons run on the CPU)")
    if "mps" in t:
        line("mps", "available" if t["mps"] else "not available")
    print("paths")
    for k, v in report["paths"].items():
        line(k, v)
    print("terminal")
    term = report["terminal"]
    line("size", term["size"])
    line("TERM", term["term"])
    line("colours", term["colours"])
    line("tmux / ssh", f"{'yes' if term['tmux'] else 'no'} / {'yes' if term['ssh'] else 'no'}")
    if report["checks"]:
        print("checks")
        for c in report["checks"]:
            line(c["name"], ("ok: " if c["ok"] else "PROBLEM: ") + c["finding"])
