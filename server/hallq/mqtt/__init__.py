"""HallQ over MQTT: topics, payload schemas, the embedded broker, the request
bridge and the publisher of retained state. See docs/mqtt.md.

The topics and payload shapes the devices share are in hallq_protocol (standard
library only); the edge devices import nothing from this package.
"""
