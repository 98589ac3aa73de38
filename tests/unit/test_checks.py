"""Check helpers: a right answer passes; each mistake gets the message that teaches."""

from __future__ import annotations

import re

import pytest

from tutor.checks import (
    accuracy,
    error_advice,
    expect_accuracy,
    expect_below,
    expect_close,
    expect_defined,
    expect_equal,
    expect_module,
    expect_seeded,
    expect_tensor,
    seeded_draw,
    shape_advice,
    train_blind,
)


torch = nn = None  # imported by the fixture below: never at collection, where the UI tests
                  # (which must run without torch in their process) would see it


@pytest.fixture(autouse=True, scope="module")
def import_torch():
    global torch, nn
    torch = pytest.importorskip("torch")
    nn = torch.nn


def fails(match: str):
    return pytest.raises(AssertionError, match=match)


# -- expect_tensor -----------------------------------------------------------------------


def test_a_right_tensor_passes():
    x = torch.rand(7, 1)
    expect_tensor(x, shape=(7, 1), dtype=torch.float32, device="cpu", close_to=x.clone())
    expect_tensor(x, shape=torch.Size([7, 1]), dtype="float32")


def test_transposed_shape():
    with fails(re.escape("expected `result` to have shape (7, 1), got (1, 7): did you forget to transpose?")):
        expect_tensor(torch.zeros(1, 7), shape=(7, 1), name="result")


@pytest.mark.parametrize("got, want, advice", [
    ((3, 7, 5), (5, 3, 7), "another order"),
    ((1, 10), (10,), ".squeeze()"),
    ((3, 28, 28), (1, 3, 28, 28), ".unsqueeze()"),
    ((2, 6), (3, 4), ".reshape()"),
    ((2, 5), (3, 4), None),
])
def test_shape_advice(got, want, advice):
    if advice is None:
        assert shape_advice(got, want) == ""
    else:
        assert advice in shape_advice(got, want)
        with fails(re.escape(advice)):
            expect_tensor(torch.zeros(got), shape=want)


def test_none_in_a_shape_matches_any_size():
    expect_tensor(torch.zeros(32, 10), shape=(None, 10))
    with fails(re.escape("shape (any, 10), got (32, 3)")):
        expect_tensor(torch.zeros(32, 3), shape=(None, 10))
    with fails(re.escape("got (10, 32): did you forget to transpose?")):
        expect_tensor(torch.zeros(10, 32), shape=(None, 10))


def test_one_dimensional_shape_is_written_with_a_comma():
    with fails(re.escape("shape (11,), got (10,)")):
        expect_tensor(torch.zeros(10), shape=(11,))


def test_integers_where_floats_are_needed():
    with fails(r"dtype torch.float32, got torch.int64: integers can't hold fractions .* convert with \.float\(\)"):
        expect_tensor(torch.tensor([1, 2]), dtype=torch.float32)


def test_float64_from_numpy():
    with fails(r"got torch.float64: NumPy arrays give float64: convert with \.float\(\)"):
        expect_tensor(torch.zeros(2, dtype=torch.float64), dtype=torch.float32)


def test_floats_where_labels_are_needed():
    with fails(r"got torch.float32: class labels .* \.long\(\)"):
        expect_tensor(torch.zeros(2), dtype=torch.int64)


def test_bool_where_floats_are_needed():
    with fails(r"comparisons give bool tensors: convert with \.float\(\)"):
        expect_tensor(torch.zeros(2) > 0, dtype=torch.float32)


def test_device_mismatch():
    with fails(r"expected `x` on cuda, got cpu: move it with \.to\(device\)"):
        expect_tensor(torch.zeros(2), device="cuda", name="x")
    meta = torch.zeros(2, device="meta")
    with fails(r"on cpu, got meta: bring it back with \.cpu\(\)"):
        expect_tensor(meta, device="cpu")


def test_requires_grad():
    expect_tensor(torch.zeros(2, requires_grad=True), requires_grad=True)
    with fails("requires_grad=True"):
        expect_tensor(torch.zeros(2), requires_grad=True)
    with fails(r"\.detach\(\)"):
        expect_tensor(torch.zeros(2, requires_grad=True) * 2, requires_grad=False)


@pytest.mark.parametrize("make, message", [
    (lambda: ..., r"still \.\.\.: replace it"),  # as the learner wrote it, not Ellipsis
    (lambda: None, "still None"),
    (lambda: [1, 2], r"got a list: make one with torch.tensor"),
    (lambda: 3.0, r"Python number 3.0: did you call .item\(\)"),
    (lambda: nn.Linear(2, 1), r"got a model \(Linear\)"),
    (lambda: "x", "got str"),
])
def test_not_a_tensor(make, message):
    with fails(message):
        expect_tensor(make(), shape=(2,))


def test_numpy_array_is_not_a_tensor():
    np = pytest.importorskip("numpy")
    with fails("NumPy array: convert with torch.from_numpy"):
        expect_tensor(np.zeros(2))


