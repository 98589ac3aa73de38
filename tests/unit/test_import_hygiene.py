"""The layers of docs/architecture.md: as import-linter contracts (pyproject.toml), and
in fresh interpreters for what is really loaded (lazy imports included).

Everything outside tutor.ui, and the UI's own modules that need no Textual, must import
without textual or rich; nothing the CLI or the UI process loads may pull in torch.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import tutor

HEAVY = ("torch", "torchvision", "textual", "rich")
REPO = Path(__file__).resolve().parents[2]
# Modules of tutor.ui that need no Textual (models beside their widgets): kept so.
UI_WITHOUT_TEXTUAL = ("tutor.ui.output_buffer", "tutor.ui.keys", "tutor.ui.edits", "tutor.ui.heap", "tutor.ui.replay",
                      "tutor.ui.run_above")
# Torch models that lesson code imports in the worker (`from tutor.data.tinynet import
# tinynet`): they are torch, so only the worker may load them (checked below).
WORKER_ONLY = ("tutor.data.tinynet",)


def core_modules() -> list[str]:
    names = list(UI_WITHOUT_TEXTUAL)
    for info in pkgutil.walk_packages(tutor.__path__, prefix="tutor."):
        if info.name == "tutor.ui" or info.name.startswith("tutor.ui.") or info.name in WORKER_ONLY:
            continue
        names.append(info.name)
    return sorted(names)


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_core_modules_found():
    names = core_modules()
    assert "tutor.lessons.parser" in names and "tutor.cli" in names and "tutor.ui.output_buffer" in names


def test_the_layers_hold_as_import_linter_contracts():
    """``lint-imports`` with the contracts of pyproject.toml, on this checkout's tutor."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "3 kept, 0 broken" in out.stdout


@pytest.mark.parametrize("module", core_modules())
def test_core_module_imports_nothing_heavy(module):
    loaded = loaded_after(f"import {module}")
    assert not loaded & set(HEAVY), f"{module} pulled in {sorted(loaded & set(HEAVY))}"


def ui_modules() -> list[str]:
    import tutor.ui

    return sorted(i.name for i in pkgutil.walk_packages(tutor.ui.__path__, prefix="tutor.ui."))


def test_ui_modules_never_load_torch():
    modules = ui_modules()
    assert "tutor.ui.app" in modules
    loaded = loaded_after("\n".join(f"import {m}" for m in modules))
    assert "textual" in loaded
    assert not loaded & {"torch", "torchvision"}


def test_worker_only_modules_are_reached_by_nothing_the_cli_or_ui_loads():
    modules = [*ui_modules(), *(m for m in core_modules() if m.startswith(("tutor.cli", "tutor.commands")))]
    code = "\n".join(f"import {m}" for m in modules) + "\nimport sys\n" + \
        f"print('WORKER_ONLY', [m for m in {list(WORKER_ONLY)!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "WORKER_ONLY []"


def test_help_and_list_do_not_load_heavy_modules(tmp_path):
    code = (
        "import sys, io, contextlib\n"
        "from tutor.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['list'])\n"
        "    main(['check'])\n"
    )
    loaded = loaded_after(code)
    assert not loaded & set(HEAVY)


def test_importtime_of_help_shows_neither_torch_nor_textual():
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "tutor", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines() if "|" in line}
    assert "tutor" in imported
    assert not imported & set(HEAVY)
