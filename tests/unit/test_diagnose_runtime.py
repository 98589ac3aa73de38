"""The runtime diagnosis (mistakes 4 and 7-12), with real torch, in this process: cells
run the way the worker runs them (compiled with their label, in one namespace, between
``begin`` and ``end``). Each mistake is found, and a near miss gets no advice."""

from __future__ import annotations

import ast
import textwrap
import traceback

import pytest

torch = pytest.importorskip("torch")

from tutor.diagnose import runtime  # noqa: E402
from tutor.diagnose.advice import Advice  # noqa: E402
from tutor.diagnose.runtime import Watcher  # noqa: E402

SETUP = """
import torch
from torch import nn
torch.manual_seed(0)
X = torch.randn(64, 3)
y = (X.sum(dim=1, keepdim=True) > 0).float()
"""


class Cell:
    """One worker namespace with a watcher that collects what it says."""

    def __init__(self) -> None:
        self.said: list[Advice] = []
        self.namespace: dict = {"__name__": "__main__"}
        self.watcher = Watcher(self.said.append, self.namespace)
        self.runs = 0
        self.run(SETUP)
        self.said.clear()

    def run(self, code: str, *, label: str | None = None) -> list[Advice]:
        self.runs += 1
        label = label or f"cell {self.runs}"
        code = textwrap.dedent(code)
        before = len(self.said)
        self.watcher.begin(label, ast.parse(code))
        try:
            exec(compile(code, label, "exec"), self.namespace)
        except Exception as err:
            lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if f.filename == label]
            self.watcher.explain(err, lines[-1] if lines else None)
        finally:
            self.watcher.end()
        return self.said[before:]

    def kinds(self, code: str, **kw) -> list[str]:
        return [a.kind for a in self.run(code, **kw)]


@pytest.fixture
def cell():
    return Cell()


TRAIN = """
model = nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr={lr})
loss_fn = nn.BCEWithLogitsLoss()
for step in range({steps}):
    loss = loss_fn(model(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
"""


def test_a_loop_that_learns_gets_no_advice(cell):
    assert cell.kinds(TRAIN.format(lr=0.1, steps=150)) == []


def test_hooks_do_nothing_between_cells(cell):
    cell.run(TRAIN.format(lr=0.1, steps=3))
    model, X, y = cell.namespace["model"], cell.namespace["X"], cell.namespace["y"]
    nn = torch.nn
    opt = torch.optim.SGD(nn.Linear(3, 1).parameters(), lr=0.1)  # wrong model, outside any cell
    nn.functional.binary_cross_entropy_with_logits(model(X), y).backward()
    opt.step()
    assert cell.said == []


# -- 7. the optimizer holds another model's parameters ------------------------------------

def test_an_optimizer_built_on_another_model_is_found(cell):
    said = cell.run("""
    model_0 = nn.Linear(3, 1)
    model_1 = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model_0.parameters(), lr=0.1)
    for step in range(5):
        loss = nn.functional.binary_cross_entropy_with_logits(model_1(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """)
    [tip] = said
    assert tip.kind == "optimizer-model"
    assert "`model_0`" in tip.saw and "`model_1`" in tip.saw
    assert "model_1.parameters()" in tip.fix


def test_the_wrong_model_is_found_inside_a_helper_function(cell):
    cell.run("""
    def train(net, opt):
        for step in range(3):
            loss = nn.functional.binary_cross_entropy_with_logits(net(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    """)
    said = cell.run("train(nn.Linear(3, 1), torch.optim.SGD(nn.Linear(3, 1).parameters(), lr=0.1))")
    assert [a.kind for a in said] == ["optimizer-model"]
    assert "`net`" in said[0].saw


def test_two_models_each_with_its_own_optimizer_is_fine(cell):
    assert cell.kinds("""
    a, b = nn.Linear(3, 1), nn.Linear(3, 1)
    opt_a, opt_b = torch.optim.SGD(a.parameters(), lr=0.1), torch.optim.SGD(b.parameters(), lr=0.1)
    for step in range(3):
        for model, opt in ((a, opt_a), (b, opt_b)):
            loss = nn.functional.binary_cross_entropy_with_logits(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    """) == []


