"""Helpers for exercise checks: failures that teach.

Checks run in the worker, after the learner's code, in the same namespace::

    from tutor.checks import expect_tensor
    expect_tensor(result, shape=(7, 1), dtype=torch.float32, name="result")

Every helper raises ``AssertionError`` with a message written for the learner, e.g.
"expected `result` to have shape (7, 1), got (1, 7): did you forget to transpose?".
torch is imported lazily, so importing this module costs nothing.
"""

from __future__ import annotations

from typing import Any


def _shape(value) -> tuple[int, ...]:
    return tuple(int(d) for d in value)


def _fmt_shape(shape) -> str:
    shape = _shape(shape)
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def shape_advice(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """A guess at what went wrong between two shapes, or ""."""
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
    n_got = 1
    for d in got:
        n_got *= d
    n_want = 1
    for d in want:
        n_want *= d
    if n_got == n_want:
        return "it holds the right number of values: try .reshape()"
    return ""


def _dtype_advice(got, want) -> str:
    import torch

    if want.is_floating_point and not got.is_floating_point:
        return f"integers can't hold fractions: convert with .float() or .to({want})"
    if got.is_floating_point and not want.is_floating_point:
        return f"convert with .to({want}) (or .long() for class labels)"
    if want == torch.float32 and got == torch.float64:
        return "NumPy arrays become float64: use .float() or torch.from_numpy(a).float()"
    return f"convert with .to({want})"


def expect_tensor(
    value: Any,
    *,
    shape: tuple[int, ...] | None = None,
    dtype: Any = None,
    device: Any = None,
    close_to: Any = None,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    name: str = "your tensor",
) -> None:
    """Assert that ``value`` is a tensor with the given properties."""
    import torch

    label = f"`{name}`" if name != "your tensor" else name
    if value is ... or value is None:
        raise AssertionError(f"{label} is still {value!r}: replace it with your code")
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"expected {label} to be a torch.Tensor, got {type(value).__name__}")
    if shape is not None:
        want = _shape(shape)
        got = _shape(value.shape)
        if got != want:
            advice = shape_advice(got, want)
            raise AssertionError(
                f"expected {label} to have shape {_fmt_shape(want)}, got {_fmt_shape(got)}"
                + (f": {advice}" if advice else "")
            )
    if dtype is not None and value.dtype != dtype:
        raise AssertionError(
            f"expected {label} to have dtype {dtype}, got {value.dtype}: {_dtype_advice(value.dtype, dtype)}"
        )
    if device is not None:
        want_device = torch.device(device)
        if value.device.type != want_device.type or (
            want_device.index is not None and value.device.index != want_device.index
        ):
            raise AssertionError(
                f"expected {label} on {want_device}, got {value.device}: move it with .to({str(want_device)!r})"
                " (or .to(device) with the device you made earlier)"
            )
    if close_to is not None:
        target = torch.as_tensor(close_to)
        actual = value.detach().cpu()
        target = target.to(dtype=actual.dtype if actual.is_floating_point() else torch.float64)
        if actual.shape != target.shape:
            raise AssertionError(
                f"expected {label} to have shape {_fmt_shape(target.shape)}, got {_fmt_shape(actual.shape)}"
            )
        if not torch.allclose(actual.to(target.dtype), target, atol=atol, rtol=rtol):
            diff = (actual.to(target.dtype) - target).abs()
            worst = int(diff.argmax())
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


def expect_close(value: Any, expected: float, *, tolerance: float = 1e-4, name: str = "your value") -> None:
    """Assert that a number (or a one-element tensor) is close to ``expected``."""
    label = f"`{name}`" if name != "your value" else name
    if value is ... or value is None:
        raise AssertionError(f"{label} is still {value!r}: replace it with your code")
    try:
        number = float(value.item() if hasattr(value, "item") else value)
    except (TypeError, ValueError, RuntimeError):
        raise AssertionError(f"expected {label} to be a number, got {type(value).__name__}") from None
    if abs(number - expected) > tolerance:
        raise AssertionError(f"expected {label} to be about {expected:.6g}, got {number:.6g}")
