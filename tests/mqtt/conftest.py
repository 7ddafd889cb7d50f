"""The MQTT tests: topics and ACL, the request bridge, the embedded broker, Mosquitto and
the MQTT command line. `mqtt` (the server's MQTT side on a broker of its own) and `device`
(connected device links) are the plugin support/mqtt_plugin.py, which the edge and web
tests use too; helpers are in support/mqtt.py and support/brokers.py."""
