"""API tokens: made once, shown once, stored only as a SHA-256 hash.

A token reads ``pw_<id>_<secret>``: the id finds the row, the 32-byte random secret is
checked against the stored hash with a constant-time compare. Roles: ``read`` may look
(cameras, sightings, watchlist, alerts); ``admin`` may also change things.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from platewatch.errors import PlatewatchError

Role = Literal["read", "admin"]
ROLES: tuple[Role, ...] = ("read", "admin")
_TOKEN = re.compile(r"pw_(\d{1,18})_([A-Za-z0-9_-]{20,128})")
_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


class TokenError(PlatewatchError, ValueError):
    """A token name or role is not acceptable; the message says what is."""


@dataclass(frozen=True)
class ApiToken:
    """A stored token (its secret is never kept, only ``secret_hash``)."""

    id: int
    name: str
    role: Role
    secret_hash: str
    created: datetime
    revoked: datetime | None = None
    last_used: datetime | None = None


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise TokenError(f"token name {name!r} must be 1-64 letters, digits, '_', '.', '@' or '-'")
    return name


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise TokenError(f"role {role!r} is not one of {', '.join(ROLES)}")
    return role


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """Hex SHA-256 of the secret: a random 256-bit secret needs no slow hash or salt."""
    return hashlib.sha256(secret.encode()).hexdigest()


def format_token(token_id: int, secret: str) -> str:
    return f"pw_{token_id}_{secret}"


def parse_token(token: str) -> tuple[int, str] | None:
    """(id, secret) of a well-formed token, else None."""
    found = _TOKEN.fullmatch(token.strip())
    return (int(found.group(1)), found.group(2)) if found else None


def secret_matches(token: ApiToken, secret: str) -> bool:
    return hmac.compare_digest(token.secret_hash, hash_secret(secret))


def allows(role: Role, needed: Role) -> bool:
    """True when ``role`` may do what ``needed`` guards (admin may do everything)."""
    return role == "admin" or needed == "read"
