"""Wait prediction: the forward play of the hall with its own policy, what it
learns as the day goes, and the record of predictions against outcomes."""

from __future__ import annotations

import math
import statistics

import pytest
from sqlmodel import select

from hallq.core.models import Service, Window
from hallq.core.waits.predictor import WaitPredictor, case_minutes
from hallq.sim.prediction import PredictionLog
from hallq.sim.runner import run_one
from hallq.sim.scenario import load_scenario
from support.halls import both_windows_busy_with_mi


def issue(hall, boss, service: str, priority: str = "normal") -> dict:
    return hall.issue_ticket("district", service=service, priority=priority, actor=boss)


def test_case_minutes_are_quantiles_of_the_log_normal():
    sigma2 = math.log(1 + 0.6**2)
    assert case_minutes(10.0, 0.6, 0.5) == pytest.approx(10.0 * math.exp(-sigma2 / 2))  # the median
    assert case_minutes(10.0, 0.6, 0.2) < case_minutes(10.0, 0.6, 0.8)
    # A case already 25 minutes long still has some way to go, and never a negative one.
    assert 0 < case_minutes(10.0, 0.6, 0.5, elapsed=25.0)
    assert case_minutes(10.0, 0.0, 0.5, elapsed=4.0) == pytest.approx(6.0)
    grid = [(i + 0.5) / 4000 for i in range(4000)]
    assert statistics.mean(case_minutes(10.0, 0.6, u) for u in grid) == pytest.approx(10.0, rel=0.01)


def test_it_sees_what_the_simple_estimate_misses(hall, clock, boss):
    """Windows 1 and 2 serve SI and MI. Ten MI visitors have waited 30 minutes
    when an SI ticket is issued: nobody is ahead of it in SI, so the simple
    estimate says 0; but both windows are busy and the older MI tickets come first."""
    both_windows_busy_with_mi(hall, boss, clock)
    si = issue(hall, boss, "SI")
    assert si["estimated_wait_minutes"] == 0
    predictions = WaitPredictor().predict(hall, "district")
    assert predictions[si["number"]] > 10
    mi = sorted(n for n in predictions if n.startswith("B"))
    assert len(mi) == 10 and [predictions[n] for n in mi] == sorted(predictions[n] for n in mi)


def test_green_channel_is_predicted_ahead_of_earlier_tickets(hall, clock, boss):
    hall.window_action("district", 1, "open", actor=boss)
    normal = [issue(hall, boss, "SI")["number"] for _ in range(5)]
    hall.window_action("district", 1, "call-next", actor=boss)
    green = issue(hall, boss, "SI", "green")["number"]
    predictions = WaitPredictor().predict(hall, "district")
    assert predictions[green] < min(predictions[n] for n in normal[1:])


def test_it_learns_how_long_cases_take(hall, clock, boss):
    hall.window_action("district", 1, "open", actor=boss)
    for _ in range(5):
        issue(hall, boss, "SI")
        hall.window_action("district", 1, "call-next", actor=boss)
        clock.advance(minutes=20)  # configured 12 minutes; these take 20
        hall.window_action("district", 1, "complete", actor=boss)
    for _ in range(3):
        issue(hall, boss, "SI")
    predictor = WaitPredictor(prior_cases=5)
    waits = sorted(predictor.predict(hall, "district").values())
    assert waits[0] == 0 and waits[1] > 0 and waits[2] > waits[1]
    with hall.db.read() as session:
        window_id = session.exec(select(Window.id).where(Window.number == 1)).one()
        service_id = session.exec(select(Service.id).where(Service.code == "SI")).one()
    # Five cases of 20 against a prior worth five cases of 12: 16 for SI, 18 at this window.
    assert predictor.handling(window_id, service_id, 12.0) == pytest.approx(18.0)
    assert predictor.handling(999, service_id, 12.0) == pytest.approx(16.0)


def test_a_paused_window_is_expected_back(hall, clock, boss):
    hall.window_action("district", 1, "open", actor=boss)
    hall.window_action("district", 1, "pause", actor=boss, reason="break")
    number = issue(hall, boss, "SI")["number"]
    wait = WaitPredictor(pause_minutes=15).predict_ticket(hall, "district", number)
    assert 10 <= wait <= 16


def test_nobody_serving_means_no_prediction(hall, boss):
    number = issue(hall, boss, "RE")["number"]
    assert WaitPredictor().predict_ticket(hall, "district", number) is None


def test_the_log_sets_predictions_against_outcomes():
    log = PredictionLog()
    log.record("A001", 10.0, simple=4.0)
    log.record("A002", 5.0, simple=5.0)
    log.settle("A001", 12.0)
    log.settle("A002", 5.0)
    log.settle("A404", 3.0)  # never predicted: ignored
    summary = log.summary()
    assert summary["count"] == 2
    assert summary["mae"] == pytest.approx(1.0) and summary["bias"] == pytest.approx(-1.0)
    assert summary["simple_mae"] == pytest.approx(4.0)


def test_on_a_simulated_town_day_it_beats_the_simple_estimate():
    day = run_one(load_scenario("town"), "hallq", day=0, seed=11)
    predicted = statistics.mean(abs(p - w) for p, _, w in day.predictions)
    simple = statistics.mean(abs(s - w) for _, s, w in day.predictions)
    assert len(day.predictions) > 50 and predicted < simple
