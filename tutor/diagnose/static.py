"""The static half of the diagnosis: mistakes 1 to 6, read from a cell's code.

    report = diagnose_code(code, namespace)   # namespace: the worker's, or None
    report.advice          # what to tell the learner now, before the cell runs
    report.eval_regions    # evaluation code the runtime half should watch (mistake 4)

Pure: nothing runs and nothing is imported beyond the standard library. ``namespace``
(optional) lets the pass see what names from earlier cells are, e.g. that ``loss_fn``
is a ``CrossEntropyLoss``; objects are recognised by their class names only.

Every check prefers silence to a false alarm: when the code could be right (a helper
the pass cannot see may zero the gradients), it says nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

from tutor.diagnose.advice import Advice
from tutor.diagnose.facts import BUILTIN_NAMES, Call, Facts, Loop, Region, Scope, dotted, last_name

LOGIT_LOSSES = {"CrossEntropyLoss": "cross_entropy", "BCEWithLogitsLoss": "binary_cross_entropy_with_logits"}
_LOSS_FUNCTIONS = {v: k for k, v in LOGIT_LOSSES.items()}
_SQUASH = {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid", "expit": "sigmoid",
           "Softmax": "softmax", "LogSoftmax": "log_softmax", "Sigmoid": "sigmoid"}
# Calls that turn a tensor into something with no graph behind it.
_UNTRACKED = {"item", "detach", "tolist", "numpy", "float", "int", "round", "data", "detach_"}


@dataclass(frozen=True)
class EvalRegion:
    """Code that evaluates ``names`` with no ``.eval()`` seen before it: the runtime
    half checks, when it runs, whether one of them still drops out or updates batch
    statistics (training mode)."""

    line: int
    end_line: int
    kind: str  # "no_grad", "inference_mode" or "loader"
    names: tuple[str, ...]


@dataclass
class Report:
    advice: list[Advice] = field(default_factory=list)
    eval_regions: list[EvalRegion] = field(default_factory=list)


def diagnose_code(code: str, namespace: Mapping[str, object] | None = None) -> Report:
    """The static diagnosis of a cell; an empty report when it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, OverflowError):
        return Report()
    return diagnose_tree(tree, namespace)


def diagnose_tree(tree: ast.AST, namespace: Mapping[str, object] | None = None) -> Report:
    facts = Facts(tree)
    namespace = namespace if namespace is not None else {}
    report = Report()
    for check in (_missing_zero_grad, _forward_called, _squashed_logits, _backward_without_grad,
                  _loss_history):
        report.advice.extend(check(facts, namespace))
    report.eval_regions = _eval_regions(facts)
    report.advice.sort(key=lambda a: a.line or 0)
    return report


def _code(node: ast.AST, limit: int = 60) -> str:
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- 1. backward() and step() in a loop with no zero_grad() ---------------------------

def _is_backward(call: Call) -> bool:
    return call.method == "backward" and call.receiver is not None


def _is_step(call: Call) -> bool:
    if call.method != "step" or call.receiver is None:
        return False
    owner = call.receiver.rsplit(".", 1)[-1].lower()
    return "sched" not in owner and not owner.startswith("lr") and owner != "live"


def _is_zeroing(call: Call) -> bool:
    if call.method == "zero_grad":
        return True
    return call.method in ("zero_", "detach_", "fill_") and ".grad" in f".{call.receiver or ''}"


