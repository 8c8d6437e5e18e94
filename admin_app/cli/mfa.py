"""The second-factor chores: `admin-app rotate-mfa-key` and `reset-second-factors`."""

from __future__ import annotations

import argparse

from admin_app.cli.common import CommandError, command_settings, engine_for


def _auth_config(settings):  # noqa: ANN001, ANN202
    from auth.config import AuthConfig

    return AuthConfig.from_settings(settings)


def cmd_rotate_mfa_key(_args: argparse.Namespace) -> int:
    from admin_app.db import build_session_factory
    from admin_app.migrate import upgrade_to_head
    from auth.mfa import SecondFactors

    settings = command_settings()
    mfa = SecondFactors(_auth_config(settings))
    engine = engine_for(settings)
    try:
        upgrade_to_head(engine)
        with build_session_factory(engine)() as session, session.begin():
            done, unreadable = mfa.reencrypt_all(session)
    finally:
        engine.dispose()
    print(f"Re-encrypted {done} authenticator secret{'s' if done != 1 else ''} under the first key.")
    if unreadable:
        raise CommandError(
            f"{unreadable} secret(s) opened with none of MFA_ENCRYPTION_KEYS (left as they were): "
            "add the key they were encrypted with, or reset those users' second factors"
        )
    return 0


def cmd_reset_second_factors(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from admin_app import audit
    from admin_app.db import build_session_factory
    from admin_app.migrate import upgrade_to_head
    from admin_app.services.actor import CLI_ACTOR
    from auth.mfa import SecondFactors
    from auth.sessions import end_user_sessions
    from models import User

    audit.install()
    settings = command_settings()
    mfa = SecondFactors(_auth_config(settings))
    engine = engine_for(settings)
    email = args.email.strip().lower()
    try:
        upgrade_to_head(engine)
        with build_session_factory(engine)() as session, session.begin():
            audit.bind_actor(session, CLI_ACTOR)
            user_id = session.execute(select(User.id).where(User.email == email)).scalar_one_or_none()
            if user_id is None:
                raise CommandError(f"no user {email}")
            had = mfa.reset(session, user_id)
            ended = end_user_sessions(session, user_id)
            audit.record(session, "mfa_reset", "user", user_id, actor=CLI_ACTOR, details={
                "totp": had.totp, "passkeys": had.passkeys, "recovery_codes": had.recovery_left,
                "sessions_ended": ended,
            })
    finally:
        engine.dispose()
    print(f"Second factors of {email} reset; {ended} session{'s' if ended != 1 else ''} ended.")
    return 0
