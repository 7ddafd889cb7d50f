"""Erlang C and the fluid bound against values known by hand or from tables."""

from __future__ import annotations

import math

import pytest

from hallq.sim.queueing import erlang_b, erlang_c, erlang_c_wait, fluid_mean_wait


def test_erlang_b_matches_the_table():
    # Erlang B tables: 10 servers offered 8 erlangs block 12.17%; 5 servers, 2 erlangs: 3.67%.
    assert erlang_b(10, 8.0) == pytest.approx(0.12166, abs=5e-5)
    assert erlang_b(5, 2.0) == pytest.approx(0.03670, abs=5e-5)


def test_erlang_c_known_values():
    assert erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = ρ
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)  # M/M/2 at ρ = 0.5
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=5e-4)  # from the B table value above
    assert erlang_c(10, 10.0) == 1.0 and erlang_c(10, 0.0) == 0.0


def test_erlang_c_wait_is_the_mm1_formula_for_one_window():
    # λ = 0.08/min, mean handling 10 min: Wq = ρ / (μ − λ) = 0.8 / 0.02 = 40 min.
    assert erlang_c_wait(1, 0.08, 10.0) == pytest.approx(40.0)
    assert math.isinf(erlang_c_wait(3, 0.5, 10.0))


def test_fluid_bound_of_an_hour_of_overload():
    # 2 arrivals a minute for an hour into 10 windows of 10 minutes (1 a minute):
    # the queue climbs to 60 and drains in another hour; waiting area 3,600
    # person-minutes over 120 people = 30 minutes on average.
    rates = [(0.0, 60.0, {"S": 2.0}), (60.0, 300.0, {"S": 0.0})]
    wait = fluid_mean_wait(rates, {"S": 10.0}, lambda m: 10, closing=300.0)
    assert wait == pytest.approx(30.0, rel=0.01)
    assert fluid_mean_wait(rates, {"S": 10.0}, lambda m: 10, closing=300.0, order="fcfs") == pytest.approx(30.0, rel=0.01)


def test_fluid_bound_is_zero_when_the_windows_keep_up():
    rates = [(0.0, 480.0, {"S": 0.5})]
    assert fluid_mean_wait(rates, {"S": 10.0}, lambda m: 10, closing=480.0) == 0.0


def test_shortest_first_keeps_fewer_waiting_than_fcfs():
    rates = [(0.0, 60.0, {"short": 1.0, "long": 1.0}), (60.0, 400.0, {"short": 0.0, "long": 0.0})]
    handling = {"short": 5.0, "long": 25.0}
    lowest = fluid_mean_wait(rates, handling, lambda m: 20, closing=400.0)
    fcfs = fluid_mean_wait(rates, handling, lambda m: 20, closing=400.0, order="fcfs")
    assert 0 < lowest < fcfs


def test_closing_cuts_the_wait_of_those_still_waiting():
    rates = [(0.0, 60.0, {"S": 2.0})]
    # The hall closes at 60: the queue (growing to 60) is let go then.
    assert fluid_mean_wait(rates, {"S": 10.0}, lambda m: 10, closing=60.0) == pytest.approx(15.0, rel=0.02)
