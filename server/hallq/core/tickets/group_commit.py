"""Group commit: many threads' small writes of one kind, run together in one transaction.

When 32 dispensers and kiosks issue tickets at once, each in a transaction of
its own, every ticket pays for taking the database's single writer lock, its
BEGIN and COMMIT, and the hand-over to the next thread, which under load costs
more than the ticket itself. Here the first caller becomes the *leader*: it
runs every request waiting at that moment as one batch, delivers each caller
its own outcome, and hands the lead to the first of those who arrived
meanwhile. A caller alone (the simulator, a quiet hall) runs its request at
once, in its own thread, as before.

The batch function decides what one batch means; it must give every item an
outcome (`Item.succeed` / `Item.fail`) and is called by one thread at a time
(a request made from inside a batch, by the leader itself, runs as a batch of
its own).
"""

from __future__ import annotations

import threading
from typing import Any, Callable


class Item:
    """One caller's request and, once the batch has run, its outcome."""

    __slots__ = ("request", "_result", "_error", "_done", "_wake")

    def __init__(self, request: Any):
        self.request = request
        self._result: Any = None
        self._error: BaseException | None = None
        self._done = False
        self._wake = threading.Event()

    @property
    def done(self) -> bool:
        return self._done

    def succeed(self, result: Any) -> None:
        self._result, self._done = result, True

    def fail(self, error: BaseException) -> None:
        self._error, self._done = error, True

    def outcome(self) -> Any:
        if self._error is not None:
            raise self._error
        return self._result


class GroupCommit:
    """Runs `run_batch(items)` for the requests of many threads, at most `max_batch` at a time."""

    def __init__(self, run_batch: Callable[[list[Item]], None], *, max_batch: int = 64):
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._mutex = threading.Lock()
        self._pending: list[Item] = []
        self._busy = False  # a leader is at work; new requests wait for it or the next one
        self._leader: int | None = None  # the leading thread, while it runs a batch

    def submit(self, request: Any) -> Any:
        """Run `request` in the next batch and return its result (or raise its error)."""
        item = Item(request)
        if self._leader == threading.get_ident():
            # Asked from inside a batch (say, by a listener to its events): this
            # thread is the leader and cannot wait for itself. Run it on its own.
            self._run_batch([item])
            return item.outcome()
        with self._mutex:
            self._pending.append(item)
            lead = not self._busy
            self._busy = True
        if not lead:
            item._wake.wait()
            if item.done:
                return item.outcome()
            # Woken without an outcome: the previous leader handed us the lead.
        self._lead()
        return item.outcome()

    def _lead(self) -> None:
        with self._mutex:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
        self._leader = threading.get_ident()
        try:
            self._run_batch(batch)
        except BaseException as exc:  # the batch function's own failure: nobody may be left waiting
            for item in batch:
                if not item.done:
                    item.fail(exc)
        finally:
            self._leader = None
        for item in batch:
            if not item.done:
                item.fail(RuntimeError("the batch gave this request no outcome"))
        with self._mutex:
            successor = self._pending[0] if self._pending else None
            self._busy = successor is not None
        for item in batch[1:]:  # the leader's own item is batch[0]: it is not waiting
            item._wake.set()
        if successor is not None:
            successor._wake.set()
