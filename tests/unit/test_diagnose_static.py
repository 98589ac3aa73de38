"""The static diagnosis (mistakes 1-6): each mistake is found, at the right line, and
each near miss (code that looks like the mistake but is right) gets no advice."""

from __future__ import annotations

import textwrap

import pytest

from tutor.diagnose import Advice, diagnose_code


def found(code: str, namespace: dict | None = None) -> list[tuple[str, int | None]]:
    return [(a.kind, a.line) for a in diagnose_code(textwrap.dedent(code), namespace).advice]


def advice(code: str, namespace: dict | None = None) -> list[Advice]:
    return diagnose_code(textwrap.dedent(code), namespace).advice


# -- 1. no zero_grad in the loop -------------------------------------------------------

LOOP_WITHOUT_ZERO = """
    for epoch in range(100):
        y_pred = model(X)
        loss = loss_fn(y_pred, y)
        loss.backward()
        optimizer.step()
"""


def test_a_loop_that_never_zeroes_the_gradients_is_found_at_its_backward_line():
    [tip] = advice(LOOP_WITHOUT_ZERO)
    assert (tip.kind, tip.line) == ("zero-grad", 5)
    assert "`loss.backward()`" in tip.saw and "`optimizer.step()` (line 6)" in tip.saw
    assert "loop at line 2" in tip.saw
    assert "optimizer.zero_grad()" in tip.fix
    assert "adds each new gradient" in tip.why


@pytest.mark.parametrize("zeroing", [
    "optimizer.zero_grad()",
    "model.zero_grad()",
    "optimizer.zero_grad(set_to_none=True)",
    "opt.zero_grad(set_to_none=False)",
    "for p in model.parameters():\n        p.grad = None",
    "for p in model.parameters():\n        p.grad.zero_()",
])
def test_any_way_of_zeroing_in_the_loop_is_enough(zeroing):
    code = f"""
    for epoch in range(100):
        loss = loss_fn(model(X), y)
        {zeroing}
        loss.backward()
        optimizer.step()
    """
    assert found(code) == []


def test_zeroing_at_the_end_of_the_loop_is_enough():
    assert found(LOOP_WITHOUT_ZERO + "        optimizer.zero_grad()\n") == []


def test_zeroing_in_a_helper_function_of_the_cell_is_seen():
    code = """
    def clear(optimizer):
        optimizer.zero_grad(set_to_none=True)

    for epoch in range(100):
        loss = loss_fn(model(X), y)
        clear(optimizer)
        loss.backward()
        optimizer.step()
    """
    assert found(code) == []


def test_a_helper_that_steps_without_zeroing_is_followed_into():
    code = """
    def train_step(model, X, y):
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for epoch in range(100):
        train_step(model, X, y)
    """
    [tip] = advice(code)
    assert (tip.kind, tip.line) == ("zero-grad", 9)
    assert "`train_step()`" in tip.saw


def test_a_helper_that_zeroes_itself_is_fine():
    code = """
    def train_step(model, X, y):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()

    for epoch in range(100):
        train_step(model, X, y)
    """
    assert found(code) == []


def test_an_unseen_helper_given_the_optimizer_may_zero_it():
    code = """
    for epoch in range(100):
        loss = loss_fn(model(X), y)
        loss.backward()
        clip_and_reset(optimizer)
        optimizer.step()
    """
    assert found(code) == []


def test_zero_grad_in_the_outer_loop_only_leaves_the_inner_loop_summing():
    code = """
    for epoch in range(5):
        optimizer.zero_grad()
        for X, y in loader:
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
    """
    assert found(code) == [("zero-grad", 6)]  # one advice, for the inner loop


def test_gradient_accumulation_zeroes_in_the_loop_that_steps():
    code = """
    for epoch in range(5):
        optimizer.zero_grad()
        for X, y in micro_batches:
            loss_fn(model(X), y).backward()
        optimizer.step()
    """
    assert found(code) == []


def test_nested_loops_that_zero_inside_are_fine():
    code = """
    for epoch in range(5):
        model.train()
        for X, y in loader:
            loss = loss_fn(model(X), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        scheduler.step()
    """
    assert found(code) == []


def test_backward_without_step_is_a_demonstration_not_a_training_loop():
    code = """
    for attempt in range(3):
        loss = loss_fn(model_0(X_train), y_train)
        loss.backward()
        print(model_0.weight.grad)
    """
    assert found(code) == []


def test_a_scheduler_step_is_not_an_optimizer_step():
    code = """
    for epoch in range(3):
        loss = loss_fn(model(X), y)
        loss.backward()
        scheduler.step()
    """
    assert found(code) == []


