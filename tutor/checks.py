"""Helpers for exercise checks: failures that teach.

Checks run in the worker, after the learner's code, in the same namespace::

    from tutor.checks import expect_defined, expect_tensor
    expect_defined("result")
    expect_tensor(result, shape=(7, 1), dtype=torch.float32, name="result")

Every helper raises ``AssertionError`` with a message written for the learner, e.g.
"expected `result` to have shape (7, 1), got (1, 7): did you forget to transpose?".
torch is imported lazily, so importing this module costs nothing.

- ``expect_defined(*names)``: the learner made these variables (and replaced ``...``).
- ``expect_tensor(value, shape=, dtype=, device=, close_to=, requires_grad=)``; ``None``
  in ``shape`` matches any size (a batch dimension, say).
- ``expect_close(value, expected, tolerance=)``: a number or a one-element tensor.
- ``expect_equal(value, expected)``: anything; tensors element by element.
- ``expect_below(value, limit, advice=)``: e.g. a loss after training.
- ``expect_seeded(value, seed)``: what ``torch.manual_seed(seed)`` then ``torch.rand`` gives,
  on the tensor's own device (``seeded_draw`` makes that reference without disturbing
  the learner's random state).
- ``train_blind(train, X, y, hidden=(...))``: call the learner's training function on the
  check's own data, with the lesson's data sets (``hidden``) out of its reach.
- ``expect_module(model, kind=, input=, output_shape=, parameters=)``: an ``nn.Module``
  that runs on ``input`` (errors explained) and gives ``output_shape``.
- ``expect_accuracy(model, inputs, targets, at_least=)``: class predictions from logits.
- ``error_advice(exc)``: a hint for common PyTorch errors (shape, dtype, device).
"""

from __future__ import annotations

import math
import re
import sys
from typing import Any


def _shape(value) -> tuple:
    return tuple(None if d is None else int(d) for d in value)


def _fmt_shape(shape) -> str:
    shape = _shape(shape)
    dims = ["any" if d is None else str(d) for d in shape]
    return "(" + ", ".join(dims) + ("," if len(shape) == 1 else "") + ")"


