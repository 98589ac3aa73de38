"""Two progress documents in one: what two tutors wrote is never lost."""

from __future__ import annotations

import copy

from tutor.progress.document import MAX_QUIZ_ATTEMPTS, empty_lesson


def merge_documents(ours: dict, theirs: dict) -> dict:
    """Both documents' progress in one: unions, and the later entry where both have one."""
    out = copy.deepcopy(ours)
    for lesson_id, data in theirs["lessons"].items():
        mine = out["lessons"].setdefault(lesson_id, empty_lesson())
        for step, seen in data["steps"].items():
            mine["steps"][step] = min(seen, mine["steps"].get(step, seen))
        for cell, run in data["cells"].items():
            old = mine["cells"].get(cell)
            newer = run if old is None or run["time"] >= old["time"] else old
            mine["cells"][cell] = {**newer, "runs": max(run["runs"], old["runs"] if old else 0)}
        for quiz, record in data["quizzes"].items():
            old = mine["quizzes"].get(quiz, {"attempts": []})["attempts"]
            seen_keys = {(a["time"], a["answer"], a["correct"]) for a in old}
            new = [a for a in record["attempts"] if (a["time"], a["answer"], a["correct"]) not in seen_keys]
            attempts = sorted(old + copy.deepcopy(new), key=lambda a: a["time"])[-MAX_QUIZ_ATTEMPTS:]
            mine["quizzes"][quiz] = {"attempts": attempts}
        for ex, record in data["exercises"].items():
            old = mine["exercises"].get(ex)
            if old is None:
                mine["exercises"][ex] = dict(record)
                continue
            mine["exercises"][ex] = {
                "attempts": max(old["attempts"], record["attempts"]),
                "passed_at": _earliest(old["passed_at"], record["passed_at"]),
                "revealed_at": _earliest(old["revealed_at"], record["revealed_at"]),
                "time": max(old["time"], record["time"]),
            }
        for cell, code in data["code"].items():
            if cell not in mine["code"] or code["time"] > mine["code"][cell]["time"]:
                mine["code"][cell] = dict(code)
        mine["position"] = _later(mine["position"], data["position"])
    out["position"] = _later(out["position"], theirs["position"])
    for key, entry in theirs["reviews"].items():
        old = out["reviews"].get(key)
        if old is None or entry["time"] > old["time"]:
            out["reviews"][key] = dict(entry)
    return out


def _earliest(a, b):
    return b if a is None else a if b is None else min(a, b)


def _later(a, b):
    if a is None or (b is not None and b["time"] > a["time"]):
        return copy.deepcopy(b)
    return a
