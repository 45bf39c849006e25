"""Shared fixtures: the location of the third-party models next to the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    """The suite runs the compiled kernels from its first query. A new process runs its first
    small passes as plain Python; the tests that compare the two tiers ask for each."""
    from modcfg.engines.decomposition import compiled_from_now

    compiled_from_now()


@pytest.fixture
def shared_data() -> Path:
    """The folder of real third-party models; tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"the real models are not available ({SHARED_DATA} is absent)")
    return SHARED_DATA