def _label(name: str) -> str:
    """A variable's name in backticks; descriptions ("your model") as they are."""
    return f"`{name}`" if re.fullmatch(r"[A-Za-z_][\w.\[\]'\"]*", name) else name


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shape_advice(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """A guess at what went wrong between two shapes, or ""."""
    got, want = tuple(got), tuple(want)
    if got == tuple(reversed(want)) and got != want:
        return "did you forget to transpose?"
    if sorted(got) == sorted(want):
        return "the same sizes in another order: check .permute() or the order of the dimensions"
    squeezed_got = tuple(d for d in got if d != 1)
    squeezed_want = tuple(d for d in want if d != 1)
    if squeezed_got == squeezed_want:
        if len(got) > len(want):
            return "it has extra dimensions of size 1: try .squeeze()"
        return "it is missing a dimension of size 1: try .unsqueeze()"
    if math.prod(got) == math.prod(want):
        return "it holds the right number of values: try .reshape()"
    return ""


_CONVERSIONS = {
    "torch.float32": ".float()", "torch.float64": ".double()", "torch.float16": ".half()",
    "torch.bfloat16": ".bfloat16()", "torch.int64": ".long()", "torch.int32": ".int()",
    "torch.bool": ".bool()", "torch.uint8": ".byte()",
}


def dtype_advice(got, want) -> str:
    """How to turn a tensor of dtype ``got`` into ``want``, and why it may have happened."""
    import torch

    convert = _CONVERSIONS.get(str(want), f".to({want})")
    if want.is_floating_point and got == torch.bool:
        return f"comparisons give bool tensors: convert with {convert}"
    if want.is_floating_point and not got.is_floating_point:
        return (f"integers can't hold fractions (or gradients): convert with {convert}, or make the "
                "tensor from floats, e.g. torch.tensor([1.0, 2.0])")
    if want == torch.float32 and got == torch.float64:
        return f"NumPy arrays give float64: convert with {convert}, e.g. torch.from_numpy(a).float()"
    if got.is_floating_point and not want.is_floating_point:
        if want == torch.int64:
            return f"class labels and indices must be whole numbers: convert with {convert}"
        return f"convert with {convert}"
    return f"convert with {convert}"


def _fill_any(want: tuple, got: tuple) -> tuple:
    """``want`` with its ``None`` sizes taken from ``got`` (or from ``got`` reversed, when
    that fits: a transposed tensor), for shape advice."""
    if None not in want:
        return want
    for candidate in (got, tuple(reversed(got))):
        if len(candidate) == len(want) and all(w is None or w == c for c, w in zip(candidate, want)):
            return candidate
    if len(got) == len(want):
        return tuple(g if w is None else w for g, w in zip(got, want))
    return tuple(1 if w is None else w for w in want)


def _device_advice(got, want) -> str:
    if want.type == "cpu":
        return "bring it back with .cpu() (NumPy, matplotlib and printing need the CPU)"
    return "move it with .to(device), using the device you picked earlier"


def _not_a_tensor(value: Any, label: str) -> str:
    kind = type(value).__name__
    if type(value).__module__ == "numpy":
        return f"expected {label} to be a torch.Tensor, got a NumPy array: convert with torch.from_numpy(...)"
    if isinstance(value, (list, tuple)):
        return f"expected {label} to be a torch.Tensor, got a {kind}: make one with torch.tensor(...)"
    if isinstance(value, (int, float, bool)):
        return (f"expected {label} to be a torch.Tensor, got the Python number {value!r}: "
                "did you call .item()? Keep the tensor (or wrap it with torch.tensor(...))")
    if hasattr(value, "parameters") and callable(value):
        return f"expected {label} to be a torch.Tensor, got a model ({kind}): call it on an input to get a tensor"
    return f"expected {label} to be a torch.Tensor, got {kind}"


def _still_blank(value: Any, label: str) -> None:
    if value is ... or value is None:  # the ``...`` as the learner sees it, not ``Ellipsis``
        raise AssertionError(f"{label} is still {'...' if value is ... else 'None'}: replace it with your code")


def expect_defined(*names: str) -> None:
    """Assert that the learner defined these variables (and replaced any ``...``)."""
    caller = sys._getframe(1)
    namespace = {**caller.f_globals, **caller.f_locals}
    for name in names:
        if name not in namespace:
            raise AssertionError(f"define a variable named `{name}` (there is none yet)")
        if namespace[name] is ...:
            raise AssertionError(f"`{name}` is still ...: replace the ... with your code")


def _as_dtype(dtype):
    import torch

    if isinstance(dtype, str):
        return getattr(torch, dtype.removeprefix("torch."))
    return dtype


def expect_tensor(
    value: Any,
    *,
    shape: tuple[int | None, ...] | None = None,
    dtype: Any = None,
    device: Any = None,
    close_to: Any = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    requires_grad: bool | None = None,
    name: str = "your tensor",
) -> None:
    """Assert that ``value`` is a tensor with the given properties."""
    import torch

    label = _label(name)
    _still_blank(value, label)
    if not isinstance(value, torch.Tensor):
        raise AssertionError(_not_a_tensor(value, label))
    if shape is not None:
        want = _shape(shape)
        got = _shape(value.shape)
        if len(got) != len(want) or any(w is not None and g != w for g, w in zip(got, want)):
            advice = shape_advice(got, _fill_any(want, got))
            raise AssertionError(
                f"expected {label} to have shape {_fmt_shape(want)}, got {_fmt_shape(got)}"
                + (f": {advice}" if advice else "")
            )
    if dtype is not None:
        dtype = _as_dtype(dtype)
        if value.dtype != dtype:
            raise AssertionError(
                f"expected {label} to have dtype {dtype}, got {value.dtype}: {dtype_advice(value.dtype, dtype)}"
            )
    if device is not None:
        want_device = torch.device(device)
        if value.device.type != want_device.type or (
            want_device.index is not None and value.device.index != want_device.index
        ):
            raise AssertionError(
                f"expected {label} on {want_device}, got {value.device}: {_device_advice(value.device, want_device)}"
            )
    if requires_grad is not None and value.requires_grad != requires_grad:
        if requires_grad:
            raise AssertionError(f"{label} does not track gradients: create it with requires_grad=True "
                                 "(or call .requires_grad_())")
        raise AssertionError(f"{label} still tracks gradients: use .detach(), or compute it under "
                             "torch.no_grad() / torch.inference_mode()")
    if close_to is not None:
        _expect_values(value, close_to, atol=atol, rtol=rtol, label=label)


def _expect_values(value, close_to, *, atol: float, rtol: float, label: str) -> None:
    import torch

    target = close_to.detach().cpu() if isinstance(close_to, torch.Tensor) else torch.as_tensor(close_to)
    actual = value.detach().cpu()
    common = torch.promote_types(actual.dtype, target.dtype)
    if not common.is_floating_point:
        common = torch.float64
    actual, target = actual.to(common), target.to(common)
    if actual.shape != target.shape:
        got, want = _shape(actual.shape), _shape(target.shape)
        advice = shape_advice(got, want)
        raise AssertionError(f"expected {label} to have shape {_fmt_shape(want)}, got {_fmt_shape(got)}"
                             + (f": {advice}" if advice else ""))
    bad = torch.isnan(actual) & ~torch.isnan(target)
    if bad.any():
        where = _index(int(bad.flatten().nonzero()[0]), actual.shape)
        raise AssertionError(f"{label} holds NaN (not a number) at position {where}: look for a division "
                             "by zero, a log of 0, or a learning rate that is too high")
    if not torch.allclose(actual, target, atol=atol, rtol=rtol, equal_nan=True):
        diff = (actual - target).abs().nan_to_num(nan=0.0)
        worst = int(diff.flatten().argmax())
        raise AssertionError(
            f"{label} has the right shape but different values: at position {_index(worst, actual.shape)} "
            f"it holds {actual.flatten()[worst].item():.6g}, expected {target.flatten()[worst].item():.6g}"
        )


def _index(flat: int, shape) -> tuple[int, ...] | int:
    if len(shape) <= 1:
        return flat
    index = []
    for size in reversed(_shape(shape)):
        index.append(flat % size)
        flat //= size
    return tuple(reversed(index))


def _number(value: Any, label: str) -> float:
    """A float from a number or a one-element tensor, or an AssertionError that says why not."""
    _still_blank(value, label)
    if isinstance(value, (str, bytes)):
        raise AssertionError(f"expected {label} to be a number, got the text {_short(value)}")
    numel = getattr(value, "numel", None)
    if callable(numel) and numel() != 1:
        raise AssertionError(f"expected {label} to be a single number, got a tensor of shape "
                             f"{_fmt_shape(value.shape)}: reduce it (e.g. .mean() or .sum()) first")
    try:
        return float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"expected {label} to be a number, got {type(value).__name__}") from None


