"""API tokens in SQL (``api_tokens``): create, list, revoke, and check a presented token."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from stream.alerts.outbox import utc
from stream.alerts.tables import api_tokens
from stream.api.tokens import (
    ApiToken,
    TokenError,
    check_name,
    check_role,
    format_token,
    hash_secret,
    new_secret,
    parse_token,
    secret_matches,
)


def _token(row: RowMapping) -> ApiToken:
    created = utc(row["created"]) or datetime.now(UTC)
    return ApiToken(
        id=row["id"],
        name=row["name"],
        role=check_role(row["role"]),
        secret_hash=row["secret_hash"],
        created=created,
        revoked=utc(row["revoked"]),
        last_used=utc(row["last_used"]),
    )


class TokenStore:
    """Blocking calls; the HTTP layer runs :meth:`authenticate` in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, name: str, role: str) -> tuple[ApiToken, str]:
        """A new token; returns its record and the token text (shown once, never stored).

        Raises TokenError for a bad name or role, or a name already used.
        """
        values = {
            "name": check_name(name),
            "role": check_role(role),
            "created": datetime.now(UTC),
        }
        secret = new_secret()
        try:
            with self._engine.begin() as conn:
                key = conn.execute(
                    api_tokens.insert().values(**values, secret_hash=hash_secret(secret))
                ).inserted_primary_key
        except IntegrityError:
            raise TokenError(f"a token named {name!r} exists; pick another name") from None
        token_id = int(key[0]) if key else 0
        record = self.find(str(token_id))
        if record is None:
            raise TokenError(f"token {name!r} vanished while being created")
        return record, format_token(token_id, secret)

    def all(self) -> list[ApiToken]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(api_tokens).order_by(api_tokens.c.id)).mappings().all()
        return [_token(r) for r in rows]

    def find(self, name_or_id: str) -> ApiToken | None:
        """The token with this name, or else with this numeric id."""
        cond = api_tokens.c.name == name_or_id
        if name_or_id.isdigit():
            cond = cond | (api_tokens.c.id == int(name_or_id))
        with self._engine.connect() as conn:
            rows = conn.execute(select(api_tokens).where(cond)).mappings().all()
        by_name = [r for r in rows if r["name"] == name_or_id]
        chosen = by_name or rows
        return _token(chosen[0]) if chosen else None

    def revoke(self, name_or_id: str) -> ApiToken:
        """Revoke a token now. Raises TokenError when no token has that name or id."""
        token = self.find(name_or_id)
        if token is None:
            raise TokenError(f"no token named (or numbered) {name_or_id!r}")
        if token.revoked is None:
            with self._engine.begin() as conn:
                conn.execute(
                    update(api_tokens)
                    .where(api_tokens.c.id == token.id)
                    .values(revoked=datetime.now(UTC))
                )
        return self.find(str(token.id)) or token

    def authenticate(self, presented: str) -> ApiToken | None:
        """The live token that ``presented`` is, or None (malformed, unknown, revoked)."""
        parsed = parse_token(presented)
        if parsed is None:
            return None
        token_id, secret = parsed
        query = select(api_tokens).where(api_tokens.c.id == token_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        token = _token(row)
        if token.revoked is not None or not secret_matches(token, secret):
            return None
        return token
