"""The two-factor settings: parsed from the environment's strings, refused when wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from admin_app.settings import Settings

STRONG = "x" * 40


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_defaults_require_it_of_admins_with_a_key_from_secret_key() -> None:
    s = settings(secret_key=STRONG)
    assert s.mfa_required_roles == ["admin"]
    assert s.mfa_key_values() == [STRONG]
    assert s.mfa_pending_minutes == 5 and s.webauthn_origin is None


def test_comma_separated_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MFA_REQUIRED_ROLES", " Admin , editor ")
    monkeypatch.setenv("MFA_ENCRYPTION_KEYS", f"{'n' * 32},{'o' * 32}")
    monkeypatch.setenv("WEBAUTHN_ORIGIN", "https://admin.example.com/")
    s = settings(secret_key=STRONG)
    assert s.mfa_required_roles == ["admin", "editor"]
    assert s.mfa_key_values() == ["n" * 32, "o" * 32]
    assert s.webauthn_origin == "https://admin.example.com"
    monkeypatch.setenv("MFA_REQUIRED_ROLES", "")
    assert settings(secret_key=STRONG).mfa_required_roles == []


@pytest.mark.parametrize("values", [
    {"mfa_required_roles": "admin,owner"},
    {"webauthn_origin": "admin.example.com"},
    {"webauthn_origin": "https://admin.example.com/admin"},
    {"mfa_pending_minutes": 0},
    {"app_env": "production", "mfa_encryption_keys": "too short"},
])
def test_wrong_values_are_refused(values: dict) -> None:
    with pytest.raises(ValidationError):
        settings(secret_key=STRONG, **values)
