"""Second factors: TOTP (RFC 6238) with replay refusal, recovery codes, encrypted secrets.

The cryptography is the libraries': pyotp computes the codes, `cryptography`'s Fernet
(AES-128-CBC with HMAC-SHA256) encrypts the TOTP secrets under keys derived with HKDF from
SECRET_KEY or MFA_ENCRYPTION_KEYS, segno draws the QR code. The caller owns the transaction.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from sqlalchemy import delete, func, or_, select, update
from sqlmodel import Session

from auth.codes import (
    RECOVERY_CODE_COUNT,
    Clock,
    MfaError,
    SecretBox,
    clean_code,
    hash_recovery_code,
    is_totp_code,
    looks_like_recovery_code,
    matching_step,
    new_recovery_code,
    new_totp_secret,
)
from auth.config import AuthConfig
from auth.principal import Principal
from models import Passkey, PasskeyPublic, PendingLogin, RecoveryCode, SecondFactorStatus, TotpFactor
from models.common import utcnow


@dataclass(frozen=True)
class Factors:
    totp: bool
    passkeys: int
    recovery_left: int

    @property
    def any(self) -> bool:
        """Recovery codes alone are no factor: they only stand in for one."""
        return self.totp or self.passkeys > 0


class SecondFactors:
    """The second-factor rules over the database; `clock` is replaceable for tests."""

    def __init__(self, config: AuthConfig, clock: Clock = utcnow) -> None:
        self.config = config
        self.box = SecretBox(config.mfa_keys or (config.secret_key,))
        self.clock = clock

    def required_for(self, role: str) -> bool:
        return str(role) in self.config.mfa_required_roles

    # reading ---------------------------------------------------------------------------
    def factors(self, db: Session, user_id: int) -> Factors:
        totp = db.execute(
            select(TotpFactor.user_id).where(
                TotpFactor.user_id == user_id, TotpFactor.confirmed_at.is_not(None)
            )
        ).first() is not None
        passkeys = db.execute(
            select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)
        ).scalar_one()
        return Factors(totp=totp, passkeys=passkeys, recovery_left=self.recovery_left(db, user_id))

    def recovery_left(self, db: Session, user_id: int) -> int:
        return db.execute(
            select(func.count()).select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        ).scalar_one()

    def passkeys(self, db: Session, user_id: int) -> list[Passkey]:
        return list(db.execute(
            select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.id)
        ).scalars())

    def status(self, db: Session, user_id: int, role: str) -> SecondFactorStatus:
        totp = db.get(TotpFactor, user_id)
        confirmed = totp.confirmed_at if totp is not None else None
        return SecondFactorStatus(
            totp=confirmed is not None,
            totp_confirmed_at=confirmed,
            recovery_codes_left=self.recovery_left(db, user_id),
            passkeys=[PasskeyPublic.model_validate(p) for p in self.passkeys(db, user_id)],
            required=self.required_for(role),
        )

    # authenticator app -----------------------------------------------------------------
    def start_totp(self, db: Session, user_id: int) -> str:
        """A new secret awaiting its first code (replacing an unconfirmed one); returns it."""
        existing = db.get(TotpFactor, user_id)
        if existing is not None and existing.confirmed_at is not None:
            raise MfaError("An authenticator app is already set up: disable it first.")
        secret = new_totp_secret()
        if existing is None:
            db.add(TotpFactor(user_id=user_id, secret_encrypted=self.box.encrypt(secret)))
        else:
            existing.secret_encrypted = self.box.encrypt(secret)
            existing.created_at = utcnow()
            existing.last_used_step = None
        db.flush()
        return secret

    def unconfirmed_secret(self, db: Session, user_id: int) -> str | None:
        row = db.get(TotpFactor, user_id)
        if row is None or row.confirmed_at is not None:
            return None
        return self.box.decrypt(row.secret_encrypted)

    def _accept_step(self, db: Session, user_id: int, step: int, *, confirming: bool) -> bool:
        """Record `step` as used, unless it (or a later one) already was: one UPDATE, so two
        processes checking the same code at once cannot both accept it."""
        statement = update(TotpFactor).where(
            TotpFactor.user_id == user_id,
            or_(TotpFactor.last_used_step.is_(None), TotpFactor.last_used_step < step),
        )
        if confirming:
            statement = statement.where(TotpFactor.confirmed_at.is_(None)).values(
                last_used_step=step, confirmed_at=utcnow()
            )
        else:
            statement = statement.where(TotpFactor.confirmed_at.is_not(None)).values(last_used_step=step)
        return bool(db.execute(statement).rowcount)

    def check_totp(self, db: Session, user_id: int, code: str, *, confirming: bool = False) -> bool:
        """True (and the code spent) when `code` is the current code of the user's app."""
        row = db.get(TotpFactor, user_id)
        if row is None or (row.confirmed_at is None) != confirming:
            return False
        secret = self.box.decrypt(row.secret_encrypted)
        if secret is None:  # encrypted under a key no longer configured: fail closed
            return False
        step = matching_step(secret, clean_code(code), self.clock())
        return step is not None and self._accept_step(db, user_id, step, confirming=confirming)

    def confirm_totp(self, db: Session, user_id: int, code: str) -> bool:
        """Confirm enrolment with a first code (which is spent); False if it is wrong."""
        return self.check_totp(db, user_id, code, confirming=True)

    def disable_totp(self, db: Session, user_id: int) -> bool:
        gone = bool(db.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id)).rowcount)
        self._drop_recovery_if_no_factor(db, user_id)
        return gone

    # recovery codes --------------------------------------------------------------------
    def new_recovery_codes(self, db: Session, user_id: int) -> list[str]:
        """Ten fresh codes; the old ones stop working. Shown once: only hashes are kept."""
        db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        db.add_all(RecoveryCode(user_id=user_id, code_hash=hash_recovery_code(c)) for c in codes)
        db.flush()
        return codes

    def use_recovery_code(self, db: Session, user_id: int, code: str) -> bool:
        cleaned = clean_code(code)
        if not looks_like_recovery_code(cleaned):
            return False
        statement = (
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user_id,
                RecoveryCode.code_hash == hash_recovery_code(cleaned),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
        )
        return bool(db.execute(statement).rowcount)

    def check_code(self, db: Session, user_id: int, code: str) -> str | None:
        """The method a typed code passed ("totp" or "recovery"), or None."""
        cleaned = clean_code(code)
        if is_totp_code(cleaned):
            return "totp" if self.check_totp(db, user_id, cleaned) else None
        if not self.factors(db, user_id).any:  # recovery codes outliving every factor
            return None
        return "recovery" if self.use_recovery_code(db, user_id, cleaned) else None

    def _drop_recovery_if_no_factor(self, db: Session, user_id: int) -> None:
        if not self.factors(db, user_id).any:
            db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))

    # passkeys (the ceremonies are in auth/webauthn.py) --------------------------------
    def user_handle(self, db: Session, user_id: int) -> str:
        """The account's WebAuthn user handle: random, the same for all its passkeys."""
        existing = db.execute(
            select(Passkey.user_handle).where(Passkey.user_id == user_id).limit(1)
        ).scalar_one_or_none()
        return existing or base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()

    def remove_passkey(self, db: Session, user_id: int, passkey_id: int) -> Passkey | None:
        passkey = db.execute(
            select(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user_id)
        ).scalar_one_or_none()
        if passkey is None:
            return None
        db.delete(passkey)
        db.flush()
        self._drop_recovery_if_no_factor(db, user_id)
        return passkey

    def token_refusal(self, db: Session, principal: Principal) -> str | None:
        """Why this principal may not create an API token, or None: a token acts without a
        code, so only a session that passed the second factor makes one (or a session of an
        account with none that its role does not require)."""
        if principal.via != "session":
            return "An API token cannot create tokens: log in (with your second factor) to make one."
        if principal.second_factor is None and (
            self.required_for(principal.role.value) or self.factors(db, principal.user_id).any
        ):
            return "Creating a token needs a session that passed the second factor: log in again."
        return None

    # everything ------------------------------------------------------------------------
    def reset(self, db: Session, user_id: int) -> Factors:
        """Remove every second factor and pending login of a user; returns what there was."""
        before = self.factors(db, user_id)
        for model in (TotpFactor, RecoveryCode, Passkey, PendingLogin):
            db.execute(delete(model).where(model.user_id == user_id))
        return before

    def reencrypt_all(self, db: Session) -> tuple[int, int]:
        """Re-encrypt every TOTP secret under the first key: (re-encrypted, unreadable)."""
        done = unreadable = 0
        for row in db.execute(select(TotpFactor)).scalars():
            try:
                row.secret_encrypted = self.box.rotate(row.secret_encrypted)
                done += 1
            except InvalidToken:
                unreadable += 1
        db.flush()
        return done, unreadable
