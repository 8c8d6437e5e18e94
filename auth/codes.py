"""Second-factor primitives, with no database: TOTP codes (pyotp), recovery codes, the QR code
(segno) and the encryption of TOTP secrets (Fernet under keys derived with HKDF)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOTP_DIGITS = 6
TOTP_PERIOD = 30
DRIFT_STEPS = 1  # one step (30 s) of clock drift either way
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # base32: no 0/1 to mistake for o/l
RECOVERY_LENGTH = 16  # 80 random bits: a fast hash is as safe as a slow one for these
MAX_CODE_LENGTH = 64

Clock = Callable[[], datetime]


class MfaError(ValueError):
    """A second-factor request that cannot be done; the message says why, in plain words."""


# --- secrets at rest ----------------------------------------------------------------------

def _fernet_key(key: str) -> bytes:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"admin-app totp secrets v1"
    ).derive(key.encode())
    return base64.urlsafe_b64encode(derived)


class SecretBox:
    """Encrypts with the first key, decrypts with any: rotation is add-first, re-encrypt, drop."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str | None:
        """The plaintext, or None when no configured key opens it (a wrong or dropped key)."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError):
            return None

    def rotate(self, token: str) -> str:
        """The same secret encrypted under the first key (raises InvalidToken if unreadable)."""
        return self._fernet.rotate(token.encode()).decode()


# --- codes --------------------------------------------------------------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=email, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as inline SVG: no script, no external resource, fine under the CSP."""
    return segno.make(uri, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title="QR code for your authenticator app"
    )


def grouped(secret: str) -> str:
    """The secret in groups of four, as people type it."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def clean_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()[: MAX_CODE_LENGTH + 1]


def is_totp_code(code: str) -> bool:
    return len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code `code` is, within the allowed drift; None if none."""
    if not is_totp_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    current = totp.timecode(now)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Compare every candidate (no early exit): the time taken says nothing.
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_LENGTH, 4))


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(clean_code(code).encode()).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(code) == RECOVERY_LENGTH and all(ch in RECOVERY_ALPHABET for ch in code)


# --- what an account has ------------------------------------------------------------------
