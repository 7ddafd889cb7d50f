"""Listening ports: is one free, and which one is; the address others reach this machine at."""

from __future__ import annotations

import errno
import socket
import threading


class PortTaken(RuntimeError):
    pass


def check_port(host: str, port: int, *, what: str = "port", hint: str = "") -> None:
    """Raise PortTaken with a plain message (what is taken, and `hint` on how to choose another)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortTaken(f"{what} {port} on {host} is already in use" + (f"; {hint}" if hint else "")) from None
            raise PortTaken(f"cannot listen on {host}:{port} ({what}): {exc.strerror}") from None


_given: set[int] = set()
_given_lock = threading.Lock()


def free_port(host: str = "127.0.0.1") -> int:
    """A port the system says is free now and that this process has not been given before.

    Nothing holds the port once it is returned, so the system may hand the same one out again
    before its taker binds it (seen: a server's HTTP port chosen twice, once for its broker).
    Remembering what was given keeps two choices of one process apart."""
    with _given_lock:
        for _ in range(100):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.bind((host, 0))
                port = s.getsockname()[1]
            if port not in _given:
                _given.add(port)
                return port
    raise PortTaken(f"no free port on {host} that this process has not used already")


def lan_address() -> str:
    """This machine's address on its default route (what devices on the LAN reach it at); 127.0.0.1 without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # UDP: nothing is sent, the kernel only picks the outgoing interface
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"