def expect_close(value: Any, expected: float, *, tolerance: float = 1e-4, name: str = "your value") -> None:
    """Assert that a number (or a one-element tensor) is close to ``expected``."""
    label = _label(name)
    number = _number(value, label)
    if math.isnan(number):
        raise AssertionError(f"{label} is NaN (not a number): look for a division by zero or a log of 0")
    if abs(number - expected) > tolerance:
        raise AssertionError(f"expected {label} to be about {expected:.6g}, got {number:.6g}")


def expect_below(value: Any, limit: float, *, name: str = "your value", advice: str = "") -> None:
    """Assert that a number (e.g. a loss after training) is below ``limit``."""
    label = _label(name)
    number = _number(value, label)
    if not number < limit:  # NaN fails too
        advice = f": {advice}" if advice else ""
        raise AssertionError(f"expected {label} below {limit:.6g}, got {number:.6g}{advice}")


def expect_equal(value: Any, expected: Any, *, name: str = "your value") -> None:
    """Assert that ``value == expected`` (tensors: same shape and the same elements)."""
    label = _label(name)
    _still_blank(value, label)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(expected, torch.Tensor):
        expect_tensor(value, shape=tuple(expected.shape), close_to=expected, atol=0, rtol=0, name=name)
        return
    if isinstance(value, bool) != isinstance(expected, bool) or (
        isinstance(value, str) != isinstance(expected, str)
    ):
        raise AssertionError(f"expected {label} to be {_short(expected)} ({type(expected).__name__}), "
                             f"got {_short(value)} ({type(value).__name__})")
    if value != expected:
        raise AssertionError(f"expected {label} to be {_short(expected)}, got {_short(value)}")


def _saved_generators() -> list[tuple[Any, Any]]:
    """(restore function, state) for every random generator ``torch.manual_seed`` touches
    that is already running (CUDA is not started just for this)."""
    import torch

    saved = [(torch.set_rng_state, torch.get_rng_state())]
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        saved.append((torch.cuda.set_rng_state_all, torch.cuda.get_rng_state_all()))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        saved.append((torch.mps.set_rng_state, torch.mps.get_rng_state()))
    return saved


