"""The hall engine: tickets, windows, pooled calling. No Flask, MQTT, GPIO or printer here."""
