"""好差评 (issue 14): one rating per service leg from the review box or the phone, a case for every
bad rating with deadlines in working days, and the case's steps. The hall's clock starts on
Thursday 12 February 2026, 10:00 in Shanghai: the Spring Festival holiday runs from Sunday the
15th to Monday the 23rd, with Saturdays the 14th and 28th worked instead (调休)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from hallq.core.clock import FixedClock
from hallq.core.devices.service import DeviceService
from hallq.core.errors import Conflict, Forbidden, Invalid, NotFound
from hallq.core.hallfile import HallFile
from hallq.core.models import AuditEntry
from hallq.core.reviews.service import ReviewService
from hallq.core.stats.models import DayFigure
from support.halls import EXAMPLE, Desk, person

SHANGHAI = timezone(timedelta(hours=8))


def at(month: int, day: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SHANGHAI).astimezone(timezone.utc)


@pytest.fixture
def clock():
    return FixedClock(at(2, 12))


@pytest.fixture
def reviews(hall):
    return ReviewService(hall)


def with_reviews(hall, **settings) -> None:
    """The example hall loaded again with its [reviews] table set."""
    data = copy.deepcopy(EXAMPLE)
    data["reviews"] = settings
    hall.load_hall(HallFile.model_validate(data))


def served(hall, desk: Desk, service: str = "SI") -> dict:
    """A ticket issued, called and completed at the desk's window: the visitor's view of it."""
    ticket = hall.issue_ticket("district", service=service, actor=desk.actor)
    desk("call", ticket=ticket["number"])
    desk("complete")
    return ticket


@pytest.fixture
def desk(hall):
    return Desk.opened(hall, 1, "s1")


@pytest.fixture
def boss(hall):
    return person(hall, "boss", "manager")


def test_a_bad_rating_on_the_phone_opens_a_case_due_in_working_days_across_the_spring_festival(hall, reviews, desk, boss, publisher):
    ticket = served(hall, desk)
    answer = reviews.rate("district", ticket["id"], score=2, reasons=["效率低"], comment="等了很久", indicators={"attitude": 4})
    assert (answer["score"], answer["level"], answer["leg"]) == (2, "不满意", 1)

    listed = reviews.cases("district", viewer=boss)
    assert listed["counts"]["open"] == 1
    case = listed["cases"][0]
    # Thursday the 12th + 5 working days: Fri 13, Sat 14 (调休), then after the holiday Tue 24, Wed 25, Thu 26.
    # Weekday arithmetic would say Thursday the 19th, in the middle of the holiday.
    assert (case["due"], case["callback_due"], case["state"]) == ("2026-02-26", "2026-02-13", "open")
    assert case["review"] | {"rated_at": None} == case["review"] | {
        "number": ticket["number"], "score": 2, "level": "不满意", "channel": "phone", "window": 1, "staff": "s1",
        "reasons": ["效率低"], "comment": "等了很久", "indicators": {"attitude": 4}, "service": "SI", "rated_at": None}
    opened = [e for e in publisher.events if e.kind == "case.opened"]
    assert [(e.data["case"], e.data["due"]) for e in opened] == [(case["id"], "2026-02-26")]
    assert [e.data["channel"] for e in publisher.events if e.kind == "review.recorded"] == ["phone"]


def test_the_regions_seven_days_end_on_a_worked_saturday_and_a_callback_falls_on_the_other(hall, reviews, boss, clock):
    with_reviews(hall, rectify_working_days=7, callback_working_days=1)
    desk = Desk.opened(hall, 1, "s1")
    reviews.rate("district", served(hall, desk)["id"], score=1)  # Thursday the 12th
    clock.set(at(2, 13))  # Friday the 13th: yesterday's sign-ins ended with its day
    desk("open")
    reviews.rate("district", served(hall, desk)["id"], score=2)
    thursday, friday = reversed(reviews.cases("district", viewer=boss)["cases"])
    # Thu 12 + 7 working days: Fri 13, Sat 14 (调休), Tue 24 … Fri 27, Sat 28 (调休).
    assert (thursday["callback_due"], thursday["due"]) == ("2026-02-13", "2026-02-28")
    # Fri 13 + 1 working day: Saturday the 14th is worked.
    assert (friday["callback_due"], friday["due"]) == ("2026-02-14", "2026-03-02")


def test_a_good_rating_opens_no_case(hall, reviews, desk, boss):
    for score in (3, 4, 5):
        reviews.rate("district", served(hall, desk)["id"], score=score)
    assert reviews.cases("district", viewer=boss, filter="all")["cases"] == []


def test_one_rating_per_leg_whichever_channel_came_first(hall, reviews, desk):
    devices = DeviceService(hall)
    devices.add(hall="district", name="review-1", role="review", window=1)
    ticket = served(hall, desk)
    devices.review("district", "review-1", ticket=ticket["id"], score=5)
    with pytest.raises(Conflict) as refused:
        reviews.rate("district", ticket["id"], score=1)
    assert (refused.value.code, refused.value.details["channel"]) == ("already_reviewed", "review_box")

    other = served(hall, desk)
    reviews.rate("district", other["id"], score=4)
    with pytest.raises(Conflict) as refused:
        devices.review("district", "review-1", ticket=other["id"], score=5)
    assert (refused.value.code, refused.value.details["channel"]) == ("already_reviewed", "phone")
    assert devices.last_completed("district", 1)["reviewed"] is True


def test_each_leg_of_a_transferred_ticket_is_rated_apart(hall, reviews, desk):
    second = Desk.opened(hall, 6, "s6")  # window 6 serves HR
    ticket = hall.issue_ticket("district", service="SI", actor=desk.actor)
    desk("call-next")
    desk("transfer", service="HR")
    form = reviews.rating_form("district", ticket["id"])
    assert [(leg["leg"], leg["window"], leg["service"], leg["may_rate"]) for leg in form["legs"]] == [(1, 1, "SI", True)]
    second("call-next")
    second("complete")
    reviews.rate("district", ticket["id"], score=5)  # the last leg served: HR at window 6
    reviews.rate("district", ticket["id"], score=2, leg=1, reasons=["多次跑腿"])
    form = reviews.rating_form("district", ticket["id"])
    assert [(leg["leg"], leg["window"], leg["service"], leg["rated"]["score"], leg["may_rate"]) for leg in form["legs"]] == [
        (1, 1, "SI", 2, False), (2, 6, "HR", 5, False)]
    with pytest.raises(Conflict, match="has been rated"):
        reviews.rate("district", ticket["id"], score=3, leg=2)


@pytest.mark.parametrize("rating, code", [
    ({"score": "5"}, "bad_score"),
    ({"score": True}, "bad_score"),
    ({"score": 6}, "bad_score"),
    ({"score": 5, "reasons": ["效率低"]}, "reasons_for_bad_only"),
    ({"score": 1, "reasons": ["天气不好"]}, "bad_reasons"),
    ({"score": 1, "reasons": "效率低"}, "bad_reasons"),
    ({"score": 1, "comment": "很" * 201}, "comment_too_long"),
    ({"score": 4, "indicators": {"speed": 5}}, "bad_indicators"),
    ({"score": 4, "indicators": {"attitude": 0}}, "bad_score"),
    ({"score": 4, "leg": "1"}, "bad_leg"),
])
def test_a_bad_rating_request_is_refused_and_records_nothing(hall, reviews, desk, boss, rating, code):
    ticket = served(hall, desk)
    with pytest.raises(Invalid) as refused:
        reviews.rate("district", ticket["id"], **rating)
    assert refused.value.code == code
    assert all(leg["rated"] is None for leg in reviews.rating_form("district", ticket["id"])["legs"])


def test_only_a_served_ticket_is_rated_and_only_by_its_tracking_id(hall, reviews, desk):
    waiting = hall.issue_ticket("district", service="SI", actor=desk.actor)
    with pytest.raises(Conflict, match="not served"):
        reviews.rate("district", waiting["id"], score=5)
    with pytest.raises(NotFound):
        reviews.rate("district", waiting["number"], score=5)  # a number is not the visitor's tracking id


def test_the_phone_rates_until_the_hall_s_working_days_have_passed(hall, reviews, desk, clock):
    ticket = served(hall, desk)  # Thursday the 12th; 5 working days after: Thursday the 26th
    assert reviews.rating_form("district", ticket["id"])["open_until"] == "2026-02-26"
    clock.set(at(2, 27))
    assert reviews.rating_form("district", ticket["id"])["legs"][0]["may_rate"] is False
    with pytest.raises(Conflict) as refused:
        reviews.rate("district", ticket["id"], score=5)
    assert refused.value.code == "rating_closed"


def bad_case(hall, reviews, desk, boss) -> int:
    reviews.rate("district", served(hall, desk)["id"], score=1, reasons=["态度不好"])
    return reviews.cases("district", viewer=boss)["cases"][0]["id"]


def test_a_case_goes_from_callback_to_closed_each_step_on_its_timeline_and_in_the_audit(hall, reviews, desk, boss, clock):
    case_id = bad_case(hall, reviews, desk, boss)
    act = lambda action, **p: reviews.case_action("district", case_id, action, actor=boss, **p)  # noqa: E731

    assert act("callback", reached=False, note="无人接听")["state"] == "open"
    with pytest.raises(Conflict) as refused:
        act("rectify", note="too early")
    assert refused.value.code == "case_state"
    clock.advance(hours=2)
    called = act("callback", reached=True, note="已联系群众")
    assert (called["state"], called["called_back_on"]) == ("called_back", "2026-02-12")
    with pytest.raises(Invalid, match="needs a note"):
        act("verify")
    act("verify", note="核实：窗口人员态度生硬")
    clock.set(at(2, 24))
    done = act("rectify", note="约谈工作人员，开展服务礼仪培训")
    assert (done["state"], done["outcome"], done["settled_on"], done["flags"]["on_time"]) == ("rectified", "rectified", "2026-02-24", True)
    with pytest.raises(Invalid):
        act("follow_up", score=6)
    act("follow_up", score=4, note="群众表示满意")
    closed = act("close")
    assert (closed["state"], closed["follow_up_score"], closed["actions"]) == ("closed", 4, [])
    assert [(s["step"], s["actor"], s["note"]) for s in closed["timeline"]] == [
        ("opened", "visitor", ""), ("callback", "boss", "无人接听"), ("callback", "boss", "已联系群众"),
        ("verify", "boss", "核实：窗口人员态度生硬"), ("rectify", "boss", "约谈工作人员，开展服务礼仪培训"),
        ("follow_up", "boss", "群众表示满意"), ("close", "boss", "")]
    with pytest.raises(Conflict):
        act("note", note="after closing")
    with hall.db.read() as session:
        audit = [(a.actor, a.action) for a in session.exec(select(AuditEntry).where(AuditEntry.action.like("case.%")).order_by(AuditEntry.id))]
    assert audit == [("visitor", "case.open"), ("boss", "case.callback"), ("boss", "case.callback"), ("boss", "case.verify"),
                     ("boss", "case.rectify"), ("boss", "case.follow_up"), ("boss", "case.close")]


def test_an_explained_case_and_a_declined_follow_up(hall, reviews, desk, boss):
    case_id = bad_case(hall, reviews, desk, boss)
    for action, params in (("verify", {"note": "visitor not reached twice; records checked"}),
                           ("explain", {"note": "材料要求依法规定，已解释说明"}), ("follow_up", {"declined": True}), ("close", {})):
        view = reviews.case_action("district", case_id, action, actor=boss, **params)
    assert (view["state"], view["outcome"], view["follow_up_score"]) == ("closed", "explained", None)
    with pytest.raises(Invalid):
        reviews.case_action("district", bad_case(hall, reviews, desk, boss), "callback", actor=boss, reached="yes")


def test_the_managers_list_flags_due_soon_overdue_and_a_late_callback(hall, reviews, desk, boss, clock):
    case_id = bad_case(hall, reviews, desk, boss)  # due Thursday the 26th, callback by Friday the 13th
    flags = lambda: reviews.case("district", case_id, viewer=boss)["flags"]  # noqa: E731
    assert flags() == {"callback_late": False, "overdue": False, "due_soon": False, "on_time": None}
    clock.set(at(2, 14))  # Saturday, worked
    assert flags()["callback_late"] is True
    clock.set(at(2, 25))  # one working day left
    assert flags()["due_soon"] is True
    assert [c["id"] for c in reviews.cases("district", viewer=boss, filter="due_soon")["cases"]] == [case_id]
    clock.set(at(2, 27))
    assert flags()["overdue"] is True and flags()["due_soon"] is False
    listed = reviews.cases("district", viewer=boss, filter="overdue")
    assert ([c["id"] for c in listed["cases"]], listed["counts"]["overdue"]) == ([case_id], 1)
    for action, params in (("verify", {"note": "checked"}), ("rectify", {"note": "fixed, late"})):
        view = reviews.case_action("district", case_id, action, actor=boss, **params)
    assert (view["flags"]["overdue"], view["flags"]["on_time"]) == (False, False)


def test_staff_read_their_own_cases_and_only_managers_act(hall, reviews, desk, boss):
    case_id = bad_case(hall, reviews, desk, boss)
    other = person(hall, "s2")
    assert [c["id"] for c in reviews.cases("district", viewer=desk.actor)["cases"]] == [case_id]
    assert reviews.cases("district", viewer=other)["cases"] == []
    with pytest.raises(NotFound):
        reviews.case("district", case_id, viewer=other)
    with pytest.raises(Forbidden):
        reviews.case_action("district", case_id, "callback", actor=desk.actor, reached=True)
    with pytest.raises(Forbidden):
        reviews.cases("district", viewer=person(hall, "kiosk", "device"))
    with pytest.raises(Invalid):
        reviews.cases("district", viewer=boss, filter="everything")


def test_an_approved_appeal_takes_the_rating_out_of_the_rates_and_a_rejected_one_leaves_it(hall, reviews, desk, boss):
    from datetime import date

    from hallq.core.stats.service import StatsService

    admin = person(hall, "province", "admin", slug=None)
    reviews.rate("district", served(hall, desk)["id"], score=5)
    first, second = bad_case(hall, reviews, desk, boss), None
    reviews.rate("district", served(hall, desk)["id"], score=2)
    second = max(c["id"] for c in reviews.cases("district", viewer=boss)["cases"])
    for case_id in (first, second):
        view = reviews.case_action("district", case_id, "appeal", actor=boss, kind="malicious", note="同一人连续恶意差评",
                                   evidence="监控录像 10:05–10:20")
        assert view["appeal"] == {"state": "pending", "kind": "malicious"} and "approve_appeal" not in view["actions"]
    with pytest.raises(Conflict):
        reviews.case_action("district", first, "appeal", actor=boss, kind="mistaken", note="again")
    assert sorted(c["id"] for c in reviews.cases("district", viewer=boss, filter="appealed")["cases"]) == [first, second]
    with pytest.raises(Forbidden) as refused:
        reviews.case_action("district", first, "approve_appeal", actor=boss, note="mine")
    assert refused.value.code == "admin_only"
    assert {"approve_appeal", "reject_appeal"} <= set(reviews.case("district", first, viewer=admin)["actions"])

    approved = reviews.case_action("district", first, "approve_appeal", actor=admin, note="录像证实为恶意评价")
    rejected = reviews.case_action("district", second, "reject_appeal", actor=admin, note="证据不足")
    assert (approved["state"], approved["outcome"], approved["appeal"]["state"], approved["review"]["excluded"]) == (
        "closed", "appealed", "approved", True)
    assert (rejected["state"], rejected["appeal"]["state"], rejected["review"]["excluded"]) == ("open", "rejected", False)
    assert "appeal" not in rejected["actions"]  # one appeal per case
    assert [s["step"] for s in approved["timeline"]][-2:] == ["appeal", "approve_appeal"]
    assert approved["timeline"][-2]["detail"] == {"kind": "malicious", "evidence": "监控录像 10:05–10:20"}

    day = date(2026, 2, 12)
    hall_figures = StatsService(hall).figures("district", day, day)[("hall", 0)]
    assert {k: hall_figures[k] for k in ("reviews", "bad_reviews", "appealed_removed", "bad_cases", "satisfaction_rate")} == {
        "reviews": 2, "bad_reviews": 1, "appealed_removed": 1, "bad_cases": 2, "satisfaction_rate": 0.5}
    assert hall_figures["reviews_by_level"] == {"5": 1, "4": 0, "3": 0, "2": 1, "1": 0}


def test_a_finished_day_counts_its_ratings_and_cases_as_they_come_on_later_days(hall, reviews, desk, boss, clock):
    from datetime import date

    from hallq.core.stats.service import StatsService

    stats, day = StatsService(hall), date(2026, 2, 12)
    bad = served(hall, desk)
    later = served(hall, desk)
    reviews.rate("district", bad["id"], score=1, reasons=["态度不好"])  # Thursday
    clock.set(at(2, 13))  # Friday: Thursday is swept and rolled up
    hall.sweep("district")
    with hall.db.read() as session:
        assert session.exec(select(DayFigure.reviews).where(DayFigure.day == day, DayFigure.dimension == "hall")).one() == 1
    figures = lambda: stats.figures("district", day, day)[("hall", 0)]  # noqa: E731
    assert (figures()["reviews"], figures()["rectified"], figures()["rectification_rate"]) == (1, 0, 0.0)

    reviews.rate("district", later["id"], score=4)  # on the phone, the day after
    assert (figures()["reviews"], figures()["reviews_phone"], figures()["active_rating_rate"]) == (2, 2, 1.0)
    case_id = reviews.cases("district", viewer=boss)["cases"][0]["id"]
    for action, params in (("callback", {"reached": True}), ("verify", {"note": "核实"}), ("rectify", {"note": "整改"}),
                           ("follow_up", {"score": 4}), ("close", {})):
        reviews.case_action("district", case_id, action, actor=boss, **params)
    assert (figures()["rectified"], figures()["rectified_on_time"], figures()["rectification_rate"]) == (1, 1, 1.0)
    staff = [v for (dim, _), v in stats.figures("district", day, day).items() if dim == "staff"]
    assert [(s["bad_reviews"], s["rectified"]) for s in staff] == [(1, 1)]


@pytest.fixture
def vaulted(hall):
    from hallq.core.reviews.contacts import ContactVault, new_key

    return ReviewService(hall, vault=ContactVault(new_key()))


def test_a_contact_is_kept_encrypted_shown_masked_and_revealed_to_the_handler_only(hall, vaulted, desk, boss):
    from hallq.core.reviews.models import ReviewCase

    ticket = served(hall, desk)
    answer = vaulted.rate("district", ticket["id"], score=1, phone="+86 138-0013-1234", consent=True)
    assert answer["contact"] == "138****1234"
    with hall.db.read() as session:
        stored = session.exec(select(ReviewCase)).one()
        sealed, masked, case_id = stored.contact_sealed, stored.contact_masked, stored.id
        audit = " ".join(str(a.detail) for a in session.exec(select(AuditEntry)))
    assert "13800131234" not in sealed and masked == "138****1234"
    assert "13800131234" not in audit
    assert vaulted.case("district", case_id, viewer=boss)["contact"] == {"masked": "138****1234", "erased": False, "may_reveal": True}
    assert "contact" not in vaulted.case("district", case_id, viewer=desk.actor)  # staff: their case, not the visitor's number
    assert "contact" not in vaulted.cases("district", viewer=desk.actor)["cases"][0]

    assert vaulted.reveal_contact("district", case_id, actor=boss)["phone"] == "13800131234"
    other = person(hall, "boss2", "manager")
    assert vaulted.case("district", case_id, viewer=other)["contact"]["may_reveal"] is False
    with pytest.raises(Forbidden) as refused:
        vaulted.reveal_contact("district", case_id, actor=other)
    assert refused.value.code == "not_handler"
    with hall.db.read() as session:
        reveals = [(a.actor, a.detail) for a in session.exec(select(AuditEntry).where(AuditEntry.action == "case.contact_reveal"))]
    assert reveals == [("boss", {"masked": "138****1234"})]


@pytest.mark.parametrize("rating, code", [
    ({"score": 1, "phone": "13800131234"}, "consent_required"),
    ({"score": 1, "phone": "13800131234", "consent": False}, "consent_required"),
    ({"score": 1, "phone": "12345", "consent": True}, "bad_phone"),
    ({"score": 5, "phone": "13800131234", "consent": True}, "contact_for_bad_only"),
])
def test_a_contact_needs_consent_a_mobile_number_and_a_bad_rating(hall, vaulted, desk, boss, rating, code):
    ticket = served(hall, desk)
    with pytest.raises(Invalid) as refused:
        vaulted.rate("district", ticket["id"], **rating)
    assert refused.value.code == code
    assert vaulted.cases("district", viewer=boss, filter="all")["cases"] == []  # the rating went with it: nothing half-kept


def test_a_contact_is_erased_after_its_closed_case_s_retention(hall, vaulted, desk, boss, clock):
    with_reviews(hall, contact_retention_days=30)
    desk("open")
    vaulted.rate("district", served(hall, desk)["id"], score=2, phone="13912345678", consent=True)
    case_id = vaulted.cases("district", viewer=boss)["cases"][0]["id"]
    for action, params in (("verify", {"note": "checked"}), ("explain", {"note": "explained"}), ("follow_up", {"declined": True}),
                           ("close", {})):
        vaulted.case_action("district", case_id, action, actor=boss, **params)
    clock.set(at(3, 13))  # 29 days after: kept
    hall.sweep("district")
    assert vaulted.case("district", case_id, viewer=boss)["contact"]["erased"] is False
    clock.set(at(3, 14))  # 30 days after the 12th: the day's sweep erases it
    hall.sweep("district")
    view = vaulted.case("district", case_id, viewer=boss)
    assert view["contact"] == {"masked": "139****5678", "erased": True, "may_reveal": False}
    with pytest.raises(Conflict) as refused:
        vaulted.reveal_contact("district", case_id, actor=boss)
    assert (refused.value.code, refused.value.details) == ("no_contact", {"erased": True})


def test_a_service_left_unrated_becomes_the_hall_s_default_level_once_its_window_closes(hall, reviews, boss, clock):
    from datetime import date

    from hallq.core.stats.service import StatsService

    with_reviews(hall, unrated_becomes=4, rate_within_working_days=1)
    desk = Desk.opened(hall, 1, "s1")
    rated, unrated = served(hall, desk), served(hall, desk)  # Thursday the 12th
    reviews.rate("district", rated["id"], score=5)
    clock.set(at(2, 13))  # Friday: the phone may still rate (1 working day after)
    hall.sweep("district")
    assert reviews.rating_form("district", unrated["id"])["legs"][0]["rated"] is None
    clock.set(at(2, 14))  # Saturday, worked (调休): the window has closed
    hall.sweep("district")
    leg = reviews.rating_form("district", unrated["id"])["legs"][0]
    assert (leg["rated"], leg["may_rate"]) == ({"score": 4, "level": "满意", "channel": "default"}, False)
    figures = StatsService(hall).figures("district", date(2026, 2, 12), date(2026, 2, 12))[("hall", 0)]
    # Both count in the rates; only the visitor's own is an active rating.
    assert (figures["reviews"], figures["reviews_default"], figures["active_rating_rate"], figures["five_star_rate"]) == (2, 1, 0.5, 0.5)


def test_by_default_a_service_left_unrated_stays_unrated(hall, reviews, desk, clock):
    ticket = served(hall, desk)
    clock.set(at(3, 2))
    hall.sweep("district")
    assert reviews.rating_form("district", ticket["id"])["legs"][0]["rated"] is None


def test_the_daily_digest_lists_what_needs_a_manager_and_the_console_prints_it(hall, reviews, desk, boss, clock, sqlite_url):
    from click.testing import CliRunner

    from hallq.cli import cli
    from hallq.core.figures import case_alerts

    first = bad_case(hall, reviews, desk, boss)  # Thursday the 12th: due Thursday the 26th
    clock.set(at(2, 25))
    desk("open")
    reviews.rate("district", served(hall, desk)["id"], score=2)  # due Wednesday 4 March
    digest = reviews.digest("district", viewer=boss)
    assert digest["counts"] == {"overdue": 0, "due_soon": 1, "callback_late": 1}
    assert [c["id"] for c in digest["due_soon"]] == [first] and "contact" not in digest["due_soon"][0]
    assert case_alerts(digest) == [{"kind": "cases_due_soon", "count": 1}, {"kind": "callbacks_late", "count": 1}]
    clock.set(at(2, 27))
    assert case_alerts(reviews.digest("district", viewer=boss))[0] == {"kind": "cases_overdue", "count": 1}
    with pytest.raises(Forbidden):
        reviews.digest("district", viewer=desk.actor)
    # The console runs on the real clock, long after: both cases are overdue by then.
    result = CliRunner().invoke(cli, ["--database-url", sqlite_url, "cases", "digest", "--hall", "district"])
    assert result.exit_code == 0, result.output
    assert "district " in result.output and ": 2 overdue, 0 due soon, 2 not called back in time" in result.output
    assert f"#{first} " in result.output and "非常不满意 态度不好 · due 2026-02-26" in result.output


def test_two_ratings_of_one_leg_at_the_same_moment_one_is_kept_and_the_other_refused(any_hall):
    import threading

    reviews = ReviewService(any_hall)
    ticket = served(any_hall, Desk.opened(any_hall, 1, "s1"))
    start, outcomes = threading.Barrier(2), []

    def rate(score):
        start.wait()
        try:
            outcomes.append(reviews.rate("district", ticket["id"], score=score)["score"])
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=rate, args=(score,)) for score in (5, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, outcomes))[1] == "already_reviewed" and len(outcomes) == 2
    rated = reviews.rating_form("district", ticket["id"])["legs"][0]["rated"]
    assert rated["score"] in outcomes


def test_free_text_is_masked_wherever_a_case_is_read_and_control_characters_are_refused(hall, reviews, desk, boss):
    ticket = served(hall, desk)
    with pytest.raises(Invalid) as refused:
        reviews.rate("district", ticket["id"], score=1, comment="bell\x07")
    assert refused.value.code == "bad_comment"
    reviews.rate("district", ticket["id"], score=1, comment="请打 13912345678 联系我")
    case_id = reviews.cases("district", viewer=boss)["cases"][0]["id"]
    with pytest.raises(Invalid):
        reviews.case_action("district", case_id, "note", actor=boss, note="nul\x00")
    reviews.case_action("district", case_id, "appeal", actor=boss, kind="mistaken", note="来电 13800138000 说明评错了",
                        evidence="通话记录 13800138000")
    for viewer in (boss, desk.actor):
        case = reviews.case("district", case_id, viewer=viewer)
        text = json.dumps(case, ensure_ascii=False)
        assert "13912345678" not in text and "13800138000" not in text and "139****5678" in text and "138****8000" in text
    digest = json.dumps(reviews.digest("district", viewer=boss), ensure_ascii=False)
    listed = json.dumps(reviews.cases("district", viewer=desk.actor), ensure_ascii=False)
    assert "13912345678" not in digest + listed


def test_a_case_with_an_appeal_awaiting_its_decision_is_not_closed_and_nobody_decides_their_own(hall, reviews, desk):
    admin = person(hall, "province", "admin", slug=None)
    case_id = bad_case(hall, reviews, desk, admin)
    for action, params in (("verify", {"note": "checked"}), ("rectify", {"note": "done"}), ("follow_up", {"score": 3})):
        reviews.case_action("district", case_id, action, actor=admin, **params)
    reviews.case_action("district", case_id, "appeal", actor=admin, kind="malicious", note="恶意")
    with pytest.raises(Conflict) as refused:
        reviews.case_action("district", case_id, "close", actor=admin)
    assert refused.value.code == "appeal_pending"
    with pytest.raises(Forbidden) as refused:
        reviews.case_action("district", case_id, "approve_appeal", actor=admin, note="mine")
    assert refused.value.code == "own_appeal"
    other = person(hall, "city", "admin", slug=None)
    reviews.case_action("district", case_id, "reject_appeal", actor=other, note="证据不足")
    assert reviews.case_action("district", case_id, "close", actor=admin)["state"] == "closed"


def test_due_soon_counts_the_working_days_left_after_today(hall, reviews, desk, boss, clock):
    case_id = bad_case(hall, reviews, desk, boss)  # due Thursday the 26th
    due_soon = lambda: reviews.case("district", case_id, viewer=boss)["flags"]["due_soon"]  # noqa: E731
    clock.set(at(2, 22))  # Sunday, in the holiday: Tue 24, Wed 25, Thu 26 left
    assert due_soon() is False
    clock.set(at(2, 24))  # Tuesday: Wed 25 and Thu 26 left
    assert due_soon() is False
    clock.set(at(2, 25))  # Wednesday: Thursday left
    assert due_soon() is True
    clock.set(at(2, 26))  # the deadline's own day
    assert due_soon() is True


def test_the_active_rating_rate_divides_by_the_legs_served(hall, reviews, desk):
    from datetime import date

    from hallq.core.stats.service import StatsService

    second = Desk.opened(hall, 6, "s6")  # window 6 serves HR
    ticket = hall.issue_ticket("district", service="SI", actor=desk.actor)
    desk("call-next")
    desk("transfer", service="HR")
    second("call-next")
    second("complete")
    reviews.rate("district", ticket["id"], score=5, leg=1)
    reviews.rate("district", ticket["id"], score=4, leg=2)
    figures = StatsService(hall).figures("district", date(2026, 2, 12), date(2026, 2, 12))
    assert (figures[("hall", 0)]["reviews"], figures[("hall", 0)]["cases"], figures[("hall", 0)]["active_rating_rate"]) == (2, 1, 1.0)


def test_the_lists_count_closed_cases_whichever_filter_reads_them(hall, reviews, desk, boss):
    closed = bad_case(hall, reviews, desk, boss)
    for action, params in (("verify", {"note": "checked"}), ("explain", {"note": "explained"}), ("follow_up", {"declined": True}),
                           ("close", {})):
        reviews.case_action("district", closed, action, actor=boss, **params)
    reviews.rate("district", served(hall, desk)["id"], score=2)
    for filter_ in ("open", "closed", "all"):
        listed = reviews.cases("district", viewer=boss, filter=filter_)
        assert (listed["counts"]["open"], listed["counts"]["closed"], listed["counts"]["all"]) == (1, 1, 2), filter_
    assert [c["id"] for c in reviews.cases("district", viewer=boss, filter="closed")["cases"]] == [closed]
    assert len(reviews.cases("district", viewer=boss, filter="all")["cases"]) == 2
    # A manager's own page lists the cases of their own legs only: none here.
    assert reviews.cases("district", viewer=boss, filter="all", mine=True)["cases"] == []
