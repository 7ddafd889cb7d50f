"""The simulator's record of predicted waits against the waits that came (the predictor itself is
hallq.core.waits.predictor, the one the live server runs)."""

from __future__ import annotations

from collections import deque


class PredictionLog:
    """Predictions set against what happened, so their accuracy is known."""

    def __init__(self, limit: int = 10_000):
        self.limit = limit
        self.open: dict[str, tuple[float, float | None]] = {}
        self.settled: deque[tuple[float, float | None, float]] = deque(maxlen=limit)

    def record(self, ticket: str, predicted: float, simple: float | None = None) -> None:
        """Remember the prediction (and the simple estimate) made for a ticket."""
        if len(self.open) < self.limit:
            self.open[ticket] = (predicted, simple)

    def settle(self, ticket: str, waited: float) -> None:
        """The ticket was called after `waited` minutes."""
        made = self.open.pop(ticket, None)
        if made is not None:
            self.settled.append((made[0], made[1], waited))

    def summary(self) -> dict:
        """Count, mean absolute error and bias of the predictions (and of the simple estimate)."""
        rows = list(self.settled)
        simple = [(s, w) for _, s, w in rows if s is not None]
        return {
            "count": len(rows),
            "mae": _mae([(p, w) for p, _, w in rows]),
            "bias": sum(p - w for p, _, w in rows) / len(rows) if rows else None,
            "simple_mae": _mae(simple),
        }


def _mae(pairs) -> float | None:
    pairs = list(pairs)
    return sum(abs(p - w) for p, w in pairs) / len(pairs) if pairs else None
