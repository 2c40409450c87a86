"""Who is calling: the bearer token checked on every API route, and the role it needs.

A token comes in ``Authorization: Bearer pw_...``; browsers' EventSource cannot set
headers, so ``?access_token=pw_...`` is accepted too. No token: 401. A token whose role
is too weak: 403. The check runs in a worker thread (it reads the database).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from stream.api.deps import hub_of
from stream.api.tokens import Role, allows

bearer = HTTPBearer(
    auto_error=False,
    description="an API token from `platewatch token create NAME --role read|admin`",
)


@dataclass(frozen=True)
class Caller:
    """The authenticated caller: token name and role."""

    name: str
    role: Role


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def require(needed: Role) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits callers whose token allows ``needed``."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller:
        hub = hub_of(request)
        if not hub.auth.enabled:
            return Caller("anonymous", "admin")
        presented = credentials.credentials if credentials else None
        presented = presented or request.query_params.get("access_token")
        if not presented:
            raise _unauthorized("an API token is needed: Authorization: Bearer <token>")
        token = await asyncio.to_thread(hub.tokens.authenticate, presented)
        if token is None:
            raise _unauthorized("the API token is unknown, malformed or revoked")
        if not allows(token.role, needed):
            raise HTTPException(
                403, f"token {token.name!r} has role {token.role!r}; this needs {needed!r}"
            )
        return Caller(token.name, token.role)

    return check


#: One instance per role, so FastAPI checks a request's token once per role.
read_role = require("read")
admin_role = require("admin")
read_access = Depends(read_role)
admin_access = Depends(admin_role)