def test_values_close_to():
    expect_tensor(torch.tensor([1.0, 2.0]), close_to=[1.0, 2.0000001])
    expect_tensor(torch.arange(3), close_to=[0, 1, 2])  # integers against a list
    expect_tensor(torch.tensor([0.5]), close_to=torch.tensor([0.5], dtype=torch.float64))
    with fails(re.escape("different values: at position (1, 0) it holds 5, expected 3")):
        expect_tensor(torch.tensor([[1.0, 2.0], [5.0, 4.0]]), close_to=[[1, 2], [3, 4]])
    with fails(re.escape("shape (2,), got (3,)")):
        expect_tensor(torch.zeros(3), close_to=[0, 0])
    with fails("holds NaN .* at position 1"):
        expect_tensor(torch.tensor([1.0, float("nan")]), close_to=[1.0, 2.0])
    with fails("different values"):
        expect_tensor(torch.tensor([1.0, 2.1]), close_to=[1.0, 2.0], atol=0.01, rtol=0)
    expect_tensor(torch.tensor([1.0, 2.1]), close_to=[1.0, 2.0], atol=0.2)


# -- numbers and values -----------------------------------------------------------------


def test_expect_close():
    expect_close(0.30000001, 0.3)
    expect_close(torch.tensor(2.5), 2.5)
    expect_close(torch.tensor([[2.5]]), 2.5)
    with fails("expected `loss` to be about 0.3, got 0.5"):
        expect_close(0.5, 0.3, name="loss")
    with fails(r"a single number, got a tensor of shape \(3,\): reduce it"):
        expect_close(torch.zeros(3), 0.0)
    with fails("is NaN"):
        expect_close(float("nan"), 0.0)
    with fails("to be a number, got the text '3'"):
        expect_close("3", 3.0)
    with fails(r"still \.\.\.: replace it"):
        expect_close(..., 3.0)


def test_expect_below():
    expect_below(torch.tensor(0.05), 0.1, name="loss")
    with fails("expected `loss` below 0.1, got 0.5: train longer"):
        expect_below(0.5, 0.1, name="loss", advice="train longer")
    with fails("below"):
        expect_below(float("nan"), 0.1)


def test_expect_equal():
    expect_equal(3, 3)
    expect_equal([1, 2], [1, 2])
    expect_equal(torch.tensor([1, 2]), torch.tensor([1, 2]))
    with fails(r"expected `n` to be 3 \(int\), got '3' \(str\)"):
        expect_equal("3", 3, name="n")
    with fails("expected `n` to be 4, got 3"):
        expect_equal(3, 4, name="n")
    with fails("different values: at position 0 it holds 1.5, expected 1"):
        expect_equal(torch.tensor([1.5]), torch.tensor([1]))
    with fails(re.escape("shape (2,), got (3,)")):
        expect_equal(torch.zeros(3), torch.zeros(2))


def test_expect_seeded_accepts_the_draw_of_that_seed_only():
    torch.manual_seed(7)
    big = torch.rand(1, 1, 1, 10)
    expect_seeded(big, 7, name="big")
    expect_seeded(big.reshape(10)[:10].reshape(1, 1, 1, 10), 7)
    with fails(re.escape("`big` holds other numbers than seed 8 gives: call torch.manual_seed(8)")):
        expect_seeded(big, 8, name="big")
    with fails("other numbers than seed 7"):
        expect_seeded(torch.rand(1, 1, 1, 10), 7)
    torch.manual_seed(7)
    expect_seeded(torch.rand(3, dtype=torch.float64), 7)
    with fails("random fractions"):
        expect_seeded(torch.arange(3), 7)
    with fails("got a list"):
        expect_seeded([0.5], 7)


def test_seeded_draw_leaves_the_learners_random_state_alone():
    torch.manual_seed(1)
    state = torch.get_rng_state()
    reference = seeded_draw(1234, (2, 3))
    assert torch.equal(torch.get_rng_state(), state)
    torch.manual_seed(1234)
    assert torch.equal(reference, torch.rand(2, 3))


def _learner_namespace(code: str) -> dict:
    """Run ``code`` as the worker runs a lesson: in one shared namespace."""
    namespace = {"__name__": "__tutor__"}
    exec(code, namespace)  # noqa: S102 - the test's own code
    return namespace


def test_train_blind_grades_the_recipe_on_the_checks_data():
    ns = _learner_namespace(
        "import tutor.live as live\n"
        "X_test = [9, 9]\n"
        "def train(X, y):\n"
        "    live.log(step=0, loss=1.0)\n"
        "    return sum(X) + sum(y)\n")
    assert train_blind(ns["train"], [1, 2], [3], hidden=("X_test",), name="train") == 6
    assert ns["X_test"] == [9, 9] and ns["live"].__name__ == "tutor.live"


def test_train_blind_catches_a_function_that_trains_on_the_test_set():
    ns = _learner_namespace(
        "X_test = [9, 9]\n"
        "def train(X, y):\n"
        "    return sum(X + X_test)\n")
    with fails(re.escape("`train_moons` reaches for `X_test`, which it was not given")):
        train_blind(ns["train"], [1], [0], hidden=("X_test", "y_test"), name="train_moons")
    assert ns["X_test"] == [9, 9], "the hidden data comes back, also after a failure"


