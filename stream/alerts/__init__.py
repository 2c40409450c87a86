"""Alert delivery: the outbox, its dispatcher, and the channels (webhook, MQTT, live feed)."""