def seeded_draw(seed: int, shape: tuple[int, ...], *, device: Any = "cpu", dtype: Any = None) -> Any:
    """What ``torch.manual_seed(seed)`` then ``torch.rand(*shape)`` gives on ``device``.
    Each device has its own generator (a GPU draws other numbers than the CPU for the same
    seed), so a check compares with the draw on the learner's device. The learner's
    random state is left as it was."""
    import torch

    saved = _saved_generators()
    try:
        torch.manual_seed(seed)
        return torch.rand(*shape, device=device, dtype=dtype)
    finally:
        for restore, state in saved:
            restore(state)


def expect_seeded(value: Any, seed: int, *, name: str = "your tensor") -> None:
    """Assert that ``value`` holds what seed ``seed`` gives for ``torch.rand`` of its
    shape: drawn on its own device, or drawn on the CPU and moved there."""
    import torch

    label = _label(name)
    _still_blank(value, label)
    if not isinstance(value, torch.Tensor):
        raise AssertionError(_not_a_tensor(value, label))
    if not value.is_floating_point():
        raise AssertionError(f"expected {label} to hold random fractions (torch.rand), got dtype {value.dtype}")
    shape = tuple(value.shape)
    actual = value.detach().cpu()
    for device in dict.fromkeys([value.device, torch.device("cpu")]):
        if torch.equal(actual, seeded_draw(seed, shape, device=device, dtype=value.dtype).cpu()):
            return
    raise AssertionError(f"{label} holds other numbers than seed {seed} gives: call "
                         f"torch.manual_seed({seed}) right before torch.rand(...)")


class _Quiet:
    """Stands in for ``tutor.live`` while a check reruns the learner's training: the
    check's own run draws nothing."""

    def __getattr__(self, name: str):
        return lambda *args, **kwargs: None


def train_blind(train: Any, *data: Any, hidden: tuple[str, ...], name: str = "your function") -> Any:
    """Call the learner's ``train(*data)`` (e.g. ``train_moons(X, y)``) on data the check
    made, with the lesson's own data sets out of reach: the names in ``hidden`` leave the
    learner's namespace while it runs, and come back after. So the check grades the
    recipe on data the learner never saw, and a function that trains on the test set
    fails with a message that says so. Returns what ``train`` returns."""
    import inspect

    label = _label(name)
    _still_blank(train, label)
    if not callable(train):
        raise AssertionError(f"expected {label} to be a function, got {type(train).__name__}")
    if callable(getattr(train, "parameters", None)):  # a model is callable too, but it is not the recipe
        raise AssertionError(f"{label} is a model ({type(train).__name__}): write a function that makes a model, "
                             "trains it on the data it is given, and returns it")
    try:
        inspect.signature(train).bind(*data)
    except TypeError:
        raise AssertionError(f"{label} should take {len(data)} arguments (the data to train on), "
                             f"like {name}(X_train, y_train)") from None
    except ValueError:  # no signature to read (a builtin): just call it
        pass
    namespace = getattr(train, "__globals__", {})
    saved = {key: namespace.pop(key) for key in hidden if key in namespace}
    if "live" in namespace:
        saved["live"] = namespace["live"]
        namespace["live"] = _Quiet()
    try:
        return train(*data)
    except NameError as err:
        missing = getattr(err, "name", None)
        if missing in saved:
            raise AssertionError(
                f"{label} reaches for `{missing}`, which it was not given: a model must learn only from "
                "the data passed to it, and never see the test set") from None
        raise
    finally:
        namespace.update(saved)


_ERROR_ADVICE = (
    (r"mat1 and mat2 shapes cannot be multiplied|size mismatch",
     "the size of the input's last dimension must equal the in_features of the Linear layer it goes into"),
    (r"Expected all tensors to be on the same device",
     "put the model and its data on the same device: model.to(device) and x.to(device)"),
    (r"expected (scalar type|m1 and m2 to have the same dtype|mat1 and mat2 to have the same dtype)|"
     r"must have the same dtype|found dtype Long but expected Float|found dtype Double but expected Float",
     "the dtypes differ: models use float32, so convert the data with .float() (class labels with .long())"),
    (r"Expected (input|target) batch_size .* to match",
     "the predictions and the labels must have the same number of samples"),
    (r"Expected \d+D \(unbatched\) or \d+D \(batched\) input",
     "add the batch dimension with .unsqueeze(0)"),
    (r"Given groups=\d+, weight of size .* expected input.* to have \d+ channels",
     "the number of channels of the input must equal the in_channels of the Conv2d layer"),
    (r"element 0 of tensors does not require grad",
     "the loss does not depend on anything with requires_grad=True: did you detach it or use no_grad?"),
    (r"Trying to backward through the graph a second time",
     "compute the loss again in every step (forward pass, loss, backward) before calling .backward()"),
)


