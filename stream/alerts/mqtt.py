"""Alerts published to an MQTT broker, in the shape Home Assistant users expect.

Topics (``<prefix>`` is ``platewatch`` unless configured):

- ``<prefix>/alerts``: every alert, JSON (the same object as the webhook body);
- ``<prefix>/cameras/<camera>/alert``: the alerts of one camera, without the crop;
- ``<prefix>/status``: ``online`` / ``offline``, retained, ``offline`` set as the
  connection's last will, so Home Assistant greys the sensors out when the service dies;
- with discovery on, ``<discovery_prefix>/sensor/platewatch_<camera>/alert/config``
  (retained) announces one "last watched plate" sensor per camera the first time it alerts.

An alert counts as delivered when the broker acknowledged it (QoS 1 PUBACK). While the
broker is unreachable nothing is handed to paho's own queue, so a retried alert cannot
also go out from that queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re

import paho.mqtt.client as paho

from stream.alerts.config import MqttConfig
from stream.alerts.types import Alert, DeliveryError

log = logging.getLogger(__name__)

_TOPIC_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def topic_part(name: str) -> str:
    """A camera name made safe for one MQTT topic level and a Home Assistant object id."""
    return _TOPIC_UNSAFE.sub("_", name) or "_"


class MqttChannel:
    """One broker connection, kept up by paho's network thread (it reconnects itself)."""

    def __init__(self, config: MqttConfig) -> None:
        self.name = config.name
        self._config = config
        prefix = config.topic_prefix.rstrip("/")
        self.alerts_topic = f"{prefix}/alerts"
        self.status_topic = f"{prefix}/status"
        self._prefix = prefix
        self._announced: set[str] = set()
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"platewatch-{config.name}"
        )
        if config.username:
            self._client.username_pw_set(config.username, config.password)
        self._client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect

    def camera_topic(self, camera: str) -> str:
        return f"{self._prefix}/cameras/{topic_part(camera)}/alert"

    def start(self) -> None:
        """Connect in the background; a broker that is down now is retried by paho."""
        self._client.connect_async(self._config.host, self._config.port, keepalive=30)
        self._client.loop_start()

    def _on_connect(
        self, client: paho.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.warning("MQTT %s refused the connection: %s", self.name, rc)
            return
        log.info("MQTT %s connected to %s:%s", self.name, self._config.host, self._config.port)
        client.publish(self.status_topic, "online", qos=1, retain=True)
        # A broker that restarted without persistence lost the retained discovery configs.
        self._announced.clear()

    def _discovery(self, camera: str) -> tuple[str, str]:
        part = topic_part(camera)
        config = {
            "name": f"{camera} watched plate",
            "unique_id": f"platewatch_{part}_alert",
            "object_id": f"platewatch_{part}_alert",
            "state_topic": self.camera_topic(camera),
            "value_template": "{{ value_json.reading or value_json.plate_text }}",
            "json_attributes_topic": self.camera_topic(camera),
            "availability_topic": self.status_topic,
            "icon": "mdi:car-search",
            "device": {"identifiers": ["platewatch"], "name": "platewatch"},
        }
        topic = f"{self._config.discovery_prefix}/sensor/platewatch_{part}/alert/config"
        return topic, json.dumps(config)

    def _publish_blocking(self, alert: Alert) -> None:
        if not self._client.is_connected():
            raise DeliveryError(f"MQTT {self.name}: not connected to the broker")
        body = json.dumps(alert.payload(crop=True), separators=(",", ":"))
        # The camera topic feeds a Home Assistant sensor's attributes: no image there.
        brief = json.dumps(alert.payload(), separators=(",", ":"))
        messages = [
            (self.alerts_topic, body, False),
            (self.camera_topic(alert.camera), brief, False),
        ]
        if self._config.discovery and alert.camera not in self._announced:
            topic, config = self._discovery(alert.camera)
            messages.insert(0, (topic, config, True))
        infos = [
            self._client.publish(topic, payload, qos=self._config.qos, retain=retain)
            for topic, payload, retain in messages
        ]
        try:
            for info in infos:
                info.wait_for_publish(self._config.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"MQTT {self.name}: {exc}") from None
        if not all(info.is_published() for info in infos):
            raise DeliveryError(
                f"MQTT {self.name}: no acknowledgement in {self._config.timeout_s} s"
            )
        self._announced.add(alert.camera)

    async def send(self, alert: Alert) -> None:
        await asyncio.to_thread(self._publish_blocking, alert)

    async def close(self) -> None:
        def stop() -> None:
            if self._client.is_connected():
                self._client.publish(
                    self.status_topic, "offline", qos=1, retain=True
                ).wait_for_publish(2)
            self._client.disconnect()
            self._client.loop_stop()

        await asyncio.to_thread(stop)
