"""The process's limit of open files, raised to what the server will hold.

Every device on the embedded broker, every browser's live connection and every HTTP client is
a socket, and the usual soft limit of 1,024 open files is met long before a city's hall is: the
kernel then refuses `accept`, and a server that keeps trying fills its log with "Too many open
files". Any process may raise its soft limit up to its hard limit, which is what `open_files`
does at start-up; past the hard limit only the system can help (LimitNOFILE= in a systemd unit,
`ulimit -Hn`, or /etc/security/limits.conf), and the log says so.
"""

from __future__ import annotations

import logging

log = logging.getLogger("hallq.limits")
SPARE = 256  # files beyond the sockets: the database, logs, pipes, the interpreter's own


def wanted(*, devices: int = 0, browsers: int = 0, requests: int = 0) -> int:
    """Open files a server process needs for this many devices, live connections and request threads."""
    return devices + browsers + requests + SPARE


def open_files(want: int) -> int:
    """Raise this process's soft limit of open files toward `want` (never past the hard limit, never
    lowered); warn when it stays below. Returns the soft limit now in force (0 where unknown)."""
    try:
        import resource
    except ImportError:  # not on a POSIX system
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinite = resource.RLIM_INFINITY
    if soft != infinite and soft < want:
        target = want if hard == infinite else min(want, hard)
        if target > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    if soft != infinite and soft < want:
        log.warning("this process may open %d files but wants %d (its devices, live connections and requests): "
                    "raise the hard limit (LimitNOFILE=%d in the systemd unit, or `ulimit -Hn %d` before starting)",
                    soft, want, want, want)
    return -1 if soft == infinite else soft
