"""Resource limits for the worker: the memory limit and the rlimits. Stdlib only.

Never RLIMIT_AS: ``import torch`` alone needs more than 3 GiB of address space and
CUDA reserves twice the device memory. RLIMIT_DATA is used on the CPU only: a memory
bomb then becomes a MemoryError in the cell and the worker survives.
"""

from __future__ import annotations

import os
import resource

GIB = 2**30
FILE_SIZE_LIMIT = 64 * GIB  # generous: a runaway writer stops, datasets still fit
MIN_MEMORY_LIMIT = GIB


def format_size(n: int | float) -> str:
    """Bytes for people, in the binary units ``--memory-limit`` reads, with the unit
    shown: "512 MiB", "5.1 GiB", "139.8 GiB". The one formatter for memory everywhere
    (status line, kill messages, advice, ``tutor doctor``)."""
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    if n >= 2**20:
        return f"{n / 2**20:.0f} MiB"
    return f"{n / 2**10:.0f} KiB"


def format_share(used: int | float, total: int | float) -> str:
    """``used`` of ``total`` in the total's unit: "0.0/139.8 GiB", "412/900 MiB"."""
    if total >= GIB:
        return f"{used / GIB:.1f}/{total / GIB:.1f} GiB"
    return f"{used / 2**20:.0f}/{total / 2**20:.0f} MiB"


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def physical_memory() -> int | None:
    """RAM of the machine, or of the cgroup when that is smaller."""
    total = None
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        pass
    for cgroup in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        limit = _read_int(cgroup)
        if limit and (total is None or limit < total):
            total = limit
    return total


def default_memory_limit() -> int:
    """Three quarters of the RAM: the tutor and the system keep the rest."""
    total = physical_memory() or 8 * GIB
    return max(int(total * 0.75), MIN_MEMORY_LIMIT)


def user_task_count(uid: int) -> int:
    """Processes and threads of ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                status = f.read()
        except OSError:
            continue
        uid_line = status.partition("\nUid:")[2].split(None, 1)
        if uid_line and uid_line[0] == str(uid):
            threads = status.partition("\nThreads:")[2].split(None, 1)
            count += int(threads[0]) if threads and threads[0].isdigit() else 1
    return count


def process_limit() -> int | None:
    """RLIMIT_NPROC for the worker: what the user runs now plus a generous margin
    (torch dies of a tight one: "libgomp: Thread creation failed"). None for root,
    which the kernel does not limit."""
    uid = os.getuid()
    if uid == 0:
        return None
    return user_task_count(uid) + max(256, 8 * (os.cpu_count() or 1))


def _lower(kind: int, value: int) -> None:
    soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft == resource.RLIM_INFINITY or value < soft:
        try:
            resource.setrlimit(kind, (value, hard))
        except (ValueError, OSError):
            pass


def apply_worker_limits(*, memory_limit: int | None, limit_data: bool, nproc: int | None) -> None:
    """Called by the worker on itself, before it imports anything heavy."""
    _lower(resource.RLIMIT_CORE, 0)
    _lower(resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT)
    if nproc is not None and hasattr(resource, "RLIMIT_NPROC"):
        _lower(resource.RLIMIT_NPROC, nproc)
    if limit_data and memory_limit and hasattr(resource, "RLIMIT_DATA"):
        _lower(resource.RLIMIT_DATA, memory_limit)
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")  # if the kernel must kill, it kills the worker, not the tutor
    except OSError:
        pass


def cuda_device_present() -> bool:
    """Whether an NVIDIA device node exists (without importing torch)."""
    return os.path.exists("/dev/nvidiactl") or os.path.exists("/proc/driver/nvidia")
