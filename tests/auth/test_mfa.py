"""Two-factor sign-in through the real app: authenticator codes on a fixed clock, recovery
codes, throttling, replay, the policy, an admin's reset, the API login, the audit trail."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, update

from admin_app.db import build_session_factory
from admin_app.main import create_app
from auth.codes import SecretBox
from models import AuditEntry, AuthSession, LoginFailure, PendingLogin, RecoveryCode, Role, TotpFactor
from tests.conftest import TEST_SECRET, make_settings
from tests.factories import ORIGIN, PASSWORD, admin_login, api_login, make_user

NOW = datetime(2026, 6, 1, 12, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


def at(secret: str, when: datetime) -> str:
    return pyotp.TOTP(secret).at(when)


def fixed_clock(app, when: datetime = NOW) -> None:  # noqa: ANN001
    app.state.authenticator.mfa.clock = lambda: when


def db_of(app):  # noqa: ANN001, ANN201
    return build_session_factory(app.state.engine)()


def audit_actions(app, user_id: int | None = None) -> list[str]:  # noqa: ANN001
    with db_of(app) as db:
        query = select(AuditEntry.action).order_by(AuditEntry.id)
        if user_id is not None:
            query = query.where(AuditEntry.entity_id == str(user_id))
        return list(db.execute(query).scalars())


def account(client: TestClient, do: str, **fields: str):  # noqa: ANN201
    return client.post("/admin/account", data={"do": do, **fields}, headers=ORIGIN, follow_redirects=False)


def enrol(client: TestClient, when: datetime = NOW) -> tuple[str, list[str]]:
    """Set up the authenticator app in My account (logged in); returns (secret, recovery codes)."""
    assert account(client, "totp-start").status_code == 303
    page = client.get("/admin/account").text
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    assert "<svg" in page and "QR code for your authenticator app" in page
    confirmed = account(client, "totp-confirm", code=at(secret, when))
    assert confirmed.status_code == 200, confirmed.text
    codes = re.findall(r"<li><code>([a-z2-7-]{19})</code></li>", confirmed.text)
    assert len(codes) == 10
    return secret, codes


def logged_in_client(app, email: str, role: Role = Role.admin) -> tuple[TestClient, int]:  # noqa: ANN001
    user_id = make_user(app, email, role)
    client = TestClient(app, base_url="http://testserver")
    client.__enter__()
    assert admin_login(client, email).status_code == 302
    return client, user_id


def second_factor(client: TestClient, code: str, next_url: str = "/admin/"):  # noqa: ANN201
    return client.post("/admin/login/second-factor", data={"code": code, "next": next_url},
                       headers=ORIGIN, follow_redirects=False)


@pytest.fixture
def enrolled(app):  # noqa: ANN001, ANN201
    """An admin with the authenticator app set up, logged out again: (client, id, secret, codes)."""
    fixed_clock(app)
    client, user_id = logged_in_client(app, "two@example.com")
    secret, codes = enrol(client)
    client.post("/admin/logout", headers=ORIGIN)
    client.cookies.clear()
    yield client, user_id, secret, codes
    client.__exit__(None, None, None)


def test_enrolment_turns_on_the_second_step_and_no_session_exists_before_it(app, enrolled) -> None:  # noqa: ANN001
    client, user_id, secret, _codes = enrolled
    assert {"mfa_totp_enrolled", "mfa_totp_confirmed"} <= set(audit_actions(app, user_id))
    page = client.get("/admin/account", follow_redirects=False)
    assert page.status_code == 302  # logged out

    response = admin_login(client, "two@example.com", next_url="/admin/task/list")
    assert response.status_code == 302
    assert response.headers["location"] == "/admin/login/second-factor?next=%2Fadmin%2Ftask%2Flist"
    assert "admin_session=" not in response.headers.get("set-cookie", "")
    with db_of(app) as db:
        assert db.execute(select(AuthSession).where(AuthSession.user_id == user_id)).first() is None
        assert db.execute(select(PendingLogin)).scalar_one().user_id == user_id
    # the pending login opens nothing: not the admin, not the API
    assert client.get("/admin/", follow_redirects=False).status_code == 302
    assert client.get("/api/auth/me").status_code == 401
    step = client.get(response.headers["location"])
    assert step.status_code == 200 and "two@example.com" in step.text and 'name="code"' in step.text

    wrong = second_factor(client, "000000", "/admin/task/list")
    assert wrong.status_code == 400 and "That code is not valid" in wrong.text
    right = second_factor(client, at(secret, NOW + STEP), "/admin/task/list")  # drift: next step
    assert right.status_code == 302 and right.headers["location"] == "/admin/task/list"
    assert client.get("/admin/").status_code == 200
    with db_of(app) as db:
        session = db.execute(select(AuthSession).where(AuthSession.user_id == user_id)).scalar_one()
        assert session.second_factor == "totp"
        assert db.execute(select(PendingLogin)).first() is None  # spent
    actions = audit_actions(app, user_id)
    assert actions[-2:] == ["mfa_failure", "login_success"]


def test_a_code_works_once_and_drift_is_one_step(app, enrolled) -> None:  # noqa: ANN001
    client, _user_id, secret, _codes = enrolled
    admin_login(client, "two@example.com")
    # the confirming code (step of NOW) was spent at enrolment
    assert second_factor(client, at(secret, NOW)).status_code == 400
    assert second_factor(client, at(secret, NOW + 2 * STEP)).status_code == 400  # two steps: too far
    assert second_factor(client, at(secret, NOW + STEP)).status_code == 302
    client.post("/admin/logout", headers=ORIGIN)
    admin_login(client, "two@example.com")
    assert second_factor(client, at(secret, NOW + STEP)).status_code == 400  # replay refused
    fixed_clock(app, NOW + 2 * STEP)  # a minute later: the previous step is within the drift
    assert second_factor(client, at(secret, NOW + STEP)).status_code == 400  # still used
    assert second_factor(client, at(secret, NOW + 2 * STEP)).status_code == 302
    api = TestClient(app)
    replay = api.post(
        "/api/auth/login", json={"email": "two@example.com", "password": PASSWORD,
                                 "code": at(secret, NOW + 2 * STEP)}, headers=ORIGIN)
    assert replay.status_code == 401  # the same code through the API: used


def test_wrong_codes_are_throttled_with_the_passwords_across_processes(app, enrolled) -> None:  # noqa: ANN001
    client, user_id, secret, _codes = enrolled
    admin_login(client, "two@example.com")
    for _ in range(5):
        assert second_factor(client, "123456").status_code == 400
    blocked = second_factor(client, at(secret, NOW + STEP))  # the right code, during the block
    assert blocked.status_code == 429 and "retry-after" in blocked.headers
    assert "Too many failed logins" in blocked.text
    assert admin_login(client, "two@example.com").status_code == 429  # the password too
    other = create_app(make_settings(app.state.settings.database_url))
    with TestClient(other) as elsewhere:  # another process reads the same count
        assert api_login(elsewhere, "two@example.com").status_code == 429
    assert audit_actions(app, user_id).count("mfa_failure") == 5


def test_wrong_codes_count_per_address_too(db_url: str) -> None:
    app = create_app(make_settings(db_url, login_max_failures_per_address=3, login_max_failures=50))
    fixed_clock(app)
    with TestClient(app) as client:
        make_user(app, "a@example.com", Role.admin)
        assert admin_login(client, "a@example.com").status_code == 302
        enrol(client)
        client.post("/admin/logout", headers=ORIGIN)
        for _ in range(3):
            response = client.post("/api/auth/login", headers=ORIGIN, json={
                "email": "a@example.com", "password": PASSWORD, "code": "999999"})
            assert response.status_code == 401
        make_user(app, "b@example.com")
        assert api_login(client, "b@example.com").status_code == 429  # the same address


def test_api_login_with_and_without_a_code(app, enrolled) -> None:  # noqa: ANN001
    _client, user_id, secret, codes = enrolled
    with TestClient(app) as api:
        missing = api_login(api, "two@example.com")
        assert missing.status_code == 401 and "send the authenticator app's current code" in missing.json()["detail"]
        assert "set-cookie" not in missing.headers
        wrong = api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "two@example.com", "password": PASSWORD, "code": "111111"})
        assert wrong.status_code == 401 and wrong.json()["detail"].startswith("That code is not valid")
        bad_password = api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "two@example.com", "password": "not the password", "code": at(secret, NOW + STEP)})
        assert bad_password.status_code == 401 and bad_password.json()["detail"] == "Invalid email or password."
        right = api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "two@example.com", "password": PASSWORD, "code": at(secret, NOW + STEP)})
        assert right.status_code == 200 and right.json()["email"] == "two@example.com"
        assert api.get("/api/auth/me").status_code == 200
        status = api.get("/api/auth/second-factors").json()
        assert status["totp"] is True and status["recovery_codes_left"] == 10 and status["passkeys"] == []
        sessions = api.get("/api/auth/sessions").json()
        assert [s["second_factor"] for s in sessions if s["current"]] == ["totp"]
        api.post("/api/auth/logout", headers=ORIGIN)
        recovery = api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "two@example.com", "password": PASSWORD, "code": codes[0].upper()})
        assert recovery.status_code == 200
        assert api.get("/api/auth/second-factors").json()["recovery_codes_left"] == 9
        too_long = api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "two@example.com", "password": PASSWORD, "code": "1" * 65})
        assert too_long.status_code == 422
    with db_of(app) as db:
        used = db.execute(
            select(AuditEntry).where(AuditEntry.action == "mfa_recovery_used")
        ).scalar_one()
        assert used.details["remaining"] == 9 and used.entity_id == str(user_id)


def test_recovery_codes_are_hashed_work_once_and_regeneration_voids_them(app, enrolled) -> None:  # noqa: ANN001
    client, user_id, _secret, codes = enrolled
    with db_of(app) as db:
        stored = set(db.execute(select(RecoveryCode.code_hash)).scalars())
    assert len(stored) == 10 and not stored & {c for c in codes} and not any(c[:4] in h for c in codes for h in stored)
    admin_login(client, "two@example.com")
    assert second_factor(client, codes[1]).status_code == 302
    assert "9</span> of 10 recovery codes left" in client.get("/admin/account").text
    client.post("/admin/logout", headers=ORIGIN)
    admin_login(client, "two@example.com")
    assert second_factor(client, codes[1]).status_code == 400  # used
    assert second_factor(client, codes[2].replace("-", " ")).status_code == 302  # spaces are fine
    regenerated = account(client, "recovery-regenerate")
    assert regenerated.status_code == 200
    fresh = re.findall(r"<li><code>([a-z2-7-]{19})</code></li>", regenerated.text)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    client.post("/admin/logout", headers=ORIGIN)
    admin_login(client, "two@example.com")
    assert second_factor(client, codes[3]).status_code == 400  # voided
    assert second_factor(client, fresh[0]).status_code == 302
    assert "mfa_recovery_regenerated" in audit_actions(app, user_id)


def test_the_secret_is_encrypted_at_rest_and_keys_rotate(db_url: str) -> None:
    app = create_app(make_settings(db_url))
    fixed_clock(app)
    with TestClient(app) as client:
        make_user(app, "enc@example.com", Role.editor)
        admin_login(client, "enc@example.com")
        secret, _ = enrol(client)
    with db_of(app) as db:
        stored = db.execute(select(TotpFactor.secret_encrypted)).scalar_one()
    assert secret not in stored and secret.lower() not in stored.lower()
    assert SecretBox([TEST_SECRET]).decrypt(stored) == secret
    assert SecretBox(["some other key of enough length 0123456789"]).decrypt(stored) is None

    new_key = "the new totp encryption key 0123456789abcdef"
    rotating = create_app(make_settings(db_url, mfa_encryption_keys=[new_key, TEST_SECRET]))
    with db_of(rotating) as db, db.begin():
        assert rotating.state.authenticator.mfa.reencrypt_all(db) == (1, 0)
    with db_of(rotating) as db:
        rotated = db.execute(select(TotpFactor.secret_encrypted)).scalar_one()
    assert SecretBox([new_key]).decrypt(rotated) == secret and SecretBox([TEST_SECRET]).decrypt(rotated) is None
    after = create_app(make_settings(db_url, mfa_encryption_keys=[new_key]))  # the old key dropped
    fixed_clock(after, NOW + STEP)
    with TestClient(after) as api:
        response = api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "enc@example.com", "password": PASSWORD, "code": at(secret, NOW + STEP)})
        assert response.status_code == 200
    lost = create_app(make_settings(db_url, mfa_encryption_keys=["a key that never encrypted it 0123"]))
    fixed_clock(lost, NOW + 2 * STEP)
    with TestClient(lost) as api:  # a wrong key fails closed: the code is refused
        response = api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "enc@example.com", "password": PASSWORD, "code": at(secret, NOW + 2 * STEP)})
        assert response.status_code == 401


def test_disabling_needs_the_password_and_a_code(app, enrolled) -> None:  # noqa: ANN001
    client, user_id, secret, _codes = enrolled
    admin_login(client, "two@example.com")
    second_factor(client, at(secret, NOW + STEP))
    fixed_clock(app, NOW + 2 * STEP)
    wrong_password = account(client, "totp-disable", current_password="wrong password 12", code=at(secret, NOW + 2 * STEP))
    assert wrong_password.status_code == 400 and "Current password: not correct." in wrong_password.text
    wrong_code = account(client, "totp-disable", current_password=PASSWORD, code="000000")
    assert wrong_code.status_code == 400 and "not valid" in wrong_code.text
    done = account(client, "totp-disable", current_password=PASSWORD, code=at(secret, NOW + 2 * STEP))
    assert done.status_code == 303
    with db_of(app) as db:
        assert db.execute(select(TotpFactor)).first() is None
        assert db.execute(select(RecoveryCode)).first() is None  # no factor left: codes go too
    assert "mfa_totp_disabled" in audit_actions(app, user_id)
    client.post("/admin/logout", headers=ORIGIN)
    login = admin_login(client, "two@example.com")
    assert login.status_code == 302 and login.headers["location"] == "/admin/"  # password alone again


def test_the_policy_sends_a_required_role_to_enrolment_and_nowhere_else(db_url: str) -> None:
    app = create_app(make_settings(db_url, mfa_required_roles=["admin"]))
    fixed_clock(app)
    admin_id = make_user(app, "boss@example.com", Role.admin)
    make_user(app, "ed@example.com", Role.editor)
    with TestClient(app) as client:
        assert admin_login(client, "ed@example.com").headers["location"] == "/admin/"  # not required
        client.cookies.clear()
        api = api_login(client, "boss@example.com")
        assert api.status_code == 403 and "requires two-factor sign-in" in api.json()["detail"]
        client.cookies.clear()
        response = admin_login(client, "boss@example.com", next_url="/admin/user/list")
        assert response.headers["location"] == "/admin/login/enrol?next=%2Fadmin%2Fuser%2Flist"
        for path in ("/admin/", "/admin/account", "/admin/user/list"):
            assert client.get(path, follow_redirects=False).headers["location"].startswith("/admin/login")
        assert client.get("/api/auth/me").status_code == 401
        page = client.get("/admin/login/enrol")
        assert page.status_code == 200 and "<svg" in page.text
        secret = re.search(r'data-secret="([A-Z2-7]+)"', page.text).group(1)
        assert client.get("/admin/login/enrol").text.count(secret) >= 1  # a reload keeps the secret
        wrong = client.post("/admin/login/enrol", data={"code": "000000", "next": "/admin/user/list"}, headers=ORIGIN)
        assert wrong.status_code == 400
        done = client.post("/admin/login/enrol", data={"code": at(secret, NOW), "next": "/admin/user/list"},
                           headers=ORIGIN, follow_redirects=False)
        assert done.status_code == 200 and "admin_session=" in done.headers["set-cookie"]
        assert len(re.findall(r"<li><code>[a-z2-7-]{19}</code></li>", done.text)) == 10
        assert 'href="/admin/user/list"' in done.text
        assert client.get("/admin/user/list").status_code == 200
        # the pending login is spent
        assert client.get("/admin/login/enrol", follow_redirects=False).status_code == 303
    actions = audit_actions(app, admin_id)
    assert actions.index("mfa_totp_enrolled") < actions.index("mfa_totp_confirmed") < actions.index("login_success")


def test_under_the_policy_a_session_without_the_second_factor_does_not_count(db_url: str) -> None:
    """A session from before the policy (no second factor recorded) ends at its next request."""
    app = create_app(make_settings(db_url))
    make_user(app, "old@example.com", Role.admin)
    with TestClient(app) as client:
        admin_login(client, "old@example.com")
        cookie = client.cookies.get("admin_session")
    strict = create_app(make_settings(db_url, mfa_required_roles=["admin"]))
    with TestClient(strict) as client:
        client.cookies.set("admin_session", cookie)
        assert client.get("/api/auth/me").status_code == 401
        assert client.get("/admin/", follow_redirects=False).status_code == 302
    with db_of(strict) as db:
        assert db.execute(select(AuthSession)).first() is None


def test_an_admin_resets_another_users_second_factors(app) -> None:  # noqa: ANN001
    fixed_clock(app)
    user_client, user_id = logged_in_client(app, "lost@example.com", Role.editor)
    enrol(user_client)
    assert user_client.get("/api/auth/me").status_code == 200
    admin_client, admin_id = logged_in_client(app, "root@example.com", Role.admin)
    details = admin_client.get(f"/admin/user/details/{user_id}")
    assert f'/admin/user/second-factors/{user_id}"' in details.text
    page = admin_client.get(f"/admin/user/second-factors/{user_id}")
    assert page.status_code == 200 and "yes, since" in page.text
    response = admin_client.post(f"/admin/user/second-factors/{user_id}", headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith(f"/admin/user/details/{user_id}")
    assert user_client.get("/api/auth/me").status_code == 401  # their sessions ended
    with db_of(app) as db:
        assert db.execute(select(TotpFactor)).first() is None
        assert db.execute(select(RecoveryCode)).first() is None
        entry = db.execute(select(AuditEntry).where(AuditEntry.action == "mfa_reset")).scalar_one()
    assert entry.actor_id == admin_id and entry.entity_id == str(user_id) and entry.details["totp"] is True
    assert admin_login(user_client, "lost@example.com").headers["location"] == "/admin/"  # password alone

    own = admin_client.post(f"/admin/user/second-factors/{admin_id}", headers=ORIGIN)
    assert own.status_code == 400 and "My account" in own.text
    assert admin_client.get("/admin/user/second-factors/999999").status_code == 404
    editor_client, _ = logged_in_client(app, "ed2@example.com", Role.editor)
    assert editor_client.post(f"/admin/user/second-factors/{user_id}", headers=ORIGIN).status_code == 403
    for c in (user_client, admin_client, editor_client):
        c.__exit__(None, None, None)


def test_the_api_reset_and_its_refusals(app, client) -> None:  # noqa: ANN001
    fixed_clock(app)
    make_user(app, "api-admin@example.com", Role.admin)
    target = make_user(app, "target@example.com", Role.viewer)
    assert api_login(client, "api-admin@example.com").status_code == 200
    me = client.get("/api/auth/me").json()["id"]
    assert client.delete(f"/api/users/{target}/second-factors", headers=ORIGIN).status_code == 204
    assert client.delete(f"/api/users/{me}/second-factors", headers=ORIGIN).status_code == 409
    assert client.delete("/api/users/999999/second-factors", headers=ORIGIN).status_code == 404
    assert "mfa_reset" in audit_actions(app, target)


def test_tokens_need_a_session_that_passed_the_second_factor_and_then_work_without_a_code(app, enrolled) -> None:  # noqa: ANN001
    _client, _user_id, secret, _codes = enrolled
    with TestClient(app) as api:
        api.post("/api/auth/login", headers=ORIGIN, json={
            "email": "two@example.com", "password": PASSWORD, "code": at(secret, NOW + STEP)})
        created = api.post("/api/auth/tokens", json={"name": "script"}, headers=ORIGIN)
        assert created.status_code == 201
        token = created.json()["token"]
        api.cookies.clear()
        bearer = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/auth/me", headers=bearer).status_code == 200  # no code for tokens
        refused = api.post("/api/auth/tokens", json={"name": "another"}, headers=bearer)
        assert refused.status_code == 403 and "cannot create tokens" in refused.json()["detail"]


def test_the_audit_trail_holds_no_secret_and_no_code(app, enrolled) -> None:  # noqa: ANN001
    client, _user_id, secret, codes = enrolled
    admin_login(client, "two@example.com")
    second_factor(client, "654321")
    second_factor(client, codes[0])
    with db_of(app) as db:
        entries = db.execute(select(AuditEntry)).scalars().all()
    text = json.dumps([[e.action, e.changes, e.details, e.actor_label] for e in entries])
    for needle in (secret, secret.lower(), *codes, *(c.replace("-", "") for c in codes), "654321",
                   at(secret, NOW)):
        assert needle not in text
    assert {"mfa_totp_enrolled", "mfa_totp_confirmed", "mfa_failure", "mfa_recovery_used"} <= {e.action for e in entries}


def test_a_pending_login_expires_and_completes_once(app, enrolled) -> None:  # noqa: ANN001
    client, _user_id, secret, _codes = enrolled
    admin_login(client, "two@example.com")
    pending = client.cookies.get("admin_session_pending")
    assert pending
    with db_of(app) as db, db.begin():
        db.execute(update(PendingLogin).values(expires_at=NOW - timedelta(days=1)))
    expired = second_factor(client, at(secret, NOW + STEP))
    assert expired.status_code == 303 and expired.headers["location"] == "/admin/login"
    assert "took too long" in client.get("/admin/login").text
    admin_login(client, "two@example.com")
    pending = client.cookies.get("admin_session_pending")
    assert second_factor(client, at(secret, NOW + STEP)).status_code == 302
    client.cookies.clear()
    client.cookies.set("admin_session_pending", pending)  # the same pending login again
    assert second_factor(client, at(secret, NOW + STEP)).status_code == 303
    client.cookies.set("admin_session_pending", "not-a-signed-value")
    forged = client.get("/admin/login/second-factor", follow_redirects=False)
    assert forged.status_code == 303


def test_bad_input_is_a_clear_4xx(app, enrolled) -> None:  # noqa: ANN001
    client, _user_id, secret, _codes = enrolled
    assert client.post("/admin/login/passkey-options", headers=ORIGIN).status_code == 400  # no pending login
    admin_login(client, "two@example.com")
    assert client.post("/admin/login/passkey-options", headers=ORIGIN).status_code == 400  # no passkeys
    for data in ({"code": "x" * 20000}, {"code": "\x00\x01"}, {"credential": "{not json"},
                 {"credential": json.dumps({"id": "abc", "type": "public-key", "response": {}})},
                 {"credential": "[1, 2]"}):
        response = client.post("/admin/login/second-factor", data=data, headers=ORIGIN, follow_redirects=False)
        assert response.status_code == 400, data
    with db_of(app) as db, db.begin():  # five failures: the next try would be throttled
        db.execute(delete(LoginFailure))
    assert second_factor(client, at(secret, NOW + STEP)).status_code == 302
    options = client.post("/admin/account/passkey-options", headers=ORIGIN)
    assert options.status_code == 200
    body = options.json()
    assert body["options"]["rp"]["id"] == "testserver" and body["options"]["challenge"] and body["state"]
    for data in ({"name": "laptop"}, {"name": "laptop", "credential": "{}", "state": "forged"},
                 {"name": "laptop", "credential": "{}", "state": body["state"]},
                 {"name": "", "credential": "{}", "state": body["state"]},
                 {"name": "x" * 101, "credential": "{}", "state": body["state"]}):
        response = account(client, "passkey-add", **data)
        assert response.status_code == 400, data
    assert account(client, "passkey-remove", passkey_id="12345").status_code == 404
    assert account(client, "passkey-remove", passkey_id="99999999999999999999").status_code == 404
    assert account(client, "totp-start").status_code == 400  # already on
    assert account(client, "totp-confirm", code="123456").status_code == 409  # nothing to confirm
    assert account(client, "totp-cancel").status_code == 404
    client.cookies.clear()
    assert client.post("/admin/account/passkey-options", headers=ORIGIN).status_code == 401


def test_a_passkey_answer_that_does_not_verify_is_a_failed_attempt(app, enrolled) -> None:  # noqa: ANN001
    """The browser half is in tests/e2e/test_mfa.py; here, what a forged answer gets."""
    from models import Passkey

    client, user_id, _secret, _codes = enrolled
    with db_of(app) as db, db.begin():
        db.add(Passkey(user_id=user_id, name="desk key", credential_id="AAAA", public_key="AAAA",
                       user_handle="BBBB"))
    admin_login(client, "two@example.com")
    assert 'id="passkey-login"' in client.get("/admin/login/second-factor").text
    for answer in ({"id": "a\x00b", "type": "public-key"}, {"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                   "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA"}}):
        options = client.post("/admin/login/passkey-options", headers=ORIGIN)
        assert options.status_code == 200
        assert options.json()["rpId"] == "testserver"
        assert options.json()["allowCredentials"][0]["id"] == "AAAA"
        response = client.post("/admin/login/second-factor", data={"credential": json.dumps(answer)},
                               headers=ORIGIN, follow_redirects=False)
        assert response.status_code == 400 and "The passkey was not accepted." in response.text
    # an answer without a fresh challenge (the last one was used) is refused as well
    response = client.post("/admin/login/second-factor", data={"credential": json.dumps(answer)},
                           headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 400
    with db_of(app) as db:
        failures = db.execute(select(AuditEntry).where(AuditEntry.action == "mfa_failure")).scalars().all()
    assert [f.details["method"] for f in failures] == ["passkey"] * 3


def test_the_second_factor_pages_answer_in_the_users_language(app) -> None:  # noqa: ANN001
    """My account's set-up messages in German (the user's choice), the login's second step and
    its throttled answer in the browser's language; the API keeps its English words."""
    fixed_clock(app)
    client, _user_id = logged_in_client(app, "zwei@example.com")
    assert account(client, "language", language="de").status_code == 303
    shown = client.get("/admin/account").text
    assert "Seiten erscheinen jetzt auf Deutsch." in shown
    assert 'aria-label="Schließen"' in shown and 'aria-label="Close"' not in shown  # the toast's button
    assert account(client, "totp-start").status_code == 303
    page = client.get("/admin/account").text
    assert "Scannen Sie den QR-Code mit Ihrer Authenticator-App und geben Sie dann deren Code ein." in page
    wrong = account(client, "totp-confirm", code="000000")
    assert wrong.status_code == 400
    assert "Code: Dieser Code ist ungültig (oder wurde schon verwendet)." in wrong.text
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)
    confirmed = account(client, "totp-confirm", code=at(secret, NOW))
    assert "Die Zwei-Faktor-Anmeldung ist aktiv. Speichern Sie diese Wiederherstellungscodes jetzt" in confirmed.text
    client.post("/admin/logout", headers=ORIGIN)
    client.cookies.clear()
    client.headers["Accept-Language"] = "fr"  # logged out: the browser's language
    admin_login(client, "zwei@example.com")
    wrong_answers = [second_factor(client, "123456") for _ in range(4)]  # the 5th failure: the set-up's
    assert [r.status_code for r in wrong_answers] == [400] * 4
    assert "Ce code n’est pas valide" in wrong_answers[0].text
    blocked = second_factor(client, at(secret, NOW + STEP))
    assert blocked.status_code == 429
    assert re.search(r"Trop de connexions échouées\. Réessayez dans environ \d+ minutes?\.", blocked.text)
    refused = api_login(client, "zwei@example.com")
    assert refused.status_code == 429
    assert re.fullmatch(r"Too many failed logins\. Try again in about \d+ minutes?\.", refused.json()["detail"])
    client.__exit__(None, None, None)


def test_the_passkey_scripts_words_come_from_the_page_in_its_language(app, enrolled) -> None:  # noqa: ANN001
    client, _user_id, secret, _codes = enrolled
    client.headers["Accept-Language"] = "de"
    admin_login(client, "two@example.com")
    assert second_factor(client, at(secret, NOW + STEP)).status_code == 302
    page = client.get("/admin/account").text  # the form that adds a passkey
    assert 'data-unsupported="Dieser Browser unterstützt keine Passkeys."' in page
    assert 'data-refused="Der Server hat abgelehnt ({status})."' in page
    client.post("/admin/logout", headers=ORIGIN)
    client.cookies.clear()  # no pending login: the script shows the server's own words
    expired = client.post("/admin/login/passkey-options", headers=ORIGIN)
    assert expired.status_code == 400 and expired.json()["detail"].startswith("Die Anmeldung")
