"""What a login attempt can come to, and the words staff and scripts read for each."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class LoginOutcome(enum.Enum):
    ok = "ok"
    invalid = "invalid"
    inactive = "inactive"
    throttled = "throttled"
    busy = "busy"  # too many logins already waiting for a password check
    second_factor = "second_factor"  # the password was right; the second factor is next
    enrol = "enrol"  # the password was right; the role requires a second factor it lacks
    bad_code = "bad_code"  # the second factor was wrong
    expired = "expired"  # no pending login (never started, used, or too old)


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    email: str
    user_id: int | None = None
    session_cookie: str | None = None  # signed value for the cookie, on success
    retry_after: int | None = None
    pending_cookie: str | None = None  # signed pending login, when the second factor is next
    recovery_codes: list[str] | None = None  # new ones, once, when enrolment completed a login


class _PendingGone(Exception):
    """The pending login was used up by another request meanwhile: undo this one."""


# The same words for an unknown email and a wrong password: nothing to enumerate.
INVALID_CREDENTIALS = "Invalid email or password."
INACTIVE_ACCOUNT = "This account is deactivated."
INVALID_CODE = "That code is not valid (or was already used)."
SECOND_FACTOR_NEEDED = (
    "This account has two-factor sign-in: send the authenticator app's current code "
    "(or a recovery code) as `code`."
)
ENROLMENT_NEEDED = (
    "Your role requires two-factor sign-in: log in at /admin to set it up first."
)
PENDING_EXPIRED = "The sign-in took too long or was already completed. Log in again."


BUSY_MESSAGE = "Too many logins are being checked right now. Try again in a moment."


THROTTLED = (
    "Too many failed logins. Try again in about {minutes} minute.",
    "Too many failed logins. Try again in about {minutes} minutes.",
)


def english_ngettext(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def throttled_message(seconds: int, ngettext: Callable[[str, str, int], str] = english_ngettext) -> str:
    """In English for the API; the admin's pages pass their language's `ngettext`."""
    minutes = max(1, round(seconds / 60))
    return ngettext(*THROTTLED, minutes).format(minutes=minutes)
