"""Group commit: requests from many threads run in shared batches, each caller gets its own outcome."""

from __future__ import annotations

import threading
import time

import pytest

from hallq.core.tickets.group_commit import GroupCommit


class Recorder:
    """A batch function that answers each request with request × 10 and remembers its batches.

    `hold` keeps the first batch running until released, so that the callers
    arriving meanwhile are known to be waiting for the next one."""

    def __init__(self, hold: bool = False, fail=lambda batch: None):
        self.batches: list[list] = []
        self.threads: list[int] = []
        self.started = threading.Event()
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.fail = fail

    def __call__(self, items) -> None:
        self.batches.append([item.request for item in items])
        self.threads.append(threading.get_ident())
        self.started.set()
        self.release.wait(10)
        self.fail([item.request for item in items])
        for item in items:
            if isinstance(item.request, str) and item.request.startswith("bad"):
                item.fail(ValueError(item.request))
            else:
                item.succeed(item.request * 10)


def behind_a_held_batch(commit: GroupCommit, recorder: Recorder, first, requests) -> tuple[dict, dict]:
    """Submit `first`, whose batch the recorder holds; then `requests` from threads of their own,
    which queue behind it; release, and return each request's result and error."""
    results, errors = {}, {}

    def call(r):
        try:
            results[r] = commit.submit(r)
        except Exception as exc:
            errors[r] = exc

    leader = threading.Thread(target=call, args=(first,))
    leader.start()
    recorder.started.wait(10)
    threads = [threading.Thread(target=call, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(commit._pending) < len(requests):
        assert time.monotonic() < deadline, "the callers never queued"
        time.sleep(0.005)
    recorder.release.set()
    for t in [leader, *threads]:
        t.join(10)
    return results, errors


def test_a_lone_caller_runs_at_once_in_its_own_thread():
    recorder = Recorder()
    commit = GroupCommit(recorder)
    assert commit.submit(4) == 40
    assert commit.submit(5) == 50
    assert recorder.batches == [[4], [5]]
    assert recorder.threads == [threading.get_ident()] * 2


def test_callers_arriving_during_a_batch_share_the_next_one():
    recorder = Recorder(hold=True)
    commit = GroupCommit(recorder)
    results, errors = behind_a_held_batch(commit, recorder, 0, range(1, 9))
    assert recorder.batches[0] == [0]
    assert sorted(recorder.batches[1]) == list(range(1, 9))
    assert len(recorder.batches) == 2
    assert results == {r: r * 10 for r in range(9)} and not errors


def test_batches_are_no_larger_than_max_batch_and_every_caller_is_answered():
    recorder = Recorder(hold=True)
    commit = GroupCommit(recorder, max_batch=3)
    results, errors = behind_a_held_batch(commit, recorder, 0, range(1, 8))
    assert [len(b) for b in recorder.batches] == [1, 3, 3, 1]
    assert results == {r: r * 10 for r in range(8)} and not errors
    assert not commit._busy and not commit._pending  # the next caller leads again


def test_one_requests_refusal_is_its_own():
    recorder = Recorder(hold=True)
    commit = GroupCommit(recorder)
    results, errors = behind_a_held_batch(commit, recorder, "a", ["b", "bad-1", "c", "bad-2"])
    assert results == {"a": "a" * 10, "b": "b" * 10, "c": "c" * 10}
    assert {k: str(v) for k, v in errors.items()} == {"bad-1": "bad-1", "bad-2": "bad-2"}


def test_a_batch_that_fails_as_a_whole_fails_its_callers_only():
    def fail(batch):
        if "poison" in batch:
            raise RuntimeError("the database went away")

    recorder = Recorder(hold=True, fail=fail)
    commit = GroupCommit(recorder)
    results, errors = behind_a_held_batch(commit, recorder, "x", ["y", "poison"])
    assert results == {"x": "x" * 10}
    assert set(errors) == {"y", "poison"} and all(isinstance(e, RuntimeError) for e in errors.values())
    assert commit.submit("z") == "z" * 10  # the next caller is not stuck behind the failure


def test_a_caller_is_never_left_without_an_outcome():
    commit = GroupCommit(lambda items: None)  # forgets to answer
    with pytest.raises(RuntimeError, match="no outcome"):
        commit.submit(1)


def test_a_request_made_from_inside_a_batch_runs_on_its_own():
    """A listener that issues a ticket while its batch runs would otherwise wait for itself."""
    commit = None
    seen = []

    def run(items):
        seen.append([item.request for item in items])
        for item in items:
            if item.request == "outer":
                item.succeed(commit.submit("inner"))
            else:
                item.succeed(item.request.upper())

    commit = GroupCommit(run)
    assert commit.submit("outer") == "INNER"
    assert seen == [["outer"], ["inner"]]
    assert commit.submit("next") == "NEXT"