def test_a_while_loop_is_a_loop_too():
    code = """
    while True:
        loss = loss_fn(model(X), y)
        loss.backward()
        opt.step()
    """
    assert found(code) == [("zero-grad", 4)]


# -- 2. model.forward(x) ----------------------------------------------------------------

def test_calling_forward_directly_is_found():
    [tip] = advice("y = model_0.forward(X_test)\n")
    assert (tip.kind, tip.line) == ("forward-call", 1)
    assert "`model_0.forward(X_test)`" in tip.saw
    assert "`model_0(X_test)`" in tip.fix


def test_forward_of_an_attribute_model_is_found():
    assert found("preds = trainer.model.forward(X)\n") == [("forward-call", 1)]


@pytest.mark.parametrize("code", [
    "y = model_0(X)",
    "class A(nn.Module):\n    def forward(self, x):\n        return super().forward(x) * 2",
    "class A(nn.Module):\n    def predict(self, x):\n        return self.forward(x)",
    "class A(Base):\n    def forward(self, x):\n        return Base.forward(self, x) + 1",
    "f = model.forward  # a reference, not a call",
])
def test_forward_near_misses(code):
    assert found(code) == []


# -- 3. softmax / sigmoid fed to a loss that applies it ------------------------------------

def test_softmax_into_cross_entropy_is_found():
    code = """
    loss_fn = nn.CrossEntropyLoss()
    logits = model(X)
    loss = loss_fn(torch.softmax(logits, dim=1), y)
    """
    [tip] = advice(code)
    assert (tip.kind, tip.line) == ("squashed-logits", 4)
    assert "CrossEntropyLoss" in tip.saw and "softmax" in tip.saw
    assert "logits" in tip.fix


@pytest.mark.parametrize("code", [
    "loss = F.cross_entropy(F.log_softmax(logits, dim=1), y)",
    "loss = nn.CrossEntropyLoss()(logits.softmax(dim=1), y)",
    "loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.sigmoid(z), y)",
    "loss = nn.BCEWithLogitsLoss()(z.sigmoid(), y)",
    "probs = torch.softmax(model(X), dim=1)\nloss = F.cross_entropy(probs, y)",
    "loss = F.cross_entropy(nn.Softmax(dim=1)(logits), y)",
    "model = nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1))\nloss = F.cross_entropy(model(X), y)",
])
def test_squashing_forms(code):
    assert [k for k, _ in found(code)] == ["squashed-logits"]


class CrossEntropyLoss:  # stands in for torch's, recognised by class name like the real one
    pass


class BCEWithLogitsLoss:
    pass


class BCELoss:
    pass


class Softmax:
    pass


class Sequential(list):
    pass


def test_a_loss_from_an_earlier_cell_is_recognised_through_the_namespace():
    code = "loss = loss_fn(torch.softmax(logits, dim=1), y)"
    assert found(code, {"loss_fn": CrossEntropyLoss()}) == [("squashed-logits", 1)]
    assert found("loss = criterion(torch.sigmoid(z), y)", {"criterion": BCEWithLogitsLoss()}) \
        == [("squashed-logits", 1)]
    assert found("loss = criterion(torch.sigmoid(z), y)", {"criterion": BCELoss()}) == []


def test_a_model_from_an_earlier_cell_that_ends_in_softmax_is_recognised():
    ns = {"loss_fn": CrossEntropyLoss(), "model": Sequential([object(), Softmax()])}
    assert found("loss = loss_fn(model(X), y)", ns) == [("squashed-logits", 1)]
    assert found("loss = loss_fn(model(X), y)", {**ns, "model": Sequential([object()])}) == []


@pytest.mark.parametrize("code", [
    "loss = nn.NLLLoss()(F.log_softmax(logits, dim=1), y)",
    "loss_fn = nn.BCELoss()\nloss = loss_fn(torch.sigmoid(z), y)",
    "loss_fn = nn.CrossEntropyLoss()\nloss = loss_fn(logits, y)\nprobs = torch.softmax(logits, dim=1)",
    "loss = F.cross_entropy(logits, y)\nacc = (logits.softmax(1).argmax(1) == y).float().mean()",
    "probs = torch.softmax(z, 1)\nprobs = z\nloss = F.cross_entropy(probs, y)",  # reassigned: unknown
    "loss = loss_fn(torch.softmax(logits, dim=1), y)",  # loss_fn unknown: say nothing
])
def test_squashing_near_misses(code):
    assert found(code) == []


# -- 4 (static half). evaluation regions with no .eval() before them ------------------------

def regions(code: str):
    return diagnose_code(textwrap.dedent(code)).eval_regions


def test_an_evaluation_block_without_eval_is_handed_to_the_runtime_half():
    [region] = regions("""
    with torch.inference_mode():
        preds = model_1(X_test)
    """)
    assert (region.line, region.end_line, region.kind, region.names) == (2, 3, "inference_mode", ("model_1",))


