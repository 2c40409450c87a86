"""The ``alerts`` config section: where alerts go and how delivery is retried."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookConfig(_Section):
    """An HTTP receiver: each alert is POSTed as JSON, signed with HMAC-SHA256."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        title="receiver name",
        description="identifies the receiver in the delivery records; letters, digits, _ . -",
    )
    url: str = Field(title="URL", description="http:// or https:// address that takes a POST")
    secret: str = Field(
        default="",
        title="shared secret",
        description="key of the X-Platewatch-Signature header (sha256=<hex HMAC of the body>)",
    )
    timeout_s: float = Field(default=5.0, gt=0, le=120, title="request timeout", description="s")

    @field_validator("url")
    @classmethod
    def _http_only(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url


class MqttConfig(_Section):
    """An MQTT broker (Home Assistant's, Mosquitto...)."""

    name: str = Field(default="mqtt", pattern=r"^[A-Za-z0-9_.-]{1,64}$", title="receiver name")
    host: str = Field(default="127.0.0.1", title="broker host")
    port: int = Field(default=1883, ge=1, le=65535, title="broker port")
    username: str | None = Field(default=None, title="user name")
    password: str | None = Field(default=None, title="password")
    topic_prefix: str = Field(
        default="platewatch",
        pattern=r"^[^#+]+$",
        title="topic prefix",
        description="alerts go to <prefix>/alerts and <prefix>/cameras/<camera>/alert",
    )
    qos: int = Field(default=1, ge=0, le=2, title="QoS")
    discovery: bool = Field(
        default=True,
        title="Home Assistant discovery",
        description="announce one sensor per camera under the discovery prefix",
    )
    discovery_prefix: str = Field(default="homeassistant", title="discovery prefix")
    timeout_s: float = Field(default=5.0, gt=0, le=120, title="publish timeout", description="s")


class RetryConfig(_Section):
    """Exponential backoff for a receiver that is down; alerts wait in the outbox."""

    initial_s: float = Field(default=1.0, gt=0, le=3600, title="first wait", description="s")
    max_s: float = Field(default=300.0, gt=0, le=86400, title="longest wait", description="s")
    factor: float = Field(default=2.0, ge=1, le=10, title="growth per failure")
    give_up_after_s: float = Field(
        default=7 * 86400,
        gt=0,
        title="give up after",
        description="a delivery still failing this long after the alert is marked failed",
    )


class AlertsConfig(_Section):
    """Alert receivers (webhooks, MQTT) and their delivery retries."""

    webhooks: list[WebhookConfig] = Field(default_factory=list, title="webhooks")
    mqtt: MqttConfig | None = Field(default=None, title="MQTT broker")
    retry: RetryConfig = Field(default_factory=RetryConfig, title="retries")
    claim_s: float = Field(
        default=60.0,
        ge=5,
        le=3600,
        title="delivery claim",
        description="seconds a process holds the deliveries it is sending; another process "
        "sharing the database takes them over when this runs out (the process died)",
    )
    live_queue: int = Field(
        default=256,
        ge=1,
        le=100000,
        title="live feed buffer",
        description="alerts held per live (SSE) client before its oldest are dropped",
    )
