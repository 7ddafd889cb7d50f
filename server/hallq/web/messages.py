"""Plain-language, translated texts for the hall engine's error codes, and the
strings the pages' JavaScript shows (handed to it translated, as JSON)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ERRORS = {
    "queue_empty": _l("Nobody is waiting for the services of this window."),
    "ticket_taken": _l("That ticket was just called by another window."),
    "ticket_not_waiting": _l("That ticket is no longer waiting."),
    "window_taken": _l("This window is already open by someone else."),
    "already_at_window": _l("You are already signed in at another window. Close it first."),
    "window_closed": _l("The window is closed. Open it first."),
    "window_paused": _l("The window is paused. Resume it first."),
    "window_busy": _l("The window still has a ticket. Complete, skip or transfer it first."),
    "window_idle": _l("The window has no ticket."),
    "no_current_ticket": _l("The window has no ticket."),
    "bad_ticket_state": _l("The ticket has already been started or finished."),
    "no_services": _l("This window serves no service. Ask the hall manager."),
    "not_your_window": _l("You are not signed in at this window."),
    "reason_required": _l("A pause needs a reason."),
    "same_service": _l("The ticket is already in that service."),
    "ticket_mismatch": _l("That row no longer shows this ticket. Nothing was moved; look at the list again."),
    "unknown_service": _l("There is no such service."),
    "unknown_ticket": _l("There is no such ticket."),
    "service_closed": _l("This service is not issuing tickets now."),
    "hall_closed_today": _l("The hall is closed today and issues no tickets."),
    "service_inactive": _l("This service is not offered in this hall."),
    "quota_reached": _l("Today's tickets for this service are all taken."),
    "busy": _l("The queue is changing quickly. Try again."),
    "manager_only": _l("Only a hall manager may do this."),
    "login_required": _l("Please sign in again."),
    "csrf_failed": _l("The page is out of date. Reload it and try again."),
    "stale_suggestion": _l("The hall has changed since this suggestion was made. Look at the new suggestions."),
    "not_qualified": _l("The staff member at that window is not qualified for this service."),
    "device_exists": _l("A device with this name already exists."),
    "unknown_printer": _l("There is no such ticket dispenser in this hall: check the kiosk's printer setting."),
    "not_a_dispenser": _l("That device is not a ticket dispenser, so it has no printer."),
    "network": _l("The server cannot be reached. Check the network and try again."),
    "already_reviewed": _l("This service has already been rated. Each service is rated once."),
    "rating_closed": _l("The time to rate this service has passed."),
    "not_served": _l("This service has not been completed yet, so it cannot be rated."),
    "bad_reasons": _l("Choose the reasons from the list."),
    "reasons_for_bad_only": _l("Reasons are given only with a dissatisfied rating."),
    "comment_too_long": _l("The comment is too long (200 characters at most)."),
    "case_state": _l("This step does not follow the case's current step. Reload the page."),
    "note_required": _l("Write what was done or found."),
    "unknown_case": _l("There is no such case."),
    "score_or_declined": _l("Give the visitor's score, or say they declined, not both."),
    "admin_only": _l("Only an administrator decides an appeal."),
    "no_appeal": _l("This case has no appeal awaiting a decision."),
    "consent_required": _l("Tick the consent line to leave your number, or leave the number empty."),
    "bad_phone": _l("Enter a mobile number of 11 digits."),
    "contact_for_bad_only": _l("A number is left only with a dissatisfied rating, for the callback."),
    "not_handler": _l("Only the manager handling this case sees the visitor's number."),
    "no_contact": _l("There is no number for this case (none was left, or it has been erased)."),
    "appeal_pending": _l("The case has an appeal awaiting its decision: close it after that."),
    "own_appeal": _l("An appeal is decided by someone other than who filed it."),
    "bad_comment": _l("The comment has characters that cannot be kept."),
}


def error_text(code: str, fallback: str = "") -> str:
    """The translated text for an error code, or the engine's own message."""
    text = ERRORS.get(code)
    return str(text) if text is not None else (fallback or code)


def _closed_day_names() -> dict:
    from flask_babel import get_locale

    from hallq_protocol.days import CHINESE, closed_day_name

    from .i18n import html_lang

    chinese = html_lang(get_locale()) != "en"
    return {reason: closed_day_name(reason, chinese=chinese) for reason in (*CHINESE, "")}