def test_a_loop_over_test_data_is_an_evaluation_region():
    [region] = regions("""
    for X, y in test_dataloader:
        preds = model(X)
    """)
    assert region.kind == "loader" and region.names == ("model",)


@pytest.mark.parametrize("before", ["model.eval()", "model.train(False)", "model.train(mode=False)",
                                    "model.train()\nmodel.eval()"])
def test_eval_before_the_block_covers_it(before):
    assert regions(f"{before}\nwith torch.no_grad():\n    preds = model(X)\n") == []


def test_train_after_eval_uncovers_it():
    [region] = regions("model.eval()\nmodel.train()\nwith torch.no_grad():\n    preds = model(X)\n")
    assert region.names == ("model",)


def test_eval_inside_a_helper_before_its_block_covers_it():
    code = """
    def test_step(model, loader):
        model.eval()
        with torch.inference_mode():
            for X, y in loader:
                preds = model(X)
    """
    assert regions(code) == []


def test_the_static_half_alone_gives_no_advice():
    assert found("with torch.inference_mode():\n    preds = model(X)\n") == []


# -- 5. backward() with gradients off ---------------------------------------------------

@pytest.mark.parametrize("block", ["torch.no_grad()", "torch.inference_mode()", "torch.set_grad_enabled(False)"])
def test_backward_inside_a_no_gradient_block_is_found(block):
    code = f"""
    with {block}:
        loss = loss_fn(model(X), y)
        loss.backward()
    """
    [tip] = advice(code)
    assert (tip.kind, tip.line) == ("backward-no-grad", 4)
    assert "line 2" in tip.saw


def test_backward_in_a_function_decorated_no_grad_is_found():
    code = """
    @torch.no_grad()
    def train(model):
        loss = loss_fn(model(X), y)
        loss.backward()
    """
    assert found(code) == [("backward-no-grad", 5)]


@pytest.mark.parametrize("code", [
    # backward after the block (the lesson's "read the error" cell): not this mistake
    "with torch.inference_mode():\n    untracked = model(X).sum()\nuntracked.backward()",
    # a manual update under no_grad, with backward outside
    "loss.backward()\nwith torch.no_grad():\n    w -= lr * w.grad\n    w.grad.zero_()",
    # gradients switched back on inside
    "with torch.no_grad():\n    with torch.enable_grad():\n        loss_fn(model(X), y).backward()",
    "with torch.inference_mode(False):\n    loss.backward()",
    # defined in the block, called elsewhere
    "with torch.no_grad():\n    def step():\n        loss.backward()",
])
def test_backward_near_misses(code):
    assert found(code) == []


# -- 6. a running total of loss tensors ------------------------------------------------------

@pytest.mark.parametrize("accumulate, line", [
    ("total += loss", 6),
    ("total = total + loss", 6),
    ("total += loss * len(y)", 6),
    ("losses.append(loss)", 6),
])
def test_keeping_the_loss_tensor_across_steps_is_found(accumulate, line):
    code = f"""
    for X, y in loader:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        {accumulate}
        optimizer.step()
    """
    [tip] = advice(code)
    assert (tip.kind, tip.line) == ("loss-history", line)
    assert "`loss.item()`" in tip.fix


@pytest.mark.parametrize("accumulate", [
    "total += loss.item()",
    "total += loss.item() * len(y)",
    "total += loss.detach()",
    "total += float(loss)",
    "losses.append(loss.item())",
    "losses.append(loss.detach().cpu())",
])
def test_keeping_the_number_is_fine(accumulate):
    code = f"""
    for X, y in loader:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        {accumulate}
        optimizer.step()
    """
    assert found(code) == []


def test_accumulating_on_purpose_before_one_backward_is_fine():
    code = """
    total = 0
    for X, y in chunks:
        total = total + loss_fn(model(X), y)
    total.backward()
    """
    assert found(code) == []


def test_a_test_loss_summed_under_inference_mode_is_fine():
    code = """
    with torch.inference_mode():
        for X, y in test_loader:
            test_loss += loss_fn(model(X), y)
    """
    assert found(code) == []


# -- robustness -------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["", "def (:\n", "x = 1\n" * 3, "\0", "lambda: loss.backward()"])
def test_code_that_does_not_parse_or_does_nothing_gets_no_advice(code):
    assert found(code) == []


def test_advice_round_trips_through_its_wire_form():
    [tip] = advice(LOOP_WITHOUT_ZERO)
    assert Advice.from_wire(tip.to_wire()) == tip
    assert tip.headline.startswith("line 5: ")
    assert Advice.from_wire({"kind": "x", "line": "7", "saw": 3}).line is None