def error_advice(error: BaseException) -> str:
    """A hint for the common PyTorch errors (shapes, dtypes, devices), or ""."""
    message = str(error)
    for pattern, advice in _ERROR_ADVICE:
        if re.search(pattern, message):
            return advice
    return ""


def _call_model(module, inputs, label: str):
    import torch

    try:
        with torch.no_grad():
            return module(inputs)
    except Exception as err:  # the learner's model failed: say how, not where in torch
        what = f"input of shape {_fmt_shape(inputs.shape)}" if isinstance(inputs, torch.Tensor) else "the input"
        advice = error_advice(err)
        first = (str(err).strip().splitlines() or [""])[0]
        raise AssertionError(f"calling {label} on an {what} raised {type(err).__name__}: {first}"
                             + (f" ({advice})" if advice else "")) from None


def expect_module(
    module: Any,
    *,
    kind: type | None = None,
    input: Any = None,  # noqa: A002 - reads like the model's call
    output_shape: tuple[int | None, ...] | None = None,
    parameters: int | None = None,
    name: str = "your model",
) -> Any:
    """Assert that ``module`` is a model that works; returns its output on ``input``."""
    from torch import nn

    label = _label(name)
    _still_blank(module, label)
    if isinstance(module, type) and issubclass(module, nn.Module):
        raise AssertionError(f"{label} is the class {module.__name__}, not a model: create one with "
                             f"{module.__name__}(...)")
    if not isinstance(module, nn.Module):
        raise AssertionError(f"expected {label} to be a model (an nn.Module), got {type(module).__name__}")
    if kind is not None and not isinstance(module, kind):
        raise AssertionError(f"expected {label} to be a {kind.__name__}, got {type(module).__name__}")
    if parameters is not None:
        count = sum(p.numel() for p in module.parameters() if p.requires_grad)
        if count != parameters:
            raise AssertionError(f"expected {label} to have {parameters:,} trainable parameters, got {count:,}: "
                                 "check the sizes of its layers")
    if input is None:
        return None
    output = _call_model(module, input, label)
    if output_shape is not None:
        expect_tensor(output, shape=output_shape, name=f"the output of {name}")
    return output


def accuracy(outputs, targets, *, threshold: float = 0.0) -> float:
    """The share of right predictions: argmax over classes, or ``outputs > threshold``
    for one output per sample (logits; use 0.5 for probabilities)."""
    outputs = outputs.detach().cpu()
    targets = targets.detach().cpu()
    if outputs.ndim >= 2 and outputs.shape[-1] > 1:
        predicted = outputs.argmax(dim=-1)
    else:
        predicted = (outputs.reshape(targets.shape) > threshold).to(targets.dtype)
    right = predicted == targets
    # Counted in integers: 450 of 500 is exactly 0.9, where a float32 mean gives 0.8999999762.
    return int(right.sum().item()) / max(right.numel(), 1)


def expect_accuracy(
    model: Any,
    inputs: Any,
    targets: Any,
    *,
    at_least: float,
    threshold: float = 0.0,
    name: str = "your model",
) -> float:
    """Assert that ``model`` gets at least ``at_least`` (0 to 1) of ``targets`` right."""
    label = _label(name)
    expect_module(model, name=name)
    was_training = model.training
    model.eval()
    try:
        outputs = _call_model(model, inputs, label)
    finally:
        model.train(was_training)
    if outputs.shape[0] != targets.shape[0]:
        raise AssertionError(f"{label} gave {outputs.shape[0]} predictions for {targets.shape[0]} labels")
    score = accuracy(outputs, targets, threshold=threshold)
    if score < at_least - 1e-9:  # at_least=0.8 is met by 120 of 150, whatever the rounding
        raise AssertionError(f"{label} gets {score:.1%} of {targets.shape[0]} examples right; it needs at least "
                             f"{at_least:.0%}: train for more epochs, or check the learning rate and the loss")
    return score
