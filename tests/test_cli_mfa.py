"""The second-factor chores of `admin-app`: key rotation and a locked-out user's reset."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from admin_app.cli import main
from admin_app.db import build_session_factory
from auth.codes import SecretBox
from models import AuditEntry, AuthSession, RecoveryCode, Role, TotpFactor
from tests.conftest import FAST_ARGON2, make_settings

OLD_KEY = "cli-test-secret-key-0123456789-abcdef"
NEW_KEY = "the replacement mfa key 0123456789-abcdef"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path, db_url: str) -> str:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECRET_KEY", OLD_KEY)
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key.upper(), str(value))
    return db_url


def _enrolled_user(db_url: str) -> tuple[int, str]:
    """A user with a confirmed authenticator app, recovery codes and a session, as the app makes them."""
    from admin_app.main import create_app
    from admin_app.services.users import create_user

    app = create_app(make_settings(db_url, secret_key=OLD_KEY))
    mfa = app.state.authenticator.mfa
    with build_session_factory(app.state.engine)() as db, db.begin():
        user = create_user(db, app.state.passwords, email="locked@example.com",
                           password="a long enough password", role=Role.admin)
        secret = mfa.start_totp(db, user.id)
        assert mfa.confirm_totp(db, user.id, pyotp.TOTP(secret).now())
        mfa.new_recovery_codes(db, user.id)
        app.state.authenticator.sessions.create(db, user.id, ip_address="x", user_agent="y", second_factor="totp")
        user_id = user.id
    app.state.engine.dispose()
    return user_id, secret


def test_rotate_mfa_key_reencrypts_under_the_first_key(cli_env: str, monkeypatch, capsys) -> None:  # noqa: ANN001
    _user_id, secret = _enrolled_user(cli_env)
    monkeypatch.setenv("MFA_ENCRYPTION_KEYS", f"{NEW_KEY},{OLD_KEY}")
    assert main(["rotate-mfa-key"]) == 0
    assert "Re-encrypted 1 authenticator secret under the first key." in capsys.readouterr().out
    from admin_app.db import build_engine

    engine = build_engine(make_settings(cli_env))
    with build_session_factory(engine)() as db:
        stored = db.execute(select(TotpFactor.secret_encrypted)).scalar_one()
    engine.dispose()
    assert SecretBox([NEW_KEY]).decrypt(stored) == secret
    monkeypatch.setenv("MFA_ENCRYPTION_KEYS", "a key that opens nothing here 0123456789")
    assert main(["rotate-mfa-key"]) == 1
    assert "opened with none of MFA_ENCRYPTION_KEYS" in capsys.readouterr().err


def test_reset_second_factors_of_a_locked_out_user(cli_env: str, capsys) -> None:  # noqa: ANN001
    user_id, _secret = _enrolled_user(cli_env)
    assert main(["reset-second-factors", "Locked@Example.com"]) == 0
    assert "Second factors of locked@example.com reset; 1 session ended." in capsys.readouterr().out
    from admin_app.db import build_engine

    engine = build_engine(make_settings(cli_env))
    with build_session_factory(engine)() as db:
        assert db.execute(select(TotpFactor)).first() is None
        assert db.execute(select(RecoveryCode)).first() is None
        assert db.execute(select(AuthSession)).first() is None
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "mfa_reset")).scalar_one()
    engine.dispose()
    assert entry.via == "cli" and entry.entity_id == str(user_id)
    assert main(["reset-second-factors", "nobody@example.com"]) == 1
    assert "no user nobody@example.com" in capsys.readouterr().err


def test_check_reports_the_policy(cli_env: str, monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.setenv("MFA_REQUIRED_ROLES", "admin,editor")
    assert main(["check"]) == 0
    assert "Two-factor:   required for admin, editor; secrets encrypted with a key from SECRET_KEY" in capsys.readouterr().out
    monkeypatch.setenv("MFA_REQUIRED_ROLES", "admin,owner")
    assert main(["check"]) == 1
    assert "owner" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["rotate-mfa-key", "reset-second-factors"])
def test_the_chores_have_help(command: str) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "admin_app", command, "--help"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and "usage: admin-app " + command in result.stdout


def test_the_first_admin_of_serve_logs_in_and_is_sent_to_enrolment(tmp_path) -> None:  # noqa: ANN001
    """The README's quick start with the default policy: the printed password, then the QR code."""
    import re

    import httpx

    from tests.helpers import running_server

    url = f"sqlite:///{tmp_path}/first.db"
    with running_server(url, tmp_path, MFA_REQUIRED_ROLES="admin") as (base, _process, log):
        output = log.read_text()
        password = re.search(r"password: (\S+)", output).group(1)
        assert "The first login sets up two-factor sign-in" in output
        with httpx.Client(base_url=base, headers={"Origin": base}) as client:
            login = client.post("/admin/login", data={"username": "admin@example.com", "password": password})
            assert login.status_code == 302
            assert login.headers["location"].startswith("/admin/login/enrol?next=")
            assert "admin_session=" not in login.headers.get("set-cookie", "")
            page = client.get(login.headers["location"])
            assert page.status_code == 200 and "<svg" in page.text and 'id="totp-secret"' in page.text
            secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text).group(1)
            done = client.post("/admin/login/enrol", data={"code": pyotp.TOTP(secret).now(), "next": "/admin/"})
            assert done.status_code == 200 and 'id="recovery-codes"' in done.text
            assert client.get("/admin/", follow_redirects=False).status_code == 200
