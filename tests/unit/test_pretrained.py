"""The shipped pretrained model (tutor.data.tinynet) and the choice between it and
torchvision's EfficientNet-B0 (tutor.data.pretrained). Nothing here downloads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tutor.data import pretrained

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def test_the_efficientnet_url_is_torchvisions():
    from torchvision.models import EfficientNet_B0_Weights

    assert pretrained.EFFICIENTNET_URL == EfficientNet_B0_Weights.DEFAULT.url


@pytest.mark.parametrize("env", [{}, {"TORCH_HOME": "/tmp/th"}, {"XDG_CACHE_HOME": "/tmp/xdg"}])
def test_the_hub_folder_is_torchs_without_importing_torch(env, monkeypatch):
    for name in ("TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    theirs = subprocess.run([sys.executable, "-c", "import torch.hub; print(torch.hub.get_dir())"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert str(pretrained.torch_hub_dir()) == theirs


def test_offline_without_cached_weights_the_shipped_model_is_chosen_and_the_reason_said(empty_hub, monkeypatch):
    monkeypatch.setenv("TUTOR_OFFLINE", "1")
    choice = pretrained.choose_backbone()
    assert choice.kind == "shipped" and not choice.is_efficientnet
    assert "not in the torch hub cache" in str(choice) and "TUTOR_OFFLINE=1" in str(choice)
    assert str(pretrained.SHIPPED_WEIGHTS) in str(choice)
    finding, ok = pretrained.describe_choice()
    assert ok and "shipped TinyNet" in finding and "TUTOR_OFFLINE is set" in finding


def test_cached_weights_are_used(empty_hub, monkeypatch):
    monkeypatch.setenv("TUTOR_OFFLINE", "1")
    empty_hub.mkdir(parents=True)
    (empty_hub / "efficientnet_b0_rwightman-7f5810bc.pth").write_bytes(b"weights")
    assert pretrained.choose_backbone().is_efficientnet
    finding, ok = pretrained.describe_choice()
    assert ok and "EfficientNet-B0" in finding and "hub cache" in finding


def test_a_failed_download_falls_back_and_says_why(empty_hub, monkeypatch):
    monkeypatch.delenv("TUTOR_OFFLINE", raising=False)

    def no_network(*, timeout):
        raise OSError("Name or service not known")

    monkeypatch.setattr(pretrained, "fetch_efficientnet", no_network)
    choice = pretrained.choose_backbone()
    assert choice.kind == "shipped"
    assert "the download failed (Name or service not known)" in str(choice)
    finding, _ = pretrained.describe_choice()
    assert finding.startswith("lesson 06 tries to download")


def test_the_shipped_files_are_small_and_described():
    meta = pretrained.shipped_meta()
    assert pretrained.SHIPPED_WEIGHTS.stat().st_size <= 5 * 2**20
    assert meta["categories"] == [chr(c) for c in range(ord("A"), ord("Z") + 1)]
    spread = meta["accuracy_spread"]
    assert spread["min"] <= meta["accuracy"] <= spread["max"] and len(spread["seeds"]) >= 3
    import hashlib

    assert hashlib.sha256(pretrained.SHIPPED_WEIGHTS.read_bytes()).hexdigest() == meta["sha256"]


def test_the_pretrained_model_reads_letters_as_the_readme_says():
    from tutor.data.characters import draw_letters
    from tutor.data.tinynet import TinyNet_Weights, tinynet

    weights = TinyNet_Weights.DEFAULT
    model = tinynet(weights=weights).eval()
    images, labels = draw_letters(260, seed=12345)  # letters it never saw
    with torch.inference_mode():
        predicted = model(weights.transforms()(images)).argmax(1)
    assert (predicted == labels).float().mean().item() >= pretrained.shipped_meta()["accuracy_spread"]["min"] - 0.03


def test_the_transforms_take_pictures_of_any_size_and_colour():
    from PIL import Image

    from tutor.data.tinynet import TinyNet_Weights

    preprocess = TinyNet_Weights.DEFAULT.transforms()
    meta = pretrained.shipped_meta()
    white = preprocess(Image.new("RGB", (90, 60), "white"))
    assert white.shape == (1, 28, 28) and white.dtype == torch.float32
    assert torch.allclose(white, torch.full_like(white, (1 - meta["mean"]) / meta["std"]), atol=1e-4)
    batch = torch.rand(4, 1, 28, 28)
    assert torch.allclose(preprocess(batch), (batch - meta["mean"]) / meta["std"], atol=1e-6)
    as_bytes = (batch * 255).round().to(torch.uint8).expand(4, 3, 28, 28)
    assert torch.allclose(preprocess(as_bytes), preprocess(as_bytes.float() / 255), atol=1e-5)
    assert "mean=" in repr(preprocess) and "std=" in repr(preprocess)


def test_like_torchvision_the_pretrained_classifier_is_replaced_not_resized():
    from tutor.data.tinynet import TinyNet_Weights, tinynet

    with pytest.raises(ValueError, match="replace model.classifier"):
        tinynet(weights=TinyNet_Weights.DEFAULT, num_classes=10)
    scratch = tinynet(weights=None, num_classes=10)
    assert scratch.classifier[-1].out_features == 10
    assert tinynet(weights="DEFAULT").classifier[-1].out_features == 26
    assert repr(TinyNet_Weights.DEFAULT) == "TinyNet_Weights.LETTERS_V1"


def test_the_meta_file_is_what_the_loader_reads():
    raw = json.loads((pretrained.shipped_folder() / pretrained.META_NAME).read_text())
    assert raw == pretrained.shipped_meta()


def test_doctor_says_which_pretrained_model_lesson_06_would_use(empty_hub, monkeypatch):
    from tutor.commands import doctor_checks

    monkeypatch.setenv("TUTOR_OFFLINE", "1")
    (name, finding, ok), = doctor_checks.pretrained_check()
    assert name == "pretrained" and ok
    assert finding.startswith("lesson 06 uses the shipped TinyNet") and str(empty_hub) in finding


def test_choosing_without_a_download_imports_no_torch(tmp_path):
    code = ("import sys, os; os.environ['TUTOR_OFFLINE'] = '1'; from tutor.data import pretrained; "
            "pretrained.describe_choice(); pretrained.choose_backbone(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**__import__("os").environ, "TORCH_HOME": str(tmp_path)}).stdout
    assert out.strip() == "False"