def page_strings() -> dict:
    """Texts the JavaScript of the signed-in pages needs, in the page's language."""
    return {
        "errors": {code: str(text) for code, text in ERRORS.items()},
        "state": {
            "idle": _("Idle"),
            "serving": _("Serving"),
            "paused": _("Paused"),
            "closed": _("Closed"),
            "offline": _("Device offline"),
        },
        "ticket_status": {
            "waiting": _("Waiting"),
            "called": _("Called"),
            "serving": _("Being served"),
            "done": _("Done"),
            "no_show": _("Missed"),
            "expired": _("Expired"),
            "cancelled": _("Cancelled"),
        },
        "trend": {"rising": _("rising"), "falling": _("falling"), "steady": _("steady")},
        "priority": {"normal": _("Normal"), "appointment": _("Appointment"), "green": _("Green channel")},
        "minutes": _("%(n)s min"),
        "none": _("—"),
        "offline": _("Connection lost. Reconnecting…"),
        "online": _("Connected"),
        "pause_prompt": _("Why is the window pausing?"),
        "pause_reasons": [_("Break"), _("Meeting"), _("Back-office work"), _("System fault")],
        "confirm_close": _("Close this window?"),
        "saved": _("Saved"),
        "moved": _("Ticket %(number)s moved to %(service)s"),
        "alert_wait": _("%(service)s: the oldest ticket has waited %(minutes)s min (limit %(limit)s)"),
        "alert_idle": _("Window %(window)s is idle while %(service)s has %(waiting)s waiting"),
        "alert_device": _("Device %(device)s is offline"),
        "alert_paper": _("Printer of %(device)s is out of paper"),
        "no_alerts": _("No alerts"),
        "alert_cases_overdue": _("%(n)s bad-rating case(s) past their deadline"),
        "alert_cases_due_soon": _("%(n)s bad-rating case(s) due soon"),
        "alert_callbacks_late": _("%(n)s visitor(s) not called back in time"),
        "no_suggestions": _("No suggestions now"),
        "suggestions_unavailable": _("The balancer is not installed on this server yet."),
        "apply": _("Apply"),
        "called_to": _("Ticket %(number)s to window %(window)s"),
        "reviews_text": _("%(count)s · mean %(mean)s of 5 · %(bad)s bad"),
        "labels": {"open": _("Open"), "close": _("Close"), "move": _("Move"), "window": _("Window %(number)s")},
        "kiosk": {
            "waiting": _("%(n)s waiting"),
            "ahead": _("%(ahead)s people ahead of you · about %(minutes)s min"),
            "hours_today": _("Tickets for it today: %(hours)s."),
            "no_hours_today": _("No tickets for it today."),
            # A closed day's refusal names the day: the holiday, a rest day, the hall's own closure.
            "closed_today": _("Today (%(date)s): %(day)s."),
            "day_names": _closed_day_names(),  # and "" for a reason the list lacks (休息日, a rest day)
            "print": {
                "printed": _("Please take your printed ticket."),
                "none": _("Please remember your number or scan the code."),
                "unavailable": _("Please remember your number or scan the code."),
                "paper_out": _("The printer is out of paper. Please wait with the number or QR code on this screen."),
                "offline": _("The printer is offline. Please wait with the number or QR code on this screen."),
                "error": _("The ticket could not be printed. Please wait with the number or QR code on this screen."),
                "no_answer": _("The ticket could not be printed. Please wait with the number or QR code on this screen."),
                "stale": _("The ticket could not be printed. Please wait with the number or QR code on this screen."),
            },
        },
        "tracker": {
            "waiting": _("Waiting"),
            "called": _("Called: please go to window %(window)s"),
            "serving": _("Being served at window %(window)s"),
            "done": _("Finished. Thank you for your visit."),
            "no_show": _("Missed: your ticket was called but you did not come."),
            "expired": _("This ticket has expired."),
            "cancelled": _("This ticket was cancelled."),
            "alerts_on": _("Sound alerts are on"),
        },
        "rating": rating_strings(),
    }