def test_a_frozen_backbone_with_a_trained_head_is_fine(cell):
    assert cell.kinds("""
    backbone, head = nn.Linear(3, 8), nn.Linear(8, 1)
    backbone.requires_grad_(False)
    model = nn.Sequential(backbone, nn.ReLU(), head)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(5):
        loss = nn.functional.binary_cross_entropy_with_logits(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """) == []


# -- 8. no gradients after backward ----------------------------------------------------------

def test_a_loss_rebuilt_from_a_number_cuts_the_graph(cell):
    said = cell.run("""
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(3):
        value = nn.functional.binary_cross_entropy_with_logits(model(X), y).item()
        loss = torch.tensor(value, requires_grad=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """)
    [tip] = said
    assert tip.kind == "no-gradients"
    assert "not connected to any parameter" in tip.saw
    assert "torch.tensor(...)" in tip.why


def test_zero_grad_between_backward_and_step_leaves_no_gradients(cell):
    said = cell.run("""
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(3):
        loss = nn.functional.binary_cross_entropy_with_logits(model(X), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()
    """)
    assert [a.kind for a in said] == ["no-gradients"]
    assert "zero_grad()` ran between" in said[0].why


def test_backward_on_an_untracked_loss_is_explained(cell):
    said = cell.run("""
    model = nn.Linear(3, 1)
    with torch.inference_mode():
        loss = nn.functional.binary_cross_entropy_with_logits(model(X), y)
    loss.backward()
    """)
    [tip] = said
    assert (tip.kind, tip.line) == ("no-gradients", 5)


def test_a_step_without_backward_in_this_run_is_not_judged(cell):
    cell.run("model = nn.Linear(3, 1)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)")
    assert cell.kinds("optimizer.step()") == []


# -- 9. the loss is NaN or infinite --------------------------------------------------------

def test_a_loss_that_blows_up_is_found_with_its_step(cell):
    said = cell.run("""
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e30)
    for step in range(20):
        loss = ((model(X) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """)
    [tip] = [a for a in said if a.kind == "loss-not-finite"]
    assert "at step " in tip.saw
    step = int(tip.saw.split("at step ")[1].split()[0])
    assert 2 <= step <= 20
    assert "learning rate" in tip.fix and "log of 0" in tip.fix


def test_a_nan_from_the_first_step_is_step_1(cell):
    said = cell.run("""
    model = nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = (model(X) * float("nan")).mean()
    loss.backward()
    optimizer.step()
    """)
    assert [(a.kind, "step 1 " in a.saw) for a in said] == [("loss-not-finite", True)]


class _OnADevice(torch.Tensor):
    """A CPU tensor that says it is not on the CPU, as a GPU loss would."""

    @property
    def is_cpu(self):
        return False


def test_device_losses_are_read_in_batches_and_at_the_end(cell):
    """Losses on a device are kept and read 100 at a time (one copy: no GPU
    synchronisation each step); what is left is read when the cell ends, so a late NaN
    still gets its step."""
    watcher = cell.watcher
    watcher.begin("batches", None)
    for step in range(1, 151):
        loss = torch.tensor(1.0 - step / 1000 if step <= 120 else float("inf"))
        watcher._after_backward(loss.as_subclass(_OnADevice))
    # past step 100 one step in 10 is kept: 110, 120, ..., 150
    assert len(watcher._losses) == runtime.READ_EVERY and [s for s, _ in watcher._pending] == [110, 120, 130, 140, 150]
    assert watcher._losses[99] == pytest.approx(0.9) and cell.said == []  # the NaN is not read yet
    watcher.end()
    [tip] = [a for a in cell.said if a.kind == "loss-not-finite"]
    assert "inf by step 130 " in tip.saw and "0.88 at step 120" in tip.saw


