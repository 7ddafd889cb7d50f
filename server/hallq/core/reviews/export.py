"""The month's ratings, one row per rating, for the provincial 好差评 platform (docs/reviews.md
names each field; they follow GB/T 39735-2020 as far as it is public). Free text is masked by the
one shared function; the visitor's contact is never exported."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from hallq.core import clock
from hallq.core.models import Hall, Service, Ticket, User, Window
from hallq.core.reviews.models import Review, ReviewCase
from hallq.core.reviews.ratings import LEVELS
from hallq_protocol.privacy import mask

# (key, header): the platform's columns, in order.
FIELDS = [
    ("rating_id", "评价编号"), ("hall_code", "服务大厅编码"), ("hall_name", "服务大厅"), ("service_code", "事项编码"),
    ("service_name", "事项名称"), ("window", "窗口号"), ("staff_no", "工作人员工号"), ("staff_name", "工作人员"),
    ("service_day", "办件日期"), ("ticket", "号票"), ("channel", "评价渠道"), ("rated_at", "评价时间"), ("score", "评价等级"),
    ("level", "评价等级名称"), ("efficiency", "办事效率"), ("attitude", "服务态度"), ("professionalism", "业务水平"),
    ("guidance", "告知指引"), ("reasons", "差评原因"), ("comment", "评价内容"), ("case_id", "整改工单号"), ("case_state", "整改状态"),
    ("case_outcome", "整改结果"), ("callback_due", "回访期限"), ("called_back_on", "回访日期"), ("due", "整改期限"),
    ("settled_on", "整改日期"), ("on_time", "按期整改"), ("follow_up_score", "回访复评"), ("closed_on", "办结日期"),
    ("appeal", "申诉结果"), ("counted", "计入统计"),
]
CHANNELS = {"review_box": "窗口评价器", "phone": "手机扫码", "default": "默认评价"}
STATES = {"open": "待回访", "called_back": "已回访", "verified": "已核实", "rectified": "已整改", "explained": "已解释说明",
          "followed_up": "已复评", "closed": "已办结"}
OUTCOMES = {"rectified": "整改", "explained": "解释说明", "appealed": "申诉剔除"}
APPEALS = {"pending": "申诉中", "approved": "申诉通过", "rejected": "申诉驳回"}


def rows(session, hall: Hall, since: date, until: date, *, staff: int | None = None) -> list[dict]:
    """Every rating of the tickets issued in [since, until] (with `staff`: of that staff member's
    legs only), oldest first."""
    query = (select(Review, Ticket, ReviewCase).join(Ticket, Ticket.id == Review.ticket_id)
             .outerjoin(ReviewCase, ReviewCase.review_id == Review.id)
             .where(Review.hall_id == hall.id, Ticket.business_date >= since, Ticket.business_date <= until))
    if staff is not None:
        query = query.where(Review.staff_id == staff)
    found = session.exec(query.order_by(Review.at, Review.id)).all()
    services = {s.id: s for s in session.exec(select(Service).where(Service.hall_id == hall.id))}
    windows = {w.id: w for w in session.exec(select(Window).where(Window.hall_id == hall.id))}
    staff_ids = {r.staff_id for r, _, _ in found if r.staff_id is not None}
    staff = {u.id: u for u in session.exec(select(User).where(User.id.in_(staff_ids)))} if staff_ids else {}
    out = []
    for review, ticket, case in found:
        service = services.get(review.service_id or ticket.service_id)
        person = staff.get(review.staff_id)
        window = windows.get(review.window_id)

        def day(d):
            return d.isoformat() if d else ""

        out.append({
            "rating_id": review.id, "hall_code": hall.code, "hall_name": hall.name,
            "service_code": service.code if service else "", "service_name": service.name if service else "",
            "window": window.number if window else "", "staff_no": person.staff_no if person else "",
            "staff_name": (person.display_name or person.name) if person else "",
            "service_day": ticket.business_date.isoformat(), "ticket": ticket.number,
            "channel": CHANNELS.get(review.channel, review.channel),
            "rated_at": clock.to_local(review.at, hall.timezone).strftime("%Y-%m-%d %H:%M:%S"),
            "score": review.score, "level": LEVELS[review.score],
            **{k: review.indicators.get(k, "") for k in ("efficiency", "attitude", "professionalism", "guidance")},
            "reasons": "、".join(review.reasons), "comment": mask(review.comment),
            "case_id": case.id if case else "", "case_state": STATES.get(case.state, case.state) if case else "",
            "case_outcome": OUTCOMES.get(case.outcome, "") if case else "",
            "callback_due": day(case.callback_due) if case else "", "called_back_on": day(case.called_back_on) if case else "",
            "due": day(case.due) if case else "", "settled_on": day(case.settled_on) if case else "",
            "on_time": ("是" if case.settled_on <= case.due else "否") if case and case.settled_on else "",
            "follow_up_score": case.follow_up_score if case and case.follow_up_score else "",
            "closed_on": clock.business_date(case.closed_at, hall.timezone).isoformat() if case and case.closed_at else "",
            "appeal": APPEALS.get(case.appeal_state, "") if case else "",
            "counted": "否" if review.excluded else "是",
            "channel_key": review.channel,  # for pages that name it in their own language (not a platform field)
        })
    return out
