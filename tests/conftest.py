"""Shared fixtures: the location of the third-party models next to the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The folder of real third-party models; tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real models are not available ({SHARED_DATA} is absent)")
    return SHARED_DATA
