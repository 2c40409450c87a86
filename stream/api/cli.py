"""``platewatch watch ...`` and ``platewatch token ...``: argument definitions only.

Handlers live in stream.api.commands and are imported when a command runs.
"""

from __future__ import annotations

import argparse
import importlib
from typing import Any


def _lazy(func: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module("stream.api.commands"), func)(args) or 0)

    return handler


def _where(parser: argparse.ArgumentParser, remote: bool) -> None:
    parser.add_argument("--data", default=None, help="data folder (else $PLATEWATCH_DATA)")
    parser.add_argument("--config", default=None, help="service config file (its store.url)")
    parser.add_argument("--db", default=None, help="SQLAlchemy database URL (overrides both)")
    if remote:
        parser.add_argument(
            "--url", default=None, help="a running service, http://HOST:PORT (else local)"
        )
        parser.add_argument(
            "--token", default=None, help="API token for --url (else $PLATEWATCH_TOKEN)"
        )


def add_commands(sub: Any) -> None:
    watch = sub.add_parser("watch", help="the watchlist: plates that raise alerts")
    wsub = watch.add_subparsers(dest="watch_command", metavar="ACTION", required=True)

    add = wsub.add_parser("add", help="watch a plate text ('?' one character, '*' any run)")
    add.add_argument("text", help="plate text, e.g. AA5149EK, AB?123C, KA*")
    add.add_argument("--label", default="", help="why it is watched")
    add.add_argument("--threshold", type=float, default=None, help="cosine to reach (-1..1)")
    add.add_argument("--hours", default=None, help="active daily window, e.g. 08:00-18:00")
    add.add_argument(
        "--no-past", action="store_true", help="locally: skip the search of the last 24 h"
    )
    add.add_argument("--model", default="default", help="locally: embedding model for that search")
    _where(add, remote=True)
    add.set_defaults(handler=_lazy("watch_add"))

    ls = wsub.add_parser("list", help="show the watchlist")
    ls.add_argument("--json", action="store_true", help="print JSON")
    _where(ls, remote=True)
    ls.set_defaults(handler=_lazy("watch_list"))

    rm = wsub.add_parser("remove", help="stop watching an entry")
    rm.add_argument("id", type=int, help="entry id (see 'watch list')")
    _where(rm, remote=True)
    rm.set_defaults(handler=_lazy("watch_remove"))

    token = sub.add_parser("token", help="API tokens for the HTTP API")
    tsub = token.add_subparsers(dest="token_command", metavar="ACTION", required=True)

    create = tsub.add_parser("create", help="make a token (printed once, stored hashed)")
    create.add_argument("name", help="who or what uses it")
    create.add_argument("--role", choices=["read", "admin"], default="read", help="default read")
    _where(create, remote=False)
    create.set_defaults(handler=_lazy("token_create"))

    revoke = tsub.add_parser("revoke", help="revoke a token by name or id")
    revoke.add_argument("name", help="token name or id")
    _where(revoke, remote=False)
    revoke.set_defaults(handler=_lazy("token_revoke"))

    tls = tsub.add_parser("list", help="show tokens (never their secrets)")
    _where(tls, remote=False)
    tls.set_defaults(handler=_lazy("token_list"))
