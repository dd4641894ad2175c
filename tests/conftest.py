"""Shared pytest fixtures: offline by construction, a private cache, the shared data."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    # Tests never touch the network: only loopback and Unix sockets may connect.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("EVALKIT_QUIET", "1")
    real_connect = socket.socket.connect

    def guarded_connect(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise RuntimeError(f"tests must not use the network (tried to connect to {address})")
        return real_connect(self, address)

    socket.socket.connect = guarded_connect


@pytest.fixture(scope="session", autouse=True)
def evalkit_cache(tmp_path_factory) -> Path:
    """A cache private to this test session: built tiny models and features start fresh."""
    path = tmp_path_factory.mktemp("evalkit-cache")
    old = os.environ.get("EVALKIT_CACHE")
    os.environ["EVALKIT_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("EVALKIT_CACHE", None)
    else:
        os.environ["EVALKIT_CACHE"] = old


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The benchmark data folder `../shared/data` next to the repo root (never copied into it)."""
    data = ROOT.parent / "shared" / "data"
    if not (data / "SOURCES.md").is_file():
        pytest.fail(f"benchmark data not found at {data}; the tests need ../shared/data beside the repo")
    return data
