"""The course's reference curves ("ghosts"): every training cell of lessons 01-04 (a
cell or exercise solution that draws a live chart, itself or through a function of the
lesson) has a reference run recorded beside its lesson, for its current code.

When this fails after a lesson's training cell changed, record the curves again:

    tutor check --record-curves lessons/NN-name.md
"""

from __future__ import annotations

import ast

import pytest

from tutor import config, curves
from tutor.lessons.catalog import check_paths, lesson_files
from tutor.lessons.model import CodeCell, Exercise

TRAINING_LESSONS = ("01", "02", "03", "04")
LESSONS = [p for p in lesson_files(config.builtin_lessons_dir()) if p.name[:2] in TRAINING_LESSONS]


def _code(block) -> str:
    return block.solution if isinstance(block, Exercise) else block.code


def _calls(tree: ast.AST, *, into_functions: bool = True) -> set[str]:
    """The names called in ``tree`` (``live.log``, ``fit``); without ``into_functions``,
    only what runs when the code runs (not the bodies of the functions it defines)."""
    names, todo = set(), [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Call) and not any(  # train(..., log=False) draws nothing
                k.arg == "log" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in node.keywords):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else ast.unparse(func))
        if into_functions or node is tree or not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return names


def training_blocks(lesson) -> list:
    """Blocks whose code calls ``live.log`` when it runs, directly or through a function
    the lesson defines."""
    trees = {}
    for block in lesson.blocks():
        if isinstance(block, (CodeCell, Exercise)) and block.language == "python" and not block.file:
            try:
                trees[block.id] = (block, ast.parse(_code(block)))
            except SyntaxError:
                continue
    logging = {"live.log"}
    grew = True
    while grew:  # functions that log, and functions that call those
        grew = False
        for _, tree in trees.values():
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef) and node.name not in logging and _calls(node) & logging:
                    logging.add(node.name)
                    grew = True
    return [block for block, tree in trees.values() if _calls(tree, into_functions=False) & logging]


def test_there_are_training_lessons():
    assert [p.name[:2] for p in LESSONS] == list(TRAINING_LESSONS)


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_training_cell_has_a_fresh_reference_curve(path):
    [result] = check_paths([path])
    lesson = result.lesson
    record = f"record them: tutor check --record-curves lessons/{path.name}"
    found = curves.load(path)
    assert found is not None, f"{path.name} has no reference curves: {record}"
    stale = [f"{path.name}:{line}: {message}" for line, message in curves.problems(lesson, found)]
    assert not stale, "\n".join(stale)
    training = training_blocks(lesson)
    assert training, f"{path.name}: no training cell found (a cell that calls live.log)"
    missing = [f"{path.name}:{b.line}: {b.id}" for b in training if b.id not in found.curves]
    assert not missing, f"training cells without a reference curve ({record}):\n" + "\n".join(missing)
    for block in training:  # what the app and `tutor run` draw behind the lesson's own run: no note
        ghost = curves.ghost_for(found, block, _code(block))
        assert ghost is not None and ghost.note is None and ghost.device == found.label, block.id
