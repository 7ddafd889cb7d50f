"""What HallQ's server and its devices and pages say to each other, defined once:
the MQTT topics, the shapes of tickets, windows, queues and device messages, the
live pages' join/snapshot protocol, and the defaults both sides assume.

Standard library only: the edge devices (hallq_edge) import this package without
any of the server's dependencies, and the server validates and documents (OpenAPI)
from the same definitions.
"""
