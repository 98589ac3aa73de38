"""The shipped pretrained model can be rebuilt by its script, and the rebuild matches
the shipped file's accuracies within their stated spread (assets/pretrained/README.md).
It trains for a minute or two: marked slow."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tutor import config


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_make_backbone_rebuilds_the_shipped_model_within_its_spread():
    script = config.assets_dir() / "pretrained" / "make_backbone.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=850)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(": within ") == 2, done.stdout
