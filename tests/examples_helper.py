"""Imports the demo-export builder from examples/ for tests that need a fresh copy."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "make_demo_export", Path(__file__).resolve().parent.parent / "examples" / "make_demo_export.py")
_MOD = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MOD)


def build_export(target: Path) -> Path:
    return _MOD.build(target)
