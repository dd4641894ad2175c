"""Keyed hashes of a study's server-side secret (HMAC-SHA256): per-rater queue orders,
control phases and invitation signatures. Nothing here is predictable without the secret,
which never leaves the database."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_hex(32)


def mac(secret: str, *parts: str | int) -> bytes:
    """HMAC of the parts (joined by NUL, so ("ab", "c") and ("a", "bc") differ)."""
    message = "\0".join(str(p) for p in parts).encode()
    return hmac.new(bytes.fromhex(secret), message, hashlib.sha256).digest()


def order_key(secret: str, *parts: str | int) -> int:
    """A stable, secret pseudo-random sort key."""
    return int.from_bytes(mac(secret, *parts)[:8], "big")


def unit(secret: str, *parts: str | int) -> float:
    """A stable, secret pseudo-random number in [0, 1)."""
    return order_key(secret, *parts) / 2**64
