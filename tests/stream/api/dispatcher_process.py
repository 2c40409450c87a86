"""One service process's alert delivery, on its own: ``python -m
tests.stream.api.dispatcher_process DATABASE_URL WEBHOOK_URL NODE``.

Prints ``ready`` once connected, waits for a line on stdin (so several processes start
together), runs the real Dispatcher over the shared outbox until nothing is pending (at
most a minute), then prints how many deliveries this process made.
"""

from __future__ import annotations

import asyncio
import sys

from store.db import make_engine
from stream.alerts.config import RetryConfig, WebhookConfig
from stream.alerts.dispatch import Dispatcher
from stream.alerts.outbox import Outbox
from stream.alerts.webhook import WebhookChannel


async def main(url: str, webhook: str, node: str) -> int:
    engine = make_engine(url)
    outbox = Outbox(engine)
    outbox.counts()  # connected before the start
    hook = WebhookChannel(WebhookConfig(name="hook", url=webhook))
    dispatcher = Dispatcher(outbox, {"hook": hook}, RetryConfig(), node=node)
    print("ready", flush=True)
    sys.stdin.readline()
    delivered = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + 60
    while outbox.counts().get("pending", 0) and loop.time() < end:
        delivered += await dispatcher.deliver_due(batch=2)
    await hook.close()
    engine.dispose()
    return delivered


if __name__ == "__main__":
    print(asyncio.run(main(*sys.argv[1:4])), flush=True)
