"""Advice for the errors learners meet most, beside the error itself. Worker side,
stdlib only (torch errors are recognised by name, never imported here)."""

from __future__ import annotations

import re
import sys

from tutor.sandbox.limits import format_size
from tutor.sandbox.tracebacks import name_suggestion

NO_INPUT = ("The tutor's cells can't read the keyboard: put the value in your code instead, "
            "e.g. name = \"Ada\".")


# A GPU reports a kernel's error late, at the next call that waits for the GPU: the line
# shown is often not the one at fault. The CPU runs the same code in step, and says which.
_ON_THE_CPU = ("The GPU reports this late, so the line shown may not be the one at fault: run the "
               "same code on the CPU (`device = \"cpu\"`) for a clear error at the right line.")
DEVICE_ASSERT = ("A check inside a GPU kernel failed (a device-side assert). It is almost always an "
                 "index out of range: a label outside 0..C-1 for CrossEntropyLoss or NLLLoss (does the "
                 "last layer have one output per class?), or an index past the end of a tensor or an "
                 "nn.Embedding. " + _ON_THE_CPU)
ILLEGAL_ACCESS = ("A GPU kernel read or wrote memory outside its tensors, usually through an index out "
                  "of range. " + _ON_THE_CPU)


def _gpu_memory() -> str:
    torch = sys.modules.get("torch")
    try:
        free, total = torch.cuda.mem_get_info()
        used = total - free
        reserved = torch.cuda.memory_reserved()
        return f" ({format_size(used)} of {format_size(total)} in use, {format_size(reserved)} held by PyTorch)"
    except Exception:
        return ""


def _recursed_in_learner_code(frames: list[dict]) -> bool:
    """Whether the learner's own frames repeat (a function of theirs calling itself)."""
    seen = set()
    for frame in frames:
        where = (frame.get("filename"), frame.get("lineno"), frame.get("name"))
        if where in seen:
            return True
        seen.add(where)
    return False


def _recursion(message: str, frames: list[dict] | None) -> str:
    limit = sys.getrecursionlimit()
    if frames is None or _recursed_in_learner_code(frames):
        return ("A function kept calling itself: check that every recursive call gets closer to a "
                "case that returns without recursing.")
    if "repr" in message:
        return (f"Printing a structure this deep (lists or dicts nested about {limit} levels or more) "
                "exceeds Python's recursion limit: print a part of it, e.g. its first level, instead. "
                "Your variables are kept.")
    doing = message.partition(" while ")[2].strip() or "working through a structure nested this deep"
    return (f"A structure nested this deep exceeds Python's recursion limit ({limit} levels) while "
            f"{doing}: the recursion is inside Python or a library, not in a function of yours. "
            "Flatten the structure, or handle its levels in a loop.")


_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")


def matmul_advice(message: str) -> str | None:
    """For the commonest PyTorch error, "mat1 and mat2 shapes cannot be multiplied
    (4x3 and 2x5)": which sizes differ, for ``@`` and for an ``nn.Linear`` layer."""
    match = _MATMUL.search(message)
    if match is None:
        return None
    left, right = match[2], match[3]
    return (f"The inner sizes must match, and here they are {left} and {right}. In `a @ b` the last "
            f"size of a must equal the first size of b (a `.T` often fixes it); into an nn.Linear "
            f"layer, the input's last size ({left}) must equal the layer's in_features ({right}).")


def advice_for(err: BaseException, *, memory_limit: int | None = None,
               frames: list[dict] | None = None) -> str | None:
    """Advice for ``err``; ``frames`` are the learner frames of its traceback."""
    name = type(err).__name__
    message = str(err)
    if name == "OutOfMemoryError" and "cuda" in (type(err).__module__ + message).lower():
        return ("The GPU ran out of memory" + _gpu_memory() + ". Try a smaller batch size or model; "
                "free what you no longer need with `del tensor` then `torch.cuda.empty_cache()`; "
                "wrap evaluation in `with torch.no_grad():`; or restart the worker to free everything. "
                "Your variables are kept.")
    if "device-side assert triggered" in message:
        return DEVICE_ASSERT
    if "an illegal memory access was encountered" in message:
        return ILLEGAL_ACCESS
    if isinstance(err, MemoryError) or (
            isinstance(err, RuntimeError) and "can't allocate memory" in message):
        limit = f" (the worker's limit is {format_size(memory_limit)}; change it with --memory-limit)" \
            if memory_limit else ""
        return (f"Out of memory{limit}. Use smaller tensors or batches, or delete what you no longer "
                "need with `del`. Your variables are kept.")
    if getattr(err, "tutor_no_input", False):
        return NO_INPUT
    if isinstance(err, SystemExit):
        return ("sys.exit() doesn't stop the tutor's worker: the rest of the cell was skipped and "
                "your variables are kept. To stop a cell early, raise an exception.")
    if isinstance(err, RecursionError):
        return _recursion(message, frames)
    if isinstance(err, ModuleNotFoundError) and err.name:
        return (f"`{err.name}` is not installed in the Python that runs the tutor "
                f"({sys.executable}); install it there with `{sys.executable} -m pip install {err.name}`.")
    if isinstance(err, RuntimeError) and "cannot be multiplied" in message:
        return matmul_advice(message)
    if isinstance(err, NameError) and not isinstance(err, UnboundLocalError) and not name_suggestion(err):
        # (a near miss is most likely a typo: the message names the close name instead)
        return "If it is defined in an earlier cell, run that cell first: cells share their variables."
    return None
