"""HallQ: queue-and-window management for government service halls."""

__version__ = "0.1.0"