def case_strings() -> dict:
    """Texts of the managers' case pages (差评整改)."""
    return {
        "state": {"open": _("Awaiting callback"), "called_back": _("Called back"), "verified": _("Verified"), "rectified": _("Rectified"),
                  "explained": _("Explained"), "followed_up": _("Followed up"), "closed": _("Case closed")},
        "filter": {"open": _("Not closed"), "due_soon": _("Due soon"), "overdue": _("Overdue"),
                   "callback_late": _("Callback late"), "appealed": _("Appealed"),
                   "closed": _("Case closed"), "all": _("All")},
        "appeal": {"pending": _("Appeal pending"), "approved": _("Appeal approved: removed from the rates"),
                   "rejected": _("Appeal rejected")},
        "appeal_kind": {"malicious": _("Malicious rating"), "mistaken": _("Mistaken rating")},
        "flag": {"callback_late": _("Callback late"), "overdue": _("Overdue"), "due_soon": _("Due soon"),
                 "late": _("Settled late"), "on_time": _("On time")},
        "step": {"opened": _("Opened by the rating"), "callback": _("Callback"), "verify": _("Verification"),
                 "rectify": _("Rectified"), "explain": _("Explained"), "follow_up": _("Follow-up rating"),
                 "close": _("Closed"), "note": _("Note"), "appeal": _("Appeal filed"),
                 "approve_appeal": _("Appeal approved"), "reject_appeal": _("Appeal rejected")},
        "action": {"callback": _("Record callback"), "verify": _("Record verification"), "rectify": _("Record rectification"),
                   "explain": _("Record explanation"), "follow_up": _("Record follow-up"), "close": _("Close case"),
                   "note": _("Add note"), "appeal": _("Appeal the rating"), "approve_appeal": _("Approve the appeal"),
                   "reject_appeal": _("Reject the appeal")},
        "channel": {"review_box": _("Review box"), "phone": _("Phone"), "default": _("Default (unrated)")},
        "reveal": _("Show the number"), "erased": _("erased"),
        "actors": {"visitor": _("the visitor"), "system": _("the system"), "device": _("the review box")},
        "reached": _("Visitor reached"), "not_reached": _("Not reached"), "declined": _("Visitor declined to rate"),
        "no_cases": _("No cases here."), "new_case": _("New bad rating: ticket %(number)s"),
    }


def rating_strings() -> dict:
    """Texts of the tracker's rating form (好差评)."""
    return {
        "title": _("How was the service?"),
        "leg": _("%(service)s at window %(window)s"),
        "levels": {"5": _("Very satisfied"), "4": _("Satisfied"), "3": _("Basically satisfied"), "2": _("Dissatisfied"),
                   "1": _("Very dissatisfied")},
        "indicators": {"efficiency": _("Efficiency"), "attitude": _("Attitude"), "professionalism": _("Professionalism"),
                       "guidance": _("Guidance")},
        "indicators_hint": _("Optional: score each aspect"),
        "reasons": _("What went wrong? (choose any)"),
        "comment": _("Anything to add? (optional, 200 characters at most)"),
        "submit": _("Submit rating"),
        "thanks": _("Thank you. Your rating was recorded."),
        "rated": _("Rated: %(level)s"),
        "bad_followup": _("We are sorry. The hall will look into it and may call you back."),
        "closed": _("The time to rate this service has passed."),
        "phone_title": _("May we call you back? (optional)"),
        "phone": _("Mobile number"),
        "consent": _("I agree that the hall keeps this number to call me back about this rating. It is stored encrypted, "
                     "shown only to the manager handling it, and erased after the case is closed."),
        "consent_needed": _("Tick the consent line to leave your number, or leave the number empty."),
    }


def stats_strings() -> dict:
    """Texts of the statistics page's script (统计), in the page's language."""
    tiles = {
        "tickets": _("Tickets"), "cases": _("Cases"), "cases_per_working_day": _("Cases per working day"),
        "wait_mean": _("Mean wait"), "wait_median": _("Median wait"), "wait_p90": _("Wait p90"),
        "handling_mean": _("Mean handling"), "handling_p90": _("Handling p90"), "no_show_rate": _("No-show rate"),
        "walked_away_rate": _("Walk-away rate"), "transfer_rate": _("Transfer rate"),
        "wait_promise_error": _("Wait promise error"), "wait_simple_error": _("Simple estimate's error"),
        "active_rating_rate": _("Active rating rate"), "five_star_rate": _("Five-star rate"),
        "satisfaction_rate": _("Satisfaction rate"), "bad_reviews": _("Bad reviews"),
        "reviews": _("Ratings"), "reviews_phone": _("Rated on the phone"), "appealed_removed": _("Removed by appeal"),
        "rectification_rate": _("Rectification rate"), "on_time_rectification_rate": _("Rectified on time"),
    }
    return {
        "tiles": tiles,
        "tile_order": list(tiles),  # the page's JSON sorts a dict's keys: the tiles' order rides apart
        "period": _("%(since)s to %(until)s: %(days)s working days"),
        "live": _("(this month: today's figures are still moving)"),
        "tickets": _("Tickets"), "cases": _("Cases"), "wait": _("Mean wait (min)"), "hour": _("Hour"),
    }
