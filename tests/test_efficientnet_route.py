"""Lesson 06's torchvision step on the EfficientNet-B0 route, which needs ImageNet
weights we cannot download here: torch's hub cache is given a checkpoint of the right
name holding random weights (torchvision loads a cached file without a download or a
hash check), and the step's own cells run on a few digits. The real weights would
change the accuracy, not the code path this proves."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pytest

from tutor import config
from tutor.lessons.catalog import load_lesson

torch = pytest.importorskip("torch")
pytest.importorskip("torchvision")

STEP_CELLS = ("efficientnet-design", "efficientnet-route", "efficientnet-train")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_efficientnet_step_runs_with_cached_weights(tmp_path, monkeypatch):
    from torch import nn
    from torchvision import models

    from tutor.data import pretrained
    from tutor.data.digits import draw_digits
    from tutor.data.tinynet import TinyNet_Weights, tinynet

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("TUTOR_OFFLINE", "1")
    checkpoint = pretrained.efficientnet_file()
    checkpoint.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(models.efficientnet_b0(weights=None).state_dict(), checkpoint)

    weights = TinyNet_Weights.DEFAULT
    test_images, test_labels = draw_digits(12, seed=1000)
    namespace = {
        "torch": torch, "nn": nn, "time": __import__("time"), "device": "cpu",
        "weights": weights, "preprocess": weights.transforms(), "tinynet": tinynet,
        "count_trainable": lambda model: sum(p.numel() for p in model.parameters() if p.requires_grad),
        "train_sets": {0: draw_digits(20, seed=0)}, "test_images": test_images, "test_labels": test_labels,
    }
    cells = {cell.id: cell for cell in load_lesson(config.builtin_lessons_dir() / "06-transfer-learning.md").cells()}
    printed = io.StringIO()
    with redirect_stdout(printed):
        for cell_id in STEP_CELLS:
            exec(compile(cells[cell_id].code, cell_id, "exec"), namespace)
    text = printed.getvalue()
    assert "Using torchvision's EfficientNet-B0 with ImageNet weights, found in" in text
    assert "EfficientNet: 12,810 of 4,020,358 parameters train" in text
    assert "EfficientNet, feature extraction on 20 digits:" in text
    assert type(namespace["model"]).__name__ == "EfficientNet"
    assert namespace["train_features"].shape == (20, 1280)
    assert f"of {len(test_images)} test digits right" in text
