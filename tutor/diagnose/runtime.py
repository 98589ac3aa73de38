"""The runtime half of the diagnosis: cheap hooks in the worker that watch a cell train.

    watcher = Watcher(send=..., namespace=worker_namespace)
    watcher.begin(label, tree)      # before the cell: static advice, hooks on
    ...the cell runs...
    watcher.explain(err, line)      # when it raised: mistakes 8, 11 and 12
    watcher.end()                   # after it: the last losses read, hooks off

Imported by the worker only (it needs torch, imported lazily; never the UI). The hooks
are installed once, the first time a cell runs with torch loaded, and do nothing
outside a watched cell or off the cell's thread (the worker's warm-up may train too).

What one training step costs (about 1 µs on a CPU; benchmarks/diagnose_bench.py): a
wrapper around ``Tensor.backward`` that reads a CPU loss at once, and keeps a GPU loss's
data to read 100 at a time (one copy, so no extra GPU synchronisation each step); past
the first 100 steps it looks at one step in 10, for NaN only (a NaN loss makes the
weights NaN, so it stays); and a global optimizer step pre-hook that
looks for one parameter with a gradient (the last one, where a frozen model's head is). Evaluation in training mode
(mistake 4) is checked where evaluation code starts, not per layer: entering a
``no_grad``/``inference_mode`` block or iterating a DataLoader asks the watcher whether
that line opens an evaluation region the static pass flagged, and if so looks at the
models it names. Everything is wrapped: a diagnosis that fails says
nothing and never disturbs the learner's code.
"""

from __future__ import annotations

import ast
import functools
import math
import re
import sys
import threading
import weakref
from collections.abc import Callable, MutableMapping

from tutor.diagnose.advice import Advice
from tutor.diagnose.static import EvalRegion, diagnose_tree

READ_EVERY = 100  # GPU losses are read in batches of this many
FLAT_STEPS = 100  # the loss must move within the first this many steps...
FLAT_TOLERANCE = 1e-3  # ...by more than this fraction
LOOK_EVERY = 10  # past the first FLAT_STEPS steps one step in this many is looked at (a NaN stays NaN)
_GRAPH_LIMIT = 100_000  # nodes walked to find the parameters a loss reached
_DEVICE = re.compile(r"\b(cuda(?::\d+)?|mps(?::\d+)?|cpu|meta|xpu(?::\d+)?)\b", re.IGNORECASE)