def test_cpu_losses_are_read_at_once(cell):
    """A CPU loss has no device to wait for: it is read at its step. Past the first 100
    steps one step in 10 is looked at, for NaN only: the advice says by which step,
    and the last loss read before it."""
    watcher = cell.watcher
    watcher.begin("cpu", None)
    for step in range(1, 151):
        watcher._after_backward(torch.tensor(1.0 - step / 1000 if step <= 120 else float("inf")))
        assert watcher._pending == []
        if step < 130:
            assert cell.said == [], step
    [tip] = [a for a in cell.said if a.kind == "loss-not-finite"]
    assert "inf by step 130 " in tip.saw and "0.88 at step 120" in tip.saw
    watcher.end()
    assert len([a for a in cell.said if a.kind == "loss-not-finite"]) == 1


def test_a_nan_in_the_first_steps_is_found_at_its_step(cell):
    watcher = cell.watcher
    watcher.begin("early", None)
    for step in range(1, 60):
        watcher._after_backward(torch.tensor(1.0 if step < 37 else float("nan")))
    [tip] = [a for a in cell.said if a.kind == "loss-not-finite"]
    assert "nan at step 37 of this run (it was 1 before)" in tip.saw


def test_losses_of_several_devices_are_read_one_by_one(cell):
    watcher = cell.watcher
    watcher.begin("mixed", None)
    watcher._after_backward(torch.tensor(1.0))
    watcher._after_backward(torch.tensor(float("nan"), dtype=torch.float64))
    watcher._after_backward(torch.tensor([1.0, 2.0]))  # not a scalar: not a loss to read
    watcher.end()
    assert [(a.kind, "step 2 " in a.saw) for a in cell.said] == [("loss-not-finite", True)]


@pytest.mark.gpu
def test_a_late_nan_on_a_real_gpu_is_found_from_the_batched_reads(cell):
    said = cell.run("""
    model = nn.Linear(3, 1).cuda()
    Xc, yc = X.cuda(), y.cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for step in range(1, 151):
        loss = nn.functional.mse_loss(model(Xc), yc) * (float("inf") if step > 124 else 1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """)
    [tip] = said
    assert tip.kind == "loss-not-finite" and " by step 130 " in tip.saw and " at step 120)" in tip.saw


@pytest.mark.gpu
def test_a_flat_loss_and_a_device_mismatch_on_a_real_gpu(cell):
    [flat] = cell.run(TRAIN.replace("nn.Linear(3, 1)", "nn.Linear(3, 1).cuda()").replace("(X), y)", "(X.cuda()), y.cuda())")
                      .format(lr=0.0, steps=120))
    assert flat.kind == "loss-flat"
    [mismatch] = cell.run("model = nn.Linear(3, 1).cuda()\npreds = model(X)\n")
    assert (mismatch.kind, mismatch.line) == ("device-mismatch", 2) and "cuda:0" in mismatch.saw


# -- 10. the loss does not move -----------------------------------------------------------------

def test_a_loss_that_never_moves_is_found(cell):
    said = cell.run(TRAIN.format(lr=0.0, steps=120))
    [tip] = said
    assert tip.kind == "loss-flat"
    assert "first 100 steps" in tip.saw
    assert "learning rate" in tip.fix and "labels" in tip.fix


def test_a_loop_that_forgets_step_is_told_so(cell):
    said = cell.run("""
    model = nn.Linear(3, 1)
    for step in range(100):
        loss = nn.functional.binary_cross_entropy_with_logits(model(X), y)
        model.zero_grad()
        loss.backward()
    """)
    assert [a.kind for a in said] == ["loss-flat"]
    assert "never ran" in said[0].fix


def test_a_slow_but_moving_loss_and_a_short_loop_are_fine(cell):
    assert cell.kinds(TRAIN.format(lr=0.01, steps=120)) == []
    assert cell.kinds(TRAIN.format(lr=0.0, steps=99)) == []


def test_a_loss_already_at_zero_is_solved_not_stuck(cell):
    assert cell.kinds("""
    w = torch.zeros(1, requires_grad=True)
    for step in range(100):
        loss = (w * 0).sum()
        loss.backward()
    """) == []


# -- 4. evaluation in training mode ---------------------------------------------------------

DROPOUT_MODEL = """
model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1))
"""


