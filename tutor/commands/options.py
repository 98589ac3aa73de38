"""Command-line options that several commands share. Imports nothing heavy: the
top-level parser uses them for ``tutor --help``."""

from __future__ import annotations

from tutor.config import DEVICES

DEFAULT_CELL_TIMEOUT = 300.0


def add_course_option(parser) -> None:
    parser.add_argument("--lessons", metavar="DIR", help="use the course in DIR instead of the built-in one")


def add_device_options(parser, *, memory: bool = True, prefix: str = "") -> None:
    """``--device`` (and ``--memory-limit``); ``prefix`` says when they apply, e.g. "with --run: "."""
    parser.add_argument("--device", choices=DEVICES, default=None,
                        help=f"{prefix}where learner code runs (default: auto = CUDA, then MPS, then CPU)")
    if memory:
        parser.add_argument("--memory-limit", metavar="SIZE", default=None,
                            help=f"{prefix}stop learner code that uses more memory than this, e.g. 4G "
                                 "(default: from RAM)")


def add_timeout_option(parser, *, prefix: str = "") -> None:
    parser.add_argument("--timeout", type=float, default=DEFAULT_CELL_TIMEOUT, metavar="S",
                        help=f"{prefix}stop a cell after S seconds (default {DEFAULT_CELL_TIMEOUT:g}; 0 = no limit)")


def add_perturb_option(parser, *, prefix: str = "") -> None:
    parser.add_argument("--perturb", type=int, default=0, metavar="K",
                        help=f"{prefix}shift every torch seed by K and use another CPU thread count, to find "
                             "claims that hold only by luck (a GPU's numerics differ too)")
