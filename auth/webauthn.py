"""Passkeys (WebAuthn) as a second factor, through the `webauthn` library (py_webauthn).

Registration and authentication options go to the browser as JSON; what the browser answers
is verified here against the challenge handed out, the relying party's id and origin, and
(for a login) the stored public key and signature counter.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from auth.config import AuthConfig
from models import Passkey

TIMEOUT_MS = 120_000
MAX_CREDENTIAL_JSON = 16_000


class PasskeyError(ValueError):
    """The browser's answer did not verify; the message is fit to show."""


@dataclass(frozen=True)
class RelyingParty:
    id: str  # the host name: a passkey works only there
    name: str
    origin: str


def relying_party(request: HTTPConnection, config: AuthConfig) -> RelyingParty:
    """WEBAUTHN_ORIGIN, else the origin the request came to (https in production)."""
    origin = config.webauthn_origin
    if origin is None:
        scheme = "https" if config.production else request.url.scheme
        origin = f"{scheme}://{request.headers.get('host') or request.url.netloc}"
    return RelyingParty(id=urlsplit(origin).hostname or "localhost", name=config.totp_issuer, origin=origin)


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = []
    for name in filter(None, passkey.transports.split(",")):
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


def registration_options(
    rp: RelyingParty, *, email: str, display_name: str, user_handle: str, existing: list[Passkey]
) -> tuple[dict[str, Any], str]:
    """Options for navigator.credentials.create(), and the challenge to check the answer by."""
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.name, user_name=email, user_display_name=display_name or email,
        user_id=base64url_to_bytes(user_handle), timeout=TIMEOUT_MS,
        exclude_credentials=[_descriptor(p) for p in existing],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


@dataclass(frozen=True)
class NewPasskey:
    credential_id: str
    public_key: str
    sign_count: int
    transports: str


def _credential(raw: object) -> dict[str, Any]:
    if isinstance(raw, str):
        if len(raw) > MAX_CREDENTIAL_JSON:
            raise PasskeyError("The passkey's answer is too large.")
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise PasskeyError("The passkey's answer is not valid JSON.") from exc
    if not isinstance(raw, dict):
        raise PasskeyError("The passkey's answer is not a credential.")
    return raw


def verify_registration(rp: RelyingParty, credential: object, challenge: str) -> NewPasskey:
    data = _credential(credential)
    try:
        verified = verify_registration_response(
            credential=data, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id, expected_origin=rp.origin,
        )
    except Exception as exc:  # noqa: BLE001 (the library raises many kinds on bad input)
        raise PasskeyError("The passkey could not be verified; try again.") from exc
    response = data.get("response") if isinstance(data.get("response"), dict) else {}
    transports = response.get("transports") if isinstance(response.get("transports"), list) else []
    known = {t.value for t in AuthenticatorTransport}
    return NewPasskey(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        transports=",".join(t for t in transports if isinstance(t, str) and t in known)[:200],
    )


def authentication_options(rp: RelyingParty, passkeys: list[Passkey]) -> tuple[dict[str, Any], str]:
    options = generate_authentication_options(
        rp_id=rp.id, timeout=TIMEOUT_MS, allow_credentials=[_descriptor(p) for p in passkeys],
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return json.loads(options_to_json(options)), bytes_to_base64url(options.challenge)


def credential_id_of(credential: object) -> str:
    data = _credential(credential)
    value = data.get("id")
    # base64url only: anything else names no passkey (and a NUL would reach PostgreSQL).
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,1400}", value):
        raise PasskeyError("The passkey's answer names no credential.")
    return value


def verify_authentication(
    rp: RelyingParty, credential: object, challenge: str, passkey: Passkey
) -> int:
    """Check a login assertion by the stored key; returns the new signature counter."""
    data = _credential(credential)
    try:
        verified = verify_authentication_response(
            credential=data, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=base64url_to_bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
        )
    except Exception as exc:  # noqa: BLE001
        raise PasskeyError("The passkey could not be verified.") from exc
    return verified.new_sign_count
