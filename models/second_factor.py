"""Second factors: an authenticator app's TOTP secret, recovery codes and passkeys, plus the
short-lived state of a login that has passed the password but not yet the second factor."""

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Text
from sqlmodel import Field, SQLModel

from models.common import Output, UTCDateTime, utcnow


def _user_fk(*, primary_key: bool = False) -> Column:
    return Column(
        Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False,
        primary_key=primary_key, index=not primary_key,
    )


class TotpFactor(SQLModel, table=True):
    """One authenticator app per user; it counts only once confirmed with a first code."""

    __tablename__ = "totp_factor"

    user_id: int = Field(sa_column=_user_fk(primary_key=True))
    # The base32 secret, encrypted (Fernet, key derived from SECRET_KEY or MFA_ENCRYPTION_KEYS):
    # a database dump alone does not give the codes.
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False), repr=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The 30-second step of the last code accepted: a code of that step or an earlier one is
    # refused (RFC 6238 5.2: a code works once).
    last_used_step: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class RecoveryCode(SQLModel, table=True):
    """Ten one-time codes per user, stored as SHA-256 (each is 80 random bits)."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_user_fk())
    code_hash: str = Field(max_length=64, repr=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Passkey(SQLModel, table=True):
    """A WebAuthn credential registered by a user, named so they can tell them apart."""

    __tablename__ = "passkey"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_user_fk())
    name: str = Field(max_length=100)
    # base64url of the credential id (at most 1023 bytes) and of its COSE public key.
    credential_id: str = Field(sa_column=Column(String(1400), nullable=False, unique=True, index=True))
    public_key: str = Field(sa_column=Column(Text, nullable=False), repr=False)
    # The random WebAuthn user handle of this account (the same for all its passkeys).
    user_handle: str = Field(max_length=100)
    sign_count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    transports: str = Field(default="", max_length=200)  # comma-separated, as the browser said
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    def __str__(self) -> str:
        return self.name


class PendingLogin(SQLModel, table=True):
    """A login between the right password and the second factor (or a forced enrolment).

    Not a session: nothing but the second-factor pages accepts it. The browser's cookie holds
    a signed random id; this row holds its SHA-256, expires within minutes and is deleted
    when the login completes, so it works once and across processes.
    """

    __tablename__ = "pending_login"

    id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=_user_fk())
    purpose: str = Field(max_length=16)  # "verify" (has a factor) or "enrol" (must get one)
    # The WebAuthn challenge handed out for this login, used at most once.
    webauthn_challenge: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class PasskeyPublic(Output):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


class SecondFactorStatus(Output):
    """What second factors an account has (never a secret)."""

    totp: bool
    totp_confirmed_at: datetime | None
    recovery_codes_left: int
    passkeys: list[PasskeyPublic]
    required: bool  # the account's role requires a second factor (MFA_REQUIRED_ROLES)
