"""The diagnosis in the real worker: ``execute(diagnose=True)`` gets ``AdviceGiven``
events (the static ones before the cell's output, the runtime ones while it runs, the
ones about an error just before its ``CellFailed``), once per kind per run; without
the flag, nothing. The worker's own cells are unchanged either way."""

from __future__ import annotations

import textwrap

import pytest
from sandbox_helpers import run

from tutor.sandbox.events import AdviceGiven, CellFailed, OutputStreamed

pytestmark = pytest.mark.slow

SETUP = """
import torch
from torch import nn
torch.manual_seed(0)
X = torch.randn(32, 3)
y = (X.sum(dim=1, keepdim=True) > 0).float()
"""

WRONG_MODEL = """
model_0, model_1 = nn.Linear(3, 1), nn.Linear(3, 1)
optimizer = torch.optim.SGD(model_0.parameters(), lr=0.1)
for step in range(3):
    loss = nn.functional.binary_cross_entropy_with_logits(model_1(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print("trained")
"""


async def ready(make_client):
    client = await make_client()
    cell = await run(client, SETUP)
    assert cell.status == "ok", cell.events
    return client


def advice(cell) -> list[AdviceGiven]:
    return cell.of(AdviceGiven)


async def test_static_advice_comes_first_with_its_line(make_client):
    client = await ready(make_client)
    code = textwrap.dedent("""
        print("before")
        out = model.forward(X) if False else None
        print("after")
    """)
    cell = await run(client, code, diagnose=True)
    assert cell.status == "ok"
    [tip] = advice(cell)
    assert (tip.kind, tip.line) == ("forward-call", 3)
    assert "`model.forward(X)`" in tip.saw and tip.why and tip.fix
    order = [type(e).__name__ for e in cell.events if isinstance(e, (AdviceGiven, OutputStreamed))]
    assert order[0] == "AdviceGiven"


async def test_without_the_flag_there_is_no_advice(make_client):
    client = await ready(make_client)
    cell = await run(client, "y_hat = nn.Linear(3, 1).forward(X)\n" + WRONG_MODEL)
    assert cell.status == "ok" and "trained" in cell.stdout
    assert advice(cell) == []


async def test_the_wrong_model_is_noticed_while_it_trains_and_said_once(make_client):
    client = await ready(make_client)
    cell = await run(client, WRONG_MODEL, diagnose=True)
    assert cell.status == "ok" and "trained" in cell.stdout
    [tip] = advice(cell)
    assert tip.kind == "optimizer-model" and "`model_1`" in tip.saw and "`model_0`" in tip.saw
    again = await run(client, WRONG_MODEL, diagnose=True)
    assert [a.kind for a in advice(again)] == ["optimizer-model"]  # once per run, every run


async def test_an_error_gets_its_explanation_just_before_the_failure(make_client):
    client = await ready(make_client)
    cell = await run(client, "x = 1\nloss = nn.CrossEntropyLoss()(torch.randn(4, 3), torch.tensor([0., 1, 2, 1]))\n",
                     diagnose=True)
    assert cell.status == "error"
    [tip] = advice(cell)
    assert (tip.kind, tip.line) == ("label-dtype", 2)
    kinds = [type(e).__name__ for e in cell.events]
    assert kinds.index("AdviceGiven") < kinds.index("CellFailed")
    assert "Long" in cell.of(CellFailed)[0].message  # torch's own message, unchanged


async def test_a_device_mismatch_names_the_devices_and_the_line(make_client):
    client = await ready(make_client)
    cell = await run(client, "model = nn.Linear(3, 1).to('meta')\n\npreds = model(X)\n", diagnose=True)
    [tip] = advice(cell)
    assert (tip.kind, tip.line) == ("device-mismatch", 3)
    assert "meta" in tip.saw and "cpu" in tip.saw


async def test_an_interrupted_run_leaves_nothing_watching(make_client):
    client = await ready(make_client)
    code = WRONG_MODEL.replace("range(3)", "range(10**9)")
    events = []
    async for event in client.execute(code, diagnose=True):
        events.append(event)
        if isinstance(event, AdviceGiven) and event.kind == "loss-flat":  # 100 steps in: stop it
            await client.interrupt()
    assert events[-1].status == "interrupted"
    assert [e.kind for e in events if isinstance(e, AdviceGiven)] == ["optimizer-model", "loss-flat"]
    after = await run(client, WRONG_MODEL)  # not diagnosed: the hooks stay quiet
    assert after.status == "ok" and advice(after) == []