class _Effects:
    """What a scope's code does to gradients, through the cell's own functions too."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._memo: dict[str, set[str]] = {}

    def of_calls(self, calls: list[Call], resets: int = 0) -> set[str]:
        found: set[str] = {"zero"} if resets else set()
        for call in calls:
            if _is_backward(call):
                found.add("backward")
            elif _is_step(call):
                found.add("step")
            elif _is_zeroing(call):
                found.add("zero")
            elif isinstance(call.node.func, ast.Name) and call.node.func.id in self.facts.functions:
                found |= self.of_function(call.node.func.id)
        return found

    def of_function(self, name: str) -> set[str]:
        if name not in self._memo:
            self._memo[name] = set()  # recursion: what is known so far
            scope = self.facts.functions[name]
            self._memo[name] = self.of_calls(scope.calls, len(scope.grad_resets))
        return self._memo[name]



def _missing_zero_grad(facts: Facts, namespace: Mapping[str, object]) -> list[Advice]:
    effects = _Effects(facts)
    suspects: list[tuple[Loop, list[Call]]] = []
    for scope in facts.scopes:
        for loop in scope.loops:
            calls = [c for c in scope.calls if loop in c.loops]
            resets = sum(1 for _, loops in scope.grad_resets if loop in loops)
            done = effects.of_calls(calls, resets)
            if {"backward", "step"} <= done and "zero" not in done and not _optimizer_handed_on(calls, facts):
                suspects.append((loop, calls))
    # one advice per mistake: the innermost loop that has it
    inner = [(loop, calls) for loop, calls in suspects
             if not any(other is not loop and loop in other.parents for other, _ in suspects)]
    advice = []
    for loop, calls in inner:
        backward = next((c for c in calls if _is_backward(c)), None)
        step = next((c for c in calls if _is_step(c)), None)
        if backward is not None and step is not None:
            where = (f"`{_code(backward.node)}` and `{_code(step.node)}` (line {step.line}) run in "
                     f"the loop at line {loop.line}")
            line = backward.line
        else:
            helper = next(c for c in calls if isinstance(c.node.func, ast.Name)
                          and c.node.func.id in facts.functions
                          and {"backward", "step"} & effects.of_function(c.node.func.id))
            does = " and ".join(f"{e}()" for e in ("backward", "step") if e in effects.of_function(helper.node.func.id))
            where = (f"`{helper.node.func.id}()` calls {does}, and the loop at line {loop.line} "
                     "calls both")
            line = helper.line
        advice.append(Advice(
            "zero-grad", line,
            f"{where}, but nothing in that loop zeroes the gradients.",
            "PyTorch adds each new gradient to the ones already stored, so every step uses the sum "
            "of all the gradients so far: the steps grow and point the wrong way.",
            "call `optimizer.zero_grad()` in the loop, before `loss.backward()`."))
    return advice


def _optimizer_handed_on(calls: list[Call], facts: Facts) -> bool:
    """A function the pass cannot see gets the optimizer (or the model): it may zero
    the gradients itself, so say nothing."""
    owners = {c.receiver.split(".")[0] for c in calls if _is_step(c) and c.receiver}
    for call in calls:
        func = call.node.func
        if isinstance(func, ast.Name) and (func.id in facts.functions or func.id in BUILTIN_NAMES):
            continue
        if _is_step(call) or _is_backward(call):
            continue
        passed = {dotted(a) for a in (*call.node.args, *(k.value for k in call.node.keywords))}
        if owners & {p.split(".")[0] for p in passed if p}:
            return True
    return False


# -- 2. model.forward(x) -----------------------------------------------------------------

def _forward_called(facts: Facts, namespace: Mapping[str, object]) -> list[Advice]:
    advice = []
    for scope in facts.scopes:
        for call in scope.calls:
            func = call.node.func
            if call.method != "forward" or not isinstance(func, ast.Attribute):
                continue
            owner = func.value
            if isinstance(owner, ast.Call) and last_name(owner.func) == "super":
                continue  # super().forward(x) inside a subclass is how it is meant to be used
            if isinstance(owner, ast.Name) and owner.id == "self":
                continue  # a model's own method calling its forward: not the learner's call site
            if call.node.args and isinstance(call.node.args[0], ast.Name) and call.node.args[0].id == "self":
                continue  # Base.forward(self, x): an explicit call of a parent's method
            model = _code(owner, 30)
            args = ", ".join(_code(a, 20) for a in call.node.args)
            advice.append(Advice(
                "forward-call", call.line,
                f"`{_code(call.node)}` calls `forward` directly.",
                f"Calling the model itself, `{model}({args})`, runs `forward` plus the bookkeeping "
                "PyTorch needs (hooks, which some layers and tools rely on); calling `forward` skips it.",
                f"write `{model}({args})`."))
    return advice


# -- 3. softmax/sigmoid fed to a loss that applies it itself ------------------------------

def _class_names(obj: object) -> set[str]:
    return {c.__name__ for c in type(obj).__mro__}


def _logit_loss(call: Call, scope: Scope, facts: Facts, namespace: Mapping[str, object]) -> str | None:
    """The logit loss this call computes ("CrossEntropyLoss" or "BCEWithLogitsLoss"), if any."""
    func = call.node.func
    if call.method in _LOSS_FUNCTIONS:  # F.cross_entropy(...)
        return _LOSS_FUNCTIONS[call.method]
    if isinstance(func, ast.Call) and last_name(func.func) in LOGIT_LOSSES:  # nn.CrossEntropyLoss()(...)
        return last_name(func.func)
    if isinstance(func, ast.Name):
        values = scope.assigned.get(func.id) or facts.module.assigned.get(func.id)
        if values:
            kinds = {last_name(v.func) if isinstance(v, ast.Call) else None for v in values}
            return kinds.pop() if len(kinds) == 1 and kinds <= set(LOGIT_LOSSES) else None
        if func.id in namespace:
            found = _class_names(namespace[func.id]) & set(LOGIT_LOSSES)
            return found.pop() if found else None
    return None


def _squash_of(expr: ast.AST, scope: Scope, facts: Facts, namespace: Mapping[str, object],
               depth: int = 0) -> str | None:
    """The squashing function applied last to ``expr`` ("softmax", "log_softmax",
    "sigmoid"), following a name to its assignment once; None when it is raw."""
    if isinstance(expr, ast.Call):
        name = last_name(expr.func)
        if name in _SQUASH and not name[0].isupper():
            return _SQUASH[name]  # torch.softmax(x), F.sigmoid(x), x.softmax(dim=1)
        if isinstance(expr.func, ast.Call) and last_name(expr.func.func) in _SQUASH:
            return _SQUASH[last_name(expr.func.func)]  # nn.Softmax(dim=1)(x)
        if isinstance(expr.func, ast.Name):  # model(x): a model ending in a squashing layer
            return _model_ends_squashed(expr.func.id, scope, facts, namespace)
        return None
    if isinstance(expr, ast.Name) and depth == 0:
        values = scope.assigned.get(expr.id)
        if values and len(values) == 1:
            return _squash_of(values[0], scope, facts, namespace, depth + 1)
    return None


def _model_ends_squashed(name: str, scope: Scope, facts: Facts, namespace: Mapping[str, object]) -> str | None:
    values = scope.assigned.get(name) or facts.module.assigned.get(name)
    if values:
        value = values[-1]
        if isinstance(value, ast.Call) and last_name(value.func) == "Sequential" and value.args:
            layer = value.args[-1]
            if isinstance(layer, ast.Call) and last_name(layer.func) in _SQUASH:
                return _SQUASH[last_name(layer.func)]
        return None
    obj = namespace.get(name)
    if obj is None or "Sequential" not in _class_names(obj):
        return None
    try:
        layers = list(obj)  # an nn.Sequential iterates over its layers
    except Exception:
        return None
    found = _class_names(layers[-1]) & {"Softmax", "LogSoftmax", "Sigmoid"} if layers else set()
    return _SQUASH[found.pop()] if found else None


def _squashed_logits(facts: Facts, namespace: Mapping[str, object]) -> list[Advice]:
    advice = []
    for scope in facts.scopes:
        for call in scope.calls:
            loss = _logit_loss(call, scope, facts, namespace)
            if loss is None:
                continue
            first = call.node.args[0] if call.node.args else \
                next((k.value for k in call.node.keywords if k.arg == "input"), None)
            squash = _squash_of(first, scope, facts, namespace) if first is not None else None
            if squash is None:
                continue
            if loss == "CrossEntropyLoss":
                why = ("`CrossEntropyLoss` applies log_softmax itself and wants the raw scores "
                       f"(logits). After a {squash} the scores are squashed twice, so the gradients "
                       "shrink and the model learns slowly or stalls.")
                fix = (f"pass the logits, without the {squash}; use softmax only to read probabilities "
                       "(and argmax for labels).")
            else:
                why = ("`BCEWithLogitsLoss` applies the sigmoid itself and wants the raw score (logit). "
                       f"After a {squash} it squashes twice, so the loss and its gradients are wrong.")
                fix = (f"pass the logits, without the {squash}, or use `nn.BCELoss` if you really "
                       "have probabilities.")
            advice.append(Advice("squashed-logits", call.line,
                                 f"`{_code(call.node)}` gives {loss} a {squash} output.", why, fix))
    return advice


# -- 4 (static half). evaluation with no .eval() before it --------------------------------

def _eval_regions(facts: Facts) -> list[EvalRegion]:
    regions = []
    for scope in facts.scopes:
        modes = [(c.line, c.receiver, c.method == "eval" or _train_false(c.node))
                 for c in scope.calls if c.method in ("eval", "train") and c.receiver]
        for region in scope.regions:
            names = []
            for name, line in region.called:
                if name in BUILTIN_NAMES or name in facts.functions or name in names:
                    continue
                before = [evaluating for at, owner, evaluating in modes if owner == name and at < line]
                if not (before and before[-1]):
                    names.append(name)
            if names:
                regions.append(EvalRegion(region.line, region.end_line, region.kind, tuple(names)))
    return regions


def _train_false(node: ast.Call) -> bool:
    first = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "mode"), None)
    return isinstance(first, ast.Constant) and first.value is False


# -- 5. backward() where gradients are off ---------------------------------------------------

def _backward_without_grad(facts: Facts, namespace: Mapping[str, object]) -> list[Advice]:
    advice = []
    for scope in facts.scopes:
        for call in scope.calls:
            if not _is_backward(call) or call.grad_on:
                continue
            region = _innermost_grad_off(scope, call.line)
            context = f"`torch.{region.kind}()` (line {region.line})" if region else "a no-gradient block"
            advice.append(Advice(
                "backward-no-grad", call.line,
                f"`{_code(call.node)}` runs inside {context}.",
                "Inside that block PyTorch records nothing, so there is no graph to go back "
                "through: backward() fails, or finds no gradients to compute.",
                "compute the loss and call backward() outside the block; keep the block for "
                "evaluation and predictions."))
    return advice


def _innermost_grad_off(scope: Scope, line: int) -> Region | None:
    found = None
    for region in scope.regions:
        if region.kind != "loader" and region.line <= line <= region.end_line:
            found = region
    return found


# -- 6. a running total of loss tensors ----------------------------------------------------

def _tracked_names(scope: Scope) -> set[str]:
    """Names in this scope that hold a tensor with a graph: those backward() is called on."""
    return {c.receiver for c in scope.calls if _is_backward(c) and c.receiver and "." not in c.receiver}


def _bare_use(expr: ast.AST, names: set[str]) -> str | None:
    """The tracked name used in ``expr`` without `.item()`/`.detach()`/`float()`, if any."""
    if isinstance(expr, ast.Name):
        return expr.id if expr.id in names else None
    if isinstance(expr, ast.Call) and last_name(expr.func) in _UNTRACKED:
        return None
    if isinstance(expr, ast.Attribute) and expr.attr in _UNTRACKED:
        return None
    for child in ast.iter_child_nodes(expr):
        found = _bare_use(child, names)
        if found:
            return found
    return None


def _loss_history(facts: Facts, namespace: Mapping[str, object]) -> list[Advice]:
    advice = []
    for scope in facts.scopes:
        tracked = _tracked_names(scope)
        if not tracked:
            continue
        for acc in scope.accumulations:
            if not acc.grad_on or acc.target in tracked:
                continue
            name = _bare_use(acc.value, tracked)
            if name is None:
                continue
            kept = "list" if isinstance(acc.node, ast.Call) else "running total"
            advice.append(Advice(
                "loss-history", acc.line,
                f"`{_code(acc.node)}` keeps the `{name}` tensor itself in a {kept}, step after step.",
                f"`{name}` carries the graph that computed it; adding it up (or keeping it) links "
                "every step's graph together, so memory grows each step and the total tracks "
                "gradients it never needs.",
                f"add the number instead: `{name}.item()`."))
    return advice
