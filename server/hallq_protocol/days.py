"""What a closed day is called. The refusal `hall_closed_today` carries `date` and `reason`: the
statutory holiday's name as the server's calendar library gives it (chinese_calendar's English
names), `weekend`, or `closure` (the hall's own closed day)."""

from __future__ import annotations

CHINESE = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节", "Labour Day": "劳动节",
           "Dragon Boat Festival": "端午节", "National Day": "国庆节", "Mid-autumn Festival": "中秋节",
           "Anti-Fascist 70th Day": "抗战胜利纪念日", "weekend": "周末", "closure": "闭厅"}
ENGLISH = {"weekend": "a rest day", "closure": "a closure day"}


def closed_day_name(reason: object, *, chinese: bool = True) -> str:
    """The day's name for a visitor: 国庆节, 周末, 闭厅 (休息日 for a name this list lacks); in English the
    holiday's own name, "a rest day" or "a closure day"."""
    reason = str(reason or "")
    if chinese:
        return CHINESE.get(reason, "休息日")
    return ENGLISH.get(reason, reason or "a rest day")
