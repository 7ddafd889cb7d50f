"""Who runs a `hallq` command, for the audit log: the operating-system account at the console."""

from __future__ import annotations

import getpass
import socket

from .core.txn import Actor


def operator() -> Actor:
    try:
        who = getpass.getuser()
    except Exception:  # no name for this uid (a bare container)
        who = "unknown"
    return Actor(name=f"cli:{who}", role="system", origin=f"cli@{socket.gethostname()}")
