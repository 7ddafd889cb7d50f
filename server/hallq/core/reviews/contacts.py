"""A visitor's phone number, left for the callback of a bad rating (回访), with their consent.

It is kept encrypted (Fernet: AES-128-CBC with an HMAC, from `cryptography`) under a key that
lives in the server's settings or instance folder, never in the database or the source. Beside
it the case keeps the masked form (138****1234) that every page shows. The number itself is
decrypted only for the manager handling the case, each time audited; it never rides an event,
an MQTT message or a log line, and it is erased a configured number of days after the case closes.
"""

from __future__ import annotations

import re
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import select

from hallq.core import clock
from hallq.core.errors import Conflict, Invalid
from hallq.core.reviews.models import ReviewCase
from hallq.core.reviews.settings import of_hall as settings_of
from hallq.core.txn import Txn
from hallq_protocol.privacy import mask

_MOBILE = re.compile(r"1[3-9]\d{9}")


def new_key() -> str:
    """A fresh key, as settings keep it."""
    return Fernet.generate_key().decode()


class ContactVault:
    """Encrypts and decrypts contacts with one key (settings: contact_key)."""

    def __init__(self, key: str | bytes):
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise ValueError("the contact key must be 32 url-safe base64-encoded bytes (hallq.core.reviews.contacts.new_key)") from None

    def seal(self, phone: str) -> str:
        return self._fernet.encrypt(phone.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise Conflict("contact_unreadable", "the contact was sealed with another key and cannot be read") from None


def phone_number(text) -> str:
    """A mainland mobile number as 11 digits (spaces, dashes and a +86 in front allowed)."""
    digits = re.sub(r"[\s-]", "", text) if isinstance(text, str) else ""
    digits = re.sub(r"^(\+?86)", "", digits)
    if not _MOBILE.fullmatch(digits):
        raise Invalid("bad_phone", "a contact is a mainland mobile number, 11 digits starting with 1")
    return digits


def attach(tx: Txn, case: ReviewCase, vault: ContactVault | None, phone, consent) -> None:
    """Keep the visitor's number on their case, encrypted, if they consented."""
    if consent is not True:
        raise Invalid("consent_required", "a contact is kept only with the visitor's consent (consent: true)")
    if vault is None:
        raise Conflict("contact_unavailable", "this server keeps no contacts (it has no contact key)")
    number = phone_number(phone)
    case.contact_sealed, case.contact_masked = vault.seal(number), mask(number)
    case.contact_consent_at, case.updated_at = tx.now, tx.now
    tx.session.add(case)
    tx.audit("case.contact_left", f"case {case.id}", masked=case.contact_masked)


def reveal(tx: Txn, case: ReviewCase, vault: ContactVault | None) -> str:
    """The number in full, for the manager handling the case; audited every time."""
    if case.contact_sealed is None:
        raise Conflict("no_contact", "the visitor left no contact" if case.contact_erased_at is None else "the contact has been erased",
                       erased=case.contact_erased_at is not None)
    if vault is None:
        raise Conflict("contact_unavailable", "this server keeps no contacts (it has no contact key)")
    number = vault.open(case.contact_sealed)
    tx.audit("case.contact_reveal", f"case {case.id}", masked=case.contact_masked)
    return number


def erase_expired(tx: Txn, today) -> int:
    """Erase the contacts of cases closed `contact_retention_days` days ago or more, by the hall's days
    (closed on 12 February, 30 days: erased from 14 March on; the day's sweep does it)."""
    days = settings_of(tx.hall).contact_retention_days
    before = clock.day_start_moment(today - timedelta(days=days - 1), tx.hall.timezone)
    due = tx.session.exec(select(ReviewCase).where(ReviewCase.hall_id == tx.hall.id, ReviewCase.contact_sealed.is_not(None),
                                                   ReviewCase.closed_at.is_not(None), ReviewCase.closed_at < before)).all()
    for case in due:
        case.contact_sealed, case.contact_erased_at = None, tx.now
        tx.session.add(case)
    if due:
        tx.audit("case.contact_erase", tx.hall.slug, cases=[c.id for c in due], retention_days=days)
    return len(due)
