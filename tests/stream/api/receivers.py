"""Real alert receivers for the tests: an HTTP webhook server and an MQTT subscriber."""

from __future__ import annotations

import json
import queue
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import paho.mqtt.client as paho

from stream.alerts.config import RetryConfig

#: Retries quick enough for a test to see a held alert arrive.
FAST = RetryConfig(initial_s=0.05, max_s=0.2, factor=2)
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mqtt_available() -> bool:
    try:
        with socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """An HTTP server on 127.0.0.1 that records POSTs; ``status`` is what it answers.

    ``stop()`` closes the port (the receiver is down: connection refused), ``start()``
    opens it again on the same port.
    """

    port: int = field(default_factory=free_port)
    status: int = 200
    received: list[Received] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                owner.received.append(Received(dict(self.headers.items()), body))
                self.send_response(owner.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class MqttListener:
    """A paho subscriber on the real broker; ``messages`` yields (topic, payload, retain)."""

    def __init__(self, topics: list[str]) -> None:
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
        subscribed = threading.Event()
        self._client.on_message = lambda _c, _u, msg: self.messages.put(
            (msg.topic, msg.payload, bool(msg.retain))
        )
        self._client.on_subscribe = lambda *_a: subscribed.set()
        self._client.on_connect = lambda c, *_a: c.subscribe([(t, 1) for t in topics])
        self._client.connect(MQTT_HOST, MQTT_PORT)
        self._client.loop_start()
        if not subscribed.wait(5):
            self.close()
            raise RuntimeError("MQTT subscription was not acknowledged")

    def get(self, timeout: float = 5.0) -> tuple[str, bytes, bool]:
        return self.messages.get(timeout=timeout)

    def drain(self, timeout: float = 0.3) -> list[tuple[str, bytes, bool]]:
        out = []
        try:
            while True:
                out.append(self.messages.get(timeout=timeout))
        except queue.Empty:
            return out

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
