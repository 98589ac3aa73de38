"""Execution of learner code in a supervised worker process (see docs/sandbox.md).

client.py (the asyncio API the UI and the runner use; decode.py turns worker frames
into sanitised events, restarts.py decides restarts, standby.py keeps a spare worker)
-> spawn.py/process.py (one nanny + worker and its pipes) -> nanny.py (supervision,
memory and process limits, tmpfs.py) -> worker.py (the namespace, capture.py,
livesink.py, warmup.py). events.py is what users see; protocol.py is the wire format.
Nothing here imports textual or rich, and the client side never imports torch.
"""

from __future__ import annotations

__all__ = ["SandboxClient"]


def __getattr__(name: str):
    if name == "SandboxClient":
        from tutor.sandbox.client import SandboxClient

        return SandboxClient
    raise AttributeError(name)
