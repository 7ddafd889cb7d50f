"""Personal data in free text is masked by one function, before it reaches any surface."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from hallq.core.events import DomainEvent
from hallq.core.models import AuditEntry
from hallq_protocol.privacy import mask

RAW = "张三丰 13800138000 110101199003078515 姓名：李四"
SECRETS = ("13800138000", "110101199003078515", "李四")


@pytest.mark.parametrize("text, masked", [
    ("13800138000", "138****8000"),
    ("+86 13912345678", "+86 139****5678"),
    ("110101199003078515", "110101********8515"),
    ("11010119900307851X", "110101********851X"),
    ("姓名：张三丰 请稍候", "姓名：张** 请稍候"),
    ("name: Li Na", "name: L****"),
    ("午休，14:00 回来", "午休，14:00 回来"),  # nothing personal: untouched
    ("A032 号请到 5 号窗口 2026-12-06", "A032 号请到 5 号窗口 2026-12-06"),
    ("1380013800012345", "1380013800012345"),  # 16 digits: neither a mobile nor an ID
])
def test_mask(text, masked):
    assert mask(text) == masked


def test_a_pause_reason_is_masked_on_every_surface(hall, office):
    from support.mqtt import open_window

    seen: list[DomainEvent] = []

    class Listener:
        def publish(self, event):
            seen.append(event)

    hall.subscribe(Listener())
    staff = open_window(hall, 5)
    view = hall.window_action("district", 5, "pause", actor=staff, reason=RAW)

    surfaces = {
        "answer": json.dumps(view, ensure_ascii=False),
        "window": json.dumps(hall.window("district", 5), ensure_ascii=False),
        "events": json.dumps([e.as_dict() for e in seen], ensure_ascii=False, default=str),
    }
    with hall.db.read() as session:
        surfaces["audit"] = json.dumps([a.detail for a in session.exec(select(AuditEntry)).all()], ensure_ascii=False)
    for name, text in surfaces.items():
        assert not any(secret in text for secret in SECRETS), name
    assert view["pause_reason"] == "张三丰 138****8000 110101********8515 姓名：李*"


def test_a_devices_status_detail_is_masked(hall):
    from hallq.core.devices.service import DeviceService
    from hallq.mqtt.bridge import RequestBridge

    devices = DeviceService(hall)
    devices.add(hall="district", name="disp-1", role="dispenser")
    bridge = RequestBridge(hall, devices, send=lambda t, p: None, max_age=60, now=hall.clock.now)
    body = {"id": "s1", "action": "status", "at": hall.clock.now().isoformat(), "detail": {"note": RAW, "temp": 41}}
    answer = bridge.handle("district", "disp-1", json.dumps(body).encode())

    assert answer["status"] == "ok"
    shown = json.dumps([answer, devices.get("district", "disp-1")], ensure_ascii=False)
    assert not any(secret in shown for secret in SECRETS) and "138****8000" in shown and "41" in shown


def test_log_lines_are_masked_whatever_logs_them():
    import io
    import logging

    from hallq_protocol.privacy import mask_logs

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("test-privacy")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        mask_logs(logger)
        mask_logs(logger)  # once is enough: no second filter
        logger.warning("device reported %s", RAW)
        assert len(handler.filters) == 1
        assert not any(secret in out.getvalue() for secret in SECRETS) and "138****8000" in out.getvalue()
    finally:
        logger.removeHandler(handler)
