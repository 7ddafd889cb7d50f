"""Domain errors: each has a stable machine code, a kind and a human message.

The kind maps to an HTTP status (or an MQTT error) at the edge; the core never
knows about transports.
"""


class HallError(Exception):
    """Base of every error the core raises on purpose."""

    kind = "conflict"

    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class NotFound(HallError):
    kind = "not_found"


class Conflict(HallError):
    """The request is valid but the hall's state does not allow it now."""

    kind = "conflict"


class Invalid(HallError):
    """The request is well-formed but its content is not acceptable."""

    kind = "invalid"


class Forbidden(HallError):
    kind = "forbidden"


class Refused(HallError):
    """A ticket cannot be issued (quota reached, service closed...)."""

    kind = "conflict"