def test_evaluating_a_dropout_model_in_training_mode_is_found(cell):
    cell.run(DROPOUT_MODEL)
    said = cell.run("""
    print("testing")
    with torch.inference_mode():
        preds = model(X)
    """)
    [tip] = said
    assert (tip.kind, tip.line) == ("eval-mode", 3)  # where the evaluation starts
    assert "`model`" in tip.saw and "dropout" in tip.saw and "`torch.inference_mode()`" in tip.saw
    assert "model.eval()" in tip.fix


def test_batch_norm_over_a_test_loader_is_found(cell):
    said = cell.run("""
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    test_loader = torch.utils.data.DataLoader(X, batch_size=32)
    for batch in test_loader:
        out = net(batch)
    """)
    assert [(a.kind, "batch norm" in a.saw) for a in said] == [("eval-mode", True)]


def test_eval_in_an_earlier_cell_is_enough(cell):
    cell.run(DROPOUT_MODEL + "model.eval()\n")
    assert cell.kinds("with torch.no_grad():\n    preds = model(X)\n") == []


def test_a_model_without_dropout_or_batch_norm_needs_no_eval(cell):
    cell.run("model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1))")
    assert cell.kinds("with torch.no_grad():\n    preds = model(X)\n") == []


def test_training_a_dropout_model_is_not_evaluation(cell):
    cell.run(DROPOUT_MODEL)
    assert cell.kinds("""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for step in range(3):
        loss = ((model(X) - y) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """) == []


def test_an_evaluation_helper_from_an_earlier_cell_is_watched(cell):
    cell.run(DROPOUT_MODEL + """
def evaluate(m, data):
    with torch.inference_mode():
        return m(data)
""", label="helpers")
    said = cell.run("preds = evaluate(model, X)")
    assert [(a.kind, a.line, "`m`" in a.saw) for a in said] == [("eval-mode", 5, True)]  # in evaluate()


def test_nothing_is_watched_when_nothing_is_suspect_and_layers_are_never_hooked(cell):
    from torch.nn.modules import module

    cell.run(DROPOUT_MODEL + "model.eval()\nwith torch.no_grad():\n    model(X)\n")
    assert not cell.watcher.eval_regions
    cell.run(DROPOUT_MODEL + "with torch.no_grad():\n    model(X)\n")
    assert cell.watcher.eval_regions
    assert not module._global_forward_pre_hooks and not module._global_forward_hooks  # no cost per layer


def test_a_list_of_batches_is_not_a_data_loader(cell):
    """Only a DataLoader tells where a loop over test data starts: a plain list is not
    watched (no false alarm, and no cost)."""
    assert cell.kinds(DROPOUT_MODEL + "test_batches = [X[:32], X[32:]]\nfor b in test_batches:\n    model(b)\n") == []


# -- 11. model and inputs on different devices ------------------------------------------------

def test_a_device_mismatch_is_explained_at_the_cells_line(cell):
    said = cell.run("""
    model = nn.Linear(3, 1).to("meta")
    preds = model(X)
    """)
    [tip] = said
    assert (tip.kind, tip.line) == ("device-mismatch", 3)
    assert "(meta and cpu)" in tip.saw or "(cpu and meta)" in tip.saw
    assert "model.to(device)" in tip.fix


@pytest.mark.parametrize("message, devices", [
    ("Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!",
     "(cuda:0 and cpu)"),
    ("Expected all tensors to be on the same device, but got mat1 is on cpu, different from other "
     "tensors on cuda:0 (when checking argument in method wrapper_CUDA_addmm)", "(cpu and cuda:0)"),
    ("Input type (torch.FloatTensor) and weight type (torch.cuda.FloatTensor) should be the same or "
     "input should be a MKLDNN tensor and weight is a dense tensor", "(cpu and cuda)"),
    ("Placeholder storage has not been allocated on MPS device!", "on different devices."),
])
def test_gpu_device_messages_are_recognised(message, devices):
    tip = Watcher(lambda a: None, {}).explain(RuntimeError(message), 7)
    assert tip is not None and tip.kind == "device-mismatch" and tip.line == 7
    assert devices in tip.saw


