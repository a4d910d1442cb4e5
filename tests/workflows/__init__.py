"""Tests of workflow templates, the builder, the validator and the bundled schema."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def full_object_info_path() -> Path:
    """The real host's `/object_info` dump in the shared folder (`WANBOT_SHARED` overrides)."""
    shared = os.environ.get("WANBOT_SHARED")
    base = Path(shared) if shared else REPO_ROOT / ".." / "shared"
    return base / "comfy" / "object_info.json"


def full_object_info() -> dict[str, Any]:
    """The full dump, or skip the test when it is not available on this machine."""
    path = full_object_info_path()
    if not path.is_file():
        pytest.skip(f"full object_info not found at {path} (set WANBOT_SHARED)")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