class Watcher:
    # Slots: the hooks read and write these at every training step.
    __slots__ = ("send", "namespace", "eval_regions", "_thread", "label", "given", "backwards", "steps",
                 "_backward_since_step", "_pending", "_losses", "_last_value", "_last_step", "_reading", "_last_loss")

    def __init__(self, send: Callable[[Advice], None], namespace: MutableMapping[str, object]) -> None:
        self.send = send
        self.namespace = namespace
        self.eval_regions: dict[str, list[EvalRegion]] = {}  # by cell label, kept across runs
        self._thread = threading.get_ident()
        self._reset(None)

    def _reset(self, label: str | None) -> None:
        self.label = label
        self.given: set[str] = set()
        self.backwards = 0  # backward() calls in this run: "step N" in the advice
        self.steps = 0  # optimizer steps in this run
        self._backward_since_step = False
        self._pending: list[tuple[int, object]] = []  # (step, the loss's data) not read yet
        self._losses: list[float] = []  # the first FLAT_STEPS losses
        self._last_value: float | None = None  # the last loss read...
        self._last_step = 0  # ...at this step
        self._reading = True  # until a NaN was found (the flat check needs only the first steps)
        self._last_loss = None  # a weak reference to the last tensor backward() ran on

    # -- a cell's life ---------------------------------------------------------------

    def begin(self, label: str, tree: ast.AST | None) -> None:
        """A cell is about to run: give the static advice, switch the hooks on."""
        self._reset(label)
        self._thread = threading.get_ident()
        if tree is not None:
            try:
                report = diagnose_tree(tree, self.namespace)
            except Exception:  # a diagnosis bug must never stop a cell
                report = None
            if report is not None:
                if report.eval_regions:
                    self.eval_regions[label] = report.eval_regions
                else:
                    self.eval_regions.pop(label, None)
                for advice in report.advice:
                    self.give(advice)
        if "torch" in sys.modules:
            try:
                _install_hooks()
            except Exception:
                pass
        global _watching
        _watching = self

    @property
    def active(self) -> bool:
        return _watching is self

    def end(self) -> None:
        """The cell is over (finished, failed or interrupted)."""
        global _watching
        if _watching is not self:
            return
        self._read_pending()
        _watching = None
        self._pending.clear()
        self._last_loss = None

    def give(self, advice: Advice) -> None:
        """Send ``advice`` unless this run already had advice of its kind."""
        if advice.kind in self.given:
            return
        self.given.add(advice.kind)
        self.send(advice)

    # -- hooks ----------------------------------------------------------------------------

    def _after_backward(self, loss) -> None:
        # Runs at every training step: kept to a few attribute reads (see diagnose_bench.py).
        if _get_ident() != self._thread:
            return
        self.backwards = step = self.backwards + 1
        if step > FLAT_STEPS and step % LOOK_EVERY:
            return  # every touch of a tensor costs a small loop about 1% (diagnose_bench.py)
        self._backward_since_step = True
        try:
            self._last_loss = _weak(loss)
            if self._reading and loss.numel() == 1:
                if loss.is_cpu:  # no device to wait for: read it now (cheaper than keeping it)
                    value = loss.item()
                    if len(self._losses) == FLAT_STEPS and value - value == 0:  # finite, and nothing more to learn from it
                        self._last_value, self._last_step = value, step
                    else:
                        self._loss_read(step, value)
                    return
                self._pending.append((step, loss.data))  # read later, many at once
                if len(self._pending) >= READ_EVERY:
                    self._read_pending()
        except Exception:
            pass

    def _read_pending(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        try:  # one copy for all (one synchronisation on a GPU)
            import torch

            values = torch.stack([value for _, value in pending]).tolist()
        except Exception:  # losses of several devices or dtypes: one by one
            values = []
            for _, value in pending:
                try:
                    values.append(float(value))
                except Exception:
                    values.append(0.0)
        for (step, _), value in zip(pending, values):
            self._loss_read(step, float(value))

    def _loss_read(self, step: int, value: float) -> None:
        if not math.isfinite(value):
            if "loss-not-finite" not in self.given:
                self.give(_not_finite(step, value, self._last_value, self._last_step))
            self._reading = False
            return
        self._last_value, self._last_step = value, step
        if len(self._losses) < FLAT_STEPS:
            self._losses.append(value)
            if len(self._losses) == FLAT_STEPS:
                self._check_flat()

    def _check_flat(self) -> None:
        first = self._losses[0]
        if abs(first) < 1e-6 or "loss-not-finite" in self.given:
            return  # at zero already: solved, not stuck
        spread = max(self._losses) - min(self._losses)
        if spread <= FLAT_TOLERANCE * abs(first):
            self.give(_flat(first, len(self._losses), self.steps))

    def _before_step(self, optimizer) -> None:
        if _get_ident() != self._thread:
            return
        self.steps += 1
        if not self._backward_since_step:
            return  # a step with no backward in this run (e.g. a closure that calls it): nothing to judge
        self._backward_since_step = False
        try:
            last = optimizer.param_groups[-1]["params"]
            if last and last[-1].grad is not None:
                return  # the usual step, seen at once
            for group in reversed(optimizer.param_groups):  # the head is last: found at once when frozen
                for param in reversed(group["params"]):
                    if param.grad is not None:
                        return
            self._no_gradients(optimizer)
        except Exception:
            pass

    def _no_gradients(self, optimizer) -> None:
        """Every parameter of this optimizer has no gradient, after a backward(): the
        optimizer holds another model's parameters (7), or the graph was cut (8)."""
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        loss = self._last_loss() if self._last_loss is not None else None
        reached = _leaves(loss) if loss is not None else None
        if reached and not (set(reached) & held):
            modules = _modules(self.namespace, sys._getframe())
            trained = next((name for name, module in modules
                            if any(id(p) in reached for p in module.parameters())), None)
            if trained is not None:
                owner = next((name for name, module in modules
                              if any(id(p) in held for p in module.parameters())), None)
                self.give(_wrong_model(trained, owner))
                return
        self.give(_no_gradients(loss is not None and reached is not None and not reached))

    def _entering(self, frame) -> None:
        """Code is entering a ``no_grad``/``inference_mode`` block or iterating a
        DataLoader, from ``frame``: if that is an evaluation region the static pass
        flagged, is one of its models still in training mode, with layers that care?"""
        if "eval-mode" in self.given or threading.get_ident() != self._thread:
            return
        regions = self.eval_regions.get(frame.f_code.co_filename)
        if not regions:
            return
        line = frame.f_lineno
        for region in regions:
            if region.line != line:
                continue
            for name in region.names:
                kind = _training_layers(frame.f_locals.get(name, frame.f_globals.get(name)))
                if kind is not None:
                    self.give(_eval_mode(region, kind, name))
                    return

    # -- errors -----------------------------------------------------------------------------

    def explain(self, err: BaseException, line: int | None) -> Advice | None:
        """Advice for an error a training mistake causes (device mismatch, label dtype or
        shape, backward with no graph); it is also sent. Call before the traceback is dropped."""
        try:
            advice = _explain(err, line)
        except Exception:
            advice = None
        if advice is not None and self.active:
            self.give(advice)
        return advice


# -- the hooks: installed once per process, they call the watcher of the running cell --------

_watching: Watcher | None = None
_installed = False
_get_ident = threading.get_ident
_weak = weakref.ref


def _install_hooks() -> None:
    global _installed
    if _installed:
        return
    import torch
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    original = torch.Tensor.backward

    if _has_parameters(original, ("self", "gradient", "retain_graph", "create_graph", "inputs")):
        # torch's own signature, spelled out: no argument tuple and dict to build each step
        def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
            result = original(self, gradient, retain_graph, create_graph, inputs)
            watcher = _watching
            if watcher is not None:
                watcher._after_backward(self)
            return result
    else:
        def backward(self, *args, **kwargs):
            result = original(self, *args, **kwargs)
            watcher = _watching
            if watcher is not None:
                watcher._after_backward(self)
            return result

    backward = functools.wraps(original)(backward)

    def before_step(optimizer, args, kwargs):
        watcher = _watching
        if watcher is not None:
            watcher._before_step(optimizer)

    torch.Tensor.backward = backward
    register_optimizer_step_pre_hook(before_step)
    for cls in (torch.no_grad, torch.inference_mode, torch.utils.data.DataLoader):
        name = "__iter__" if cls is torch.utils.data.DataLoader else "__enter__"
        setattr(cls, name, _entry_watched(getattr(cls, name)))
    _installed = True


def _has_parameters(function, names: tuple[str, ...]) -> bool:
    import inspect

    try:
        return tuple(inspect.signature(function).parameters) == names
    except (TypeError, ValueError):
        return False


def _entry_watched(method):
    """``method`` (entering a no-gradient block, iterating a DataLoader), telling the
    watcher where from: evaluation code starts there (mistake 4)."""

    @functools.wraps(method)
    def entering(self, *args, **kwargs):
        watcher = _watching
        if watcher is not None and watcher.eval_regions:
            try:
                watcher._entering(sys._getframe(1))
            except Exception:
                pass
        return method(self, *args, **kwargs)

    return entering


# -- helpers (torch objects are only touched through their attributes) ----------------------

def _layer_kind(module) -> str | None:
    for cls in type(module).__mro__:
        if cls.__name__ == "_DropoutNd":
            return "dropout"
        if cls.__name__ == "_BatchNorm":
            return "batch norm"
    return None


def _leaves(loss) -> set[int] | None:
    """The ids of the leaf tensors (parameters) the graph behind ``loss`` reaches."""
    root = getattr(loss, "grad_fn", None)
    if root is None:
        return set()
    found: set[int] = set()
    seen, todo = set(), [root]
    while todo and len(seen) < _GRAPH_LIMIT:
        node = todo.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        variable = getattr(node, "variable", None)
        if variable is not None:
            found.add(id(variable))
        todo.extend(child for child, _ in getattr(node, "next_functions", ()))
    return found


def _modules(namespace, frame) -> list[tuple[str, object]]:
    """Models visible to the learner: in the cell's frames (innermost first), then global."""
    import torch

    found, seen = [], set()
    scopes = []
    while frame is not None:
        if frame.f_globals is namespace:
            scopes.append(frame.f_locals)
        frame = frame.f_back
    scopes.append(namespace)
    for scope in scopes:
        for name, value in list(scope.items()):
            if isinstance(value, torch.nn.Module) and id(value) not in seen and not name.startswith("_"):
                seen.add(id(value))
                found.append((name, value))
    return found


def _training_layers(value) -> str | None:
    """"dropout" or "batch norm" when ``value`` is a model in training mode with such
    layers (in training mode too); None otherwise."""
    if not getattr(value, "training", False) or not hasattr(value, "modules"):
        return None
    try:
        for module in value.modules():
            kind = _layer_kind(module) if module.training else None
            if kind is not None:
                return kind
    except Exception:
        return None
    return None


def _explain(err: BaseException, line: int | None) -> Advice | None:
    message = str(err)
    if isinstance(err, RuntimeError):
        mismatch = _device_mismatch(line, message)
        if mismatch is not None:
            return mismatch
    frame = _loss_frame(err)
    if frame is not None:
        return _labels(line, frame.f_code.co_name, frame.f_locals, err)
    if isinstance(err, RuntimeError) and "does not require grad and does not have a grad_fn" in message:
        return Advice(
            "no-gradients", line,
            "backward() found no graph to go back through: nothing this loss was computed from is "
            "tracked for gradients.",
            "PyTorch records the operations on tracked tensors (parameters) to compute gradients. A "
            "loss made under `torch.no_grad()`/`inference_mode()`, from `.detach()`, `.item()` or "
            "`torch.tensor(...)`, or from a model whose parameters are all frozen has no record.",
            "compute the loss from the model's output directly, outside `no_grad`/`inference_mode`, "
            "and keep at least some parameters with `requires_grad=True`.")
    return None


# Messages that always mean two devices; and messages where the names of the tensors'
# types say the devices (``torch.cuda.FloatTensor``): those are a device mismatch only
# when two devices are named (otherwise it is a dtype mismatch on one device).
_MISMATCH = ("Expected all tensors to be on the same device", "is not on the expected device",
             "Placeholder storage has not been allocated on MPS", "Expected object of device type",
             "but expected it to be on GPU", "indices should be either on cpu or on the same device")
_MISMATCH_IF_TWO = ("should be the same or input should be a MKLDNN tensor",)
_TYPE_NAME = re.compile(r"\btorch\.(?:(cuda|mps)\.)?\w*Tensor\b")  # torch.cuda.FloatTensor: a device


def _type_device(match: re.Match) -> str:
    return match.group(1) or "cpu"


def _device_mismatch(line: int | None, message: str) -> Advice | None:
    sure = any(part in message for part in _MISMATCH)
    if not sure and not any(part in message for part in _MISMATCH_IF_TWO):
        return None
    devices = []
    for match in _DEVICE.finditer(_TYPE_NAME.sub(_type_device, message)):
        name = match.group(1).lower()
        if name not in devices:
            devices.append(name)
    if "MPS" in message and "mps" not in devices:
        devices.append("mps")
    if not sure and len(devices) < 2:
        return None
    which = f" ({' and '.join(devices[:2])})" if len(devices) >= 2 else ""
    return Advice(
        "device-mismatch", line,
        f"the model and the tensors it got are on different devices{which}.",
        "PyTorch computes only with tensors on one device: the model's weights and its inputs (and "
        "the labels) must all be on the CPU, or all on the same GPU.",
        "move both to one device: `model.to(device)` once, and `X, y = X.to(device), y.to(device)` "
        "for every batch, with `device = \"cuda\" if torch.cuda.is_available() else \"cpu\"`.")


_LOSS_FRAMES = {"cross_entropy": "CrossEntropyLoss", "nll_loss": "NLLLoss",
                "binary_cross_entropy_with_logits": "BCEWithLogitsLoss",
                "binary_cross_entropy": "BCELoss"}


def _loss_frame(err: BaseException):
    """The frame of torch's classification loss function the error came out of, if any."""
    tb, found = err.__traceback__, None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name in _LOSS_FRAMES and "torch" in code.co_filename and "target" in tb.tb_frame.f_locals:
            found = tb.tb_frame
        tb = tb.tb_next
    return found


def _shape(tensor) -> str:
    dims = tuple(tensor.shape)
    return f"({dims[0]},)" if len(dims) == 1 else str(dims)


def _labels(line: int | None, function: str, scope: dict, err: BaseException) -> Advice | None:
    loss = _LOSS_FRAMES[function]
    logits, target = scope.get("input"), scope.get("target")
    if logits is None or target is None or not hasattr(target, "dtype"):
        return None
    dtype = str(target.dtype).replace("torch.", "")
    floating = target.dtype.is_floating_point
    if loss in ("CrossEntropyLoss", "NLLLoss"):
        if floating and target.dim() == logits.dim() - 1:
            return Advice(
                "label-dtype", line,
                f"{loss} got labels of dtype {dtype}; it wants class numbers.",
                f"For {loss} each label is the number of its class (0, 1, 2, ...), stored as whole "
                "numbers (`torch.long`), one per example: shape (N,) for N examples.",
                "turn them into class numbers: `y.long()`, or make them with `dtype=torch.long`.")
        if target.dim() == logits.dim() and target.shape[-1] == 1:
            return Advice(
                "label-dtype", line,
                f"{loss} got labels of shape {_shape(target)} for outputs of shape {_shape(logits)}.",
                f"{loss} wants one class number per example, shape (N,), not a column (N, 1).",
                "drop the extra dimension: `y.squeeze(1)` (or `y.view(-1)`).")
        if isinstance(err, IndexError) and not floating and logits.dim() >= 2:
            classes = logits.shape[1]
            return Advice(
                "label-dtype", line,
                f"a label is outside 0..{classes - 1}: the model gives {classes} scores per example.",
                f"Each label picks one of the model's {classes} outputs, so labels must go from 0 to "
                f"{classes - 1}.",
                "give the model one output per class (the last layer's out_features), or renumber "
                "the labels from 0.")
        return None
    if tuple(target.shape) != tuple(logits.shape):
        squeeze = "`logits.squeeze(1)`" if logits.dim() == target.dim() + 1 else "`y.view_as(logits)`"
        return Advice(
            "label-dtype", line,
            f"{loss} got outputs of shape {_shape(logits)} and labels of shape {_shape(target)}.",
            f"{loss} compares each output with its label, one to one, so both must have the same shape.",
            f"make the shapes match, e.g. {squeeze} before the loss.")
    if not floating:
        return Advice(
            "label-dtype", line,
            f"{loss} got labels of dtype {dtype}; it wants floats.",
            f"{loss} treats each label as a probability, 0.0 or 1.0, so labels must be floats.",
            "turn them into floats: `y.float()`.")
    return None


# -- the words of the runtime advice ----------------------------------------------------------

def _not_finite(step: int, value: float, before: float | None, before_step: int) -> Advice:
    if before is None:
        when = f"at step {step} of this run"
    elif before_step == step - 1:
        when = f"at step {step} of this run (it was {before:.4g} before)"
    else:  # past the first steps, not every step is looked at
        when = f"by step {step} of this run (it was {before:.4g} at step {before_step})"
    return Advice(
        "loss-not-finite", None,
        f"the loss became {value} {when}.",
        "Once the loss is NaN or infinite, the gradients are too, and every weight they touch "
        "turns NaN: the model stops learning for good.",
        "the usual causes: a learning rate too high (try 10 times smaller), a log of 0 (use a loss "
        "that takes logits, such as `BCEWithLogitsLoss`), or a division by zero; then rebuild the "
        "model, since its weights are already NaN.")


def _flat(value: float, steps: int, optimizer_steps: int) -> Advice:
    cause = ("`optimizer.step()` never ran in this run, so nothing changed the weights. Then check "
             if optimizer_steps == 0 else "Check ")
    return Advice(
        "loss-flat", None,
        f"the loss stayed at {value:.4g} (within 0.1%) for the first {steps} steps.",
        "A loss that does not move means the weights are not changing, or their change does not "
        "matter: the model is not learning.",
        f"{cause}the learning rate (too small, or 0?), that the optimizer holds this model's "
        "parameters, and the data and labels (do the labels belong to these inputs?).")


def _wrong_model(trained: str, owner: str | None) -> Advice:
    holds = f"the parameters of `{owner}`" if owner else "other parameters"
    return Advice(
        "optimizer-model", None,
        f"`optimizer.step()` updates {holds}, but the gradients came from `{trained}`.",
        f"The optimizer only changes the parameters it was given when it was made, so `{trained}` "
        "never learns (and its gradients pile up).",
        f"make the optimizer for the model you train: "
        f"`optimizer = torch.optim.SGD({trained}.parameters(), lr=...)`.")


def _no_gradients(graph_cut: bool) -> Advice:
    what = ("the loss is not connected to any parameter" if graph_cut
            else "no parameter of the optimizer got a gradient")
    return Advice(
        "no-gradients", None,
        f"after backward(), every gradient of the optimizer's parameters is None: {what}.",
        "The step has nothing to follow, so the weights never change. The usual causes: the graph was "
        "cut (the loss was rebuilt with `.item()`, `.detach()` or `torch.tensor(...)`), the parameters "
        "are frozen (`requires_grad=False`), or `zero_grad()` ran between `backward()` and `step()`.",
        "compute the loss straight from the model's output and call `backward()` on it; call "
        "`zero_grad()` before `backward()`, never between it and `step()`.")


def _eval_mode(region: EvalRegion, kind: str, model: str) -> Advice:
    context = "over test data" if region.kind == "loader" else f"under `torch.{region.kind}()`"
    return Advice(
        "eval-mode", region.line,
        f"`{model}` is evaluated {context} while still in training mode, and it has {kind} layers.",
        "In training mode dropout switches off random values and batch norm uses each batch's own "
        "statistics (and updates its running ones), so the results are noisy and worse than the "
        "model really is.",
        f"call `{model}.eval()` before evaluating, and `{model}.train()` before training again.")
