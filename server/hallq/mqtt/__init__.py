"""HallQ over MQTT: topics, payload schemas, the embedded broker, the request
bridge and the publisher of retained state. See docs/mqtt.md.

This package's __init__ and `topics`/`acl`/`client` import nothing outside the standard
library: the edge devices (hallq_edge) import them without the server's dependencies.
"""