@pytest.mark.parametrize("message", [
    "Input type (torch.ByteTensor) and weight type (torch.FloatTensor) should be the same or input should be "
    "a MKLDNN tensor and weight is a dense tensor",
    "Input type (torch.cuda.ByteTensor) and weight type (torch.cuda.FloatTensor) should be the same or input "
    "should be a MKLDNN tensor and weight is a dense tensor",
    "Input type (unsigned char) and bias type (float) should be the same",
    "expected m1 and m2 to have the same dtype, but got: double != float",
])
def test_a_dtype_mismatch_on_one_device_is_not_a_device_mismatch(message):
    assert Watcher(lambda a: None, {}).explain(RuntimeError(message), 3) is None


# -- 12. labels of the wrong dtype or shape ------------------------------------------------------

@pytest.mark.parametrize("code, words", [
    ("nn.CrossEntropyLoss()(torch.randn(4, 3), torch.tensor([0., 1, 2, 1]))", ["float32", "y.long()"]),
    ("nn.functional.cross_entropy(torch.randn(4, 3), torch.tensor([[0], [1], [2], [1]]))",
     ["(4, 1)", "y.squeeze(1)"]),
    ("nn.CrossEntropyLoss()(torch.randn(4, 3), torch.tensor([0, 1, 5, 1]))", ["outside 0..2"]),
    ("nn.BCEWithLogitsLoss()(torch.randn(4, 1), torch.tensor([0., 1, 1, 1]))",
     ["(4, 1)", "(4,)", "logits.squeeze(1)"]),
    ("nn.BCEWithLogitsLoss()(torch.randn(4), torch.tensor([0, 1, 1, 1]))", ["int64", "y.float()"]),
    ("nn.NLLLoss()(torch.randn(4, 3), torch.tensor([0., 1, 2, 1]))", ["NLLLoss", "y.long()"]),
])
def test_wrong_labels_are_explained(cell, code, words):
    said = cell.run(f"x = 1\nloss = {code}\n")
    [tip] = said
    assert (tip.kind, tip.line) == ("label-dtype", 2)
    for word in words:
        assert word in tip.text()


def test_other_errors_get_no_training_advice(cell):
    assert cell.kinds("torch.zeros(2, 3) @ torch.zeros(2, 3)") == []
    assert cell.kinds("nn.CrossEntropyLoss()(torch.randn(4, 3), torch.tensor([0, 1, 2]))") == []


# -- advice once per run, and never a broken cell --------------------------------------------

def test_each_kind_is_given_once_per_run(cell):
    said = cell.run("""
    for attempt in range(3):
        model_0, model_1 = nn.Linear(3, 1), nn.Linear(3, 1)
        optimizer = torch.optim.SGD(model_0.parameters(), lr=0.1)
        loss = nn.functional.binary_cross_entropy_with_logits(model_1(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    """)
    assert [a.kind for a in said] == ["optimizer-model"]
    assert cell.kinds("optimizer.zero_grad()\nloss = nn.functional.binary_cross_entropy_with_logits("
                      "model_1(X), y)\nloss.backward()\noptimizer.step()") == ["optimizer-model"]


def test_a_failing_diagnosis_never_breaks_the_cell(cell, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise RuntimeError("diagnosis bug")

    monkeypatch.setattr(runtime, "_leaves", broken)
    monkeypatch.setattr(runtime, "diagnose_tree", broken)
    said = cell.run("""
    model_0, model_1 = nn.Linear(3, 1), nn.Linear(3, 1)
    optimizer = torch.optim.SGD(model_0.parameters(), lr=0.1)
    loss = nn.functional.binary_cross_entropy_with_logits(model_1(X), y)
    loss.backward()
    optimizer.step()
    result = "done"
    """)
    assert len(calls) == 2  # both broken parts were reached...
    assert cell.namespace["result"] == "done"  # ...and the cell ran to its end
    assert said == []


def test_the_hooks_are_installed_once(cell):
    cell.run(TRAIN.format(lr=0.1, steps=2))
    assert runtime._installed
    backward = torch.Tensor.backward
    Cell().run(TRAIN.format(lr=0.1, steps=2))
    assert torch.Tensor.backward is backward
    assert torch.Tensor.backward.__wrapped__.__name__ == "backward"
