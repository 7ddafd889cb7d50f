"""Tickets on an ESC/POS thermal printer (python-escpos), and the printer
itself chosen by config: usb, serial, network, file or dummy.

Chinese text goes out as GB18030 in the printer's Chinese mode (FS &), which
the common hall printers understand; python-escpos's own code pages have no
Chinese.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from hallq_protocol.days import closed_day_name

from .clock import parse_moment

CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .


def make_printer(conf: dict):
    """A python-escpos printer from the [printer] section of a device's config."""
    from escpos import printer

    kind = conf.get("kind", "dummy")
    if kind == "usb":
        return printer.Usb(int(str(conf["vendor"]), 0), int(str(conf["product"]), 0), profile=conf.get("profile"))
    if kind == "serial":
        return printer.Serial(conf["device"], baudrate=int(conf.get("baudrate", 9600)), profile=conf.get("profile"))
    if kind == "network":
        return printer.Network(conf["host"], port=int(conf.get("port", 9100)), profile=conf.get("profile"))
    if kind == "file":
        return printer.File(conf["path"], profile=conf.get("profile"))
    if kind == "dummy":
        return printer.Dummy()
    raise ValueError(f"printer kind is usb, serial, network, file or dummy, not {kind!r}")


def refusal_notice(error: dict, service_name: str) -> list[str]:
    """What a dispenser prints when the server refuses a ticket for good (no number on it): why,
    in Chinese, from the refusal's code and details."""
    code, details = error.get("code"), error.get("details") or {}
    if code == "hall_closed_today":
        return [f"今日（{details.get('date', '')}）{closed_day_name(details.get('reason'))}", "大厅休息，不办理取号", "请于工作日前来"]
    if code == "service_closed":
        hours = [str(h) for h in details.get("hours") or []]
        if not hours:
            return [service_name, "今日不办理本业务"]
        return [service_name, "现在不是取号时间", "今日取号时间：" + "、".join(hours)]
    if code == "quota_reached":
        return [service_name, "今日号源已取完", "请改日再来"]
    return [service_name, "本业务暂停办理", "请咨询导办台"]


class TicketPrinter:
    """Lays out a ticket and sends it to one printer; knows whether paper is left."""

    def __init__(self, printer, *, paper_sensor=None, encoding: str = "gb18030", query_status: bool = False):
        self.printer = printer
        self.paper_sensor = paper_sensor  # a gpiozero input that is active when the paper is out
        self.encoding = encoding
        self.query_status = query_status  # ask the printer itself (USB/serial printers that answer)

    def paper(self) -> str:
        """ok, low or out."""
        if self.paper_sensor is not None and self.paper_sensor.is_active:
            return "out"
        if self.query_status:
            try:
                status = self.printer.paper_status()
            except Exception:
                return "ok"  # a printer that cannot answer is not known to be empty
            return {0: "out", 1: "low"}.get(status, "ok")
        return "ok"

    def _zh(self, text: str) -> None:
        self.printer._raw(CHINESE_ON + text.encode(self.encoding, "replace") + CHINESE_OFF)

    def print_notice(self, lines: list[str], *, hall_name: str, moment=None, tz: str = "Asia/Shanghai") -> None:
        """A short slip without a number: the hall, the lines, the time."""
        p = self.printer
        p.set(align="center", normal_textsize=True)
        self._zh(hall_name + "\n")
        p.set(align="center", normal_textsize=True, bold=True)
        for line in lines:
            self._zh(line + "\n")
        p.set(align="center", normal_textsize=True)
        if moment is not None:
            p.text(moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") + "\n")
        p.cut()

    def print_ticket(self, ticket: dict, *, hall_name: str, tz: str = "Asia/Shanghai", tracker_url: str = "",
                     offline: bool = False, waiting: int | None = None) -> None:
        """The hall, the number in large type, the service, people ahead, estimated wait, time and a QR code."""
        p = self.printer
        moment = parse_moment(ticket.get("issued_at"))  # every ticket carries it; without one no time is printed
        p.set(align="center", normal_textsize=True)
        self._zh(hall_name + "\n")
        p.set(align="center", custom_size=True, width=4, height=4, bold=True)
        p.text(ticket["number"] + "\n")
        p.set(align="center", normal_textsize=True)
        self._zh(ticket.get("service_name") or ticket.get("service", ""))
        p.text("\n")
        ahead = ticket.get("ahead")
        if ahead is None and offline:
            ahead = waiting
        if ahead is not None:
            self._zh(f"前面还有 {ahead} 人\n")
        wait = ticket.get("estimated_wait_minutes")
        if wait is not None:
            self._zh(f"预计等候约 {round(wait)} 分钟\n")
        if offline:
            self._zh("网络中断时取号，请留意叫号屏\n")
        if moment is not None:
            p.text(moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") + "\n")
        if offline:
            # The server has not seen this ticket yet, so there is no tracker page to point at: say why.
            self._zh("离线取号，暂无二维码\n")
            p.text("Offline: no QR code\n")
        elif tracker_url and ticket.get("id"):
            p.set(align="center")
            p.qr(tracker_url.replace("{ticket}", ticket["id"]), size=5)
            self._zh("扫码查看排队进度\n")
        p.cut()