def test_train_blind_wants_the_recipe_not_a_model():
    with fails(r"`train` is a model \(Linear\): write a function that makes a model"):
        train_blind(nn.Linear(2, 1), [1], [0], hidden=(), name="train")


def test_train_blind_leaves_the_learners_own_errors_alone():
    ns = _learner_namespace("def train(X, y):\n    return undefined_thing\n")
    with pytest.raises(NameError):
        train_blind(ns["train"], [1], [0], hidden=("X_test",))
    with fails(r"`train` should take 2 arguments .*like train\(X_train, y_train\)"):
        train_blind(_learner_namespace("def train():\n    pass\n")["train"], [1], [0], hidden=(), name="train")
    with fails(r"`train` is still \.\.\.: replace it"):  # written as the learner wrote it, not Ellipsis
        train_blind(..., [1], [0], hidden=(), name="train")


def test_expect_defined():
    answer = 42  # noqa: F841 - read through the caller's frame
    blank = ...  # noqa: F841
    expect_defined("answer")
    with fails("define a variable named `missing`"):
        expect_defined("answer", "missing")
    with fails("`blank` is still ..."):
        expect_defined("blank")


# -- models -----------------------------------------------------------------------------


def test_expect_module_runs_the_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    out = expect_module(model, kind=nn.Sequential, input=torch.zeros(5, 3), output_shape=(None, 2), parameters=26)
    assert out.shape == (5, 2)


def test_expect_module_explains_mistakes():
    with fails("is the class Linear, not a model: create one with Linear"):
        expect_module(nn.Linear)
    with fails("a model .*got int"):
        expect_module(3)
    with fails("to be a Sequential, got Linear"):
        expect_module(nn.Linear(2, 2), kind=nn.Sequential)
    with fails("26 trainable parameters, got 9"):
        expect_module(nn.Linear(8, 1), parameters=26)
    with fails(r"input of shape \(2, 4\) raised RuntimeError: mat1 and mat2 .*in_features"):
        expect_module(nn.Linear(3, 1), input=torch.zeros(2, 4))
    with fails(r"expected the output of your model to have shape \(2, 2\), got \(2, 1\)"):
        expect_module(nn.Linear(3, 1), input=torch.zeros(2, 3), output_shape=(2, 2))


def test_dtype_error_in_a_model_gets_advice():
    with fails(r"convert the data with \.float\(\)"):
        expect_module(nn.Linear(3, 1), input=torch.zeros(2, 3, dtype=torch.int64))


def threshold_model():
    """A model that predicts class 1 when the first feature is positive."""

    class Threshold(nn.Module):
        def forward(self, x):
            return torch.stack([-x[:, 0], x[:, 0]], dim=1)

    return Threshold()


def test_expect_accuracy():
    x = torch.randn(100, 3)
    y = (x[:, 0] > 0).long()
    model = threshold_model().train()
    assert expect_accuracy(model, x, y, at_least=0.99) == 1.0
    assert model.training  # its mode is put back
    with fails(r"gets \d+\.\d% of 100 examples right; it needs at least 99%"):
        expect_accuracy(model, x, 1 - y, at_least=0.99)
    with fails("gave 100 predictions for 50 labels"):
        expect_accuracy(model, x, y[:50], at_least=0.5)


def fixed_answers(right: int, total: int, classes: int = 10):
    """A model (a lookup of logits) that gets exactly ``right`` of ``total`` right."""
    targets = torch.arange(total) % classes
    predicted = targets.clone()
    predicted[right:] = (targets[right:] + 1) % classes
    logits = nn.functional.one_hot(predicted, classes).float() * 5

    class Lookup(nn.Module):
        def forward(self, index):
            return logits[index.long()]

    return Lookup(), torch.arange(total), targets


@pytest.mark.parametrize("right, total, at_least", [(450, 500, 0.9), (120, 150, 0.8), (7, 10, 0.7)])
def test_accuracy_exactly_at_the_target_passes(right, total, at_least):
    # A float32 mean makes 450 of 500 0.8999999762, which failed "at least 90%".
    model, inputs, targets = fixed_answers(right, total)
    assert expect_accuracy(model, inputs, targets, at_least=at_least) == right / total
    model, inputs, targets = fixed_answers(right - 1, total)
    with fails(f"it needs at least {at_least:.0%}"):
        expect_accuracy(model, inputs, targets, at_least=at_least)


def test_accuracy_for_one_logit_per_sample():
    logits = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])
    assert accuracy(logits, torch.tensor([1.0, 0.0, 0.0, 0.0])) == 0.75
    assert accuracy(torch.tensor([0.9, 0.2]), torch.tensor([1, 0]), threshold=0.5) == 1.0


def test_error_advice():
    assert "same device" in error_advice(RuntimeError("Expected all tensors to be on the same device, but ..."))
    assert "unsqueeze" in error_advice(RuntimeError("Expected 3D (unbatched) or 4D (batched) input to conv2d"))
    assert error_advice(ValueError("something else")) == ""
