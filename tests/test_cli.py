"""The `admin-app` command: each subcommand, its help, and its error paths."""

import subprocess
import sys

import pytest
from sqlalchemy import func, select

from admin_app.cli import main
from admin_app.db import build_session_factory
from models import Project, Role, Task, User
from tests.conftest import FAST_ARGON2

PASSWORD = "correct horse battery staple"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path, db_url: str) -> str:  # noqa: ANN001
    """Run the CLI in an empty folder against the test database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-key-0123456789-abcdef")
    for key, value in FAST_ARGON2.items():
        monkeypatch.setenv(key.upper(), str(value))
    return db_url


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(text))


@pytest.mark.parametrize("command", ["serve", "migrate", "create-user", "demo-data", "check"])
def test_each_subcommand_has_help(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "admin_app", command, "--help"],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0
    assert "usage: admin-app " + command in result.stdout


def test_serve_help_lists_its_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "admin_app", "serve", "--help"],
        capture_output=True, text=True, check=False,
    )
    for option in ("--host", "--port", "--workers", "--reload"):
        assert option in result.stdout


def test_migrate(cli_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    assert "(head)" in capsys.readouterr().out


def test_create_user_from_stdin(cli_env: str, engine, monkeypatch, capsys) -> None:  # noqa: ANN001
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["create-user", "Ed@Example.COM", "--role", "editor", "--password-stdin"]) == 0
    assert "Created editor ed@example.com" in capsys.readouterr().out
    with build_session_factory(engine)() as session:
        user = session.execute(select(User).where(User.email == "ed@example.com")).scalar_one()
    assert user.role == Role.editor
    assert user.hashed_password.startswith("$argon2id$")


def test_create_user_prompts_twice(cli_env: str, monkeypatch, capsys) -> None:  # noqa: ANN001
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    assert main(["create-user", "viv@example.com", "--role", "viewer"]) == 0


def test_create_user_prompt_mismatch(cli_env: str, monkeypatch, capsys) -> None:  # noqa: ANN001
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    assert main(["create-user", "viv@example.com", "--role", "viewer"]) == 1
    assert "the two passwords differ" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["dup@example.com", "--role", "admin"], PASSWORD, "A user with this email exists"),
        (["not-an-email", "--role", "admin"], PASSWORD, "email"),
        (["short@example.com", "--role", "admin"], "tooshort", "at least 12 characters"),
        (["same@example.com", "--role", "admin"], "same@example.com", "must not be the email"),
        (["empty@example.com", "--role", "admin"], "", "no password"),
    ],
)
def test_create_user_errors_are_one_line(
    cli_env: str, monkeypatch, capsys, args, stdin, message  # noqa: ANN001
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["create-user", "dup@example.com", "--role", "editor", "--password-stdin"]) == 0
    capsys.readouterr()
    _stdin(monkeypatch, stdin + "\n")
    assert main(["create-user", *args, "--password-stdin"]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_create_user_unknown_role(cli_env: str, capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as info:
        main(["create-user", "x@example.com", "--role", "boss", "--password-stdin"])
    assert info.value.code == 2
    assert "invalid choice: 'boss'" in capsys.readouterr().err


def test_demo_data(cli_env: str, engine, capsys) -> None:  # noqa: ANN001
    assert main(["demo-data", "--tasks", "2500", "--seed", "7"]) == 0
    assert "Inserted 2,500 tasks" in capsys.readouterr().out
    with build_session_factory(engine)() as session:
        assert session.execute(select(func.count()).select_from(Task)).scalar_one() == 2500
        statuses = set(session.execute(select(Task.status).distinct()).scalars())
        priorities = set(session.execute(select(Task.priority).distinct()).scalars())
        users = session.execute(select(func.count()).select_from(User)).scalar_one()
        projects = session.execute(select(func.count()).select_from(Project)).scalar_one()
        in_a_project = session.execute(select(func.count()).select_from(Task).where(Task.project_id.is_not(None))).scalar_one()
        done_without_completion = session.execute(
            select(func.count()).select_from(Task)
            .where(Task.status == "done", Task.completed_at.is_(None))
        ).scalar_one()
    assert statuses == {"pending", "in_progress", "done", "cancelled"}
    assert priorities == {1, 2, 3, 4, 5}
    assert users == 5 and projects == 5
    assert 0.6 * 2500 < in_a_project < 0.8 * 2500  # about 70% of tasks belong to a project
    assert done_without_completion == 0
    # a second run adds tasks, not duplicate users or projects
    assert main(["demo-data", "--tasks", "10"]) == 0
    with build_session_factory(engine)() as session:
        assert session.execute(select(func.count()).select_from(Project)).scalar_one() == 5


def test_demo_data_refuses_negative(cli_env: str, capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as info:
        main(["demo-data", "--tasks", "-5"])
    assert info.value.code == 2


def test_check_ok(cli_env: str, capsys) -> None:  # noqa: ANN001
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "Reachable:    yes" in out
    assert "up to date" in out
    assert "cli-test-secret" not in out


def test_check_fails_on_a_database_not_at_head(monkeypatch, tmp_path, capsys) -> None:  # noqa: ANN001
    """A database never migrated is not "Configuration OK.": exit 1, saying what to run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-key-0123456789-abcdef")
    assert main(["check"]) == 1
    captured = capsys.readouterr()
    assert "Configuration OK." not in captured.out
    assert "never migrated" in captured.out
    assert captured.err == "Database not at head: run `admin-app migrate`.\n"
    assert main(["migrate"]) == 0 and main(["check"]) == 0


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres:hunter2@127.0.0.1:1/nope", "database unreachable"),
        ("mysql://u@h/db", "DATABASE_URL must be"),
        ("::garbage", "not a valid database URL"),
    ],
)
@pytest.mark.parametrize("command", ["check", "migrate", "demo-data", "serve"])
def test_bad_database_is_one_line(
    monkeypatch, tmp_path, capsys, url: str, message: str, command: str  # noqa: ANN001
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    assert main([command]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "hunter2" not in err
    assert "Traceback" not in err
    assert err.count("\n") == 1


def test_bad_configuration_is_one_line(monkeypatch, tmp_path, capsys) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    assert main(["check"]) == 1
    assert "SECRET_KEY of at least 32 characters" in capsys.readouterr().err


def test_console_script_and_module_agree() -> None:
    import shutil

    script = shutil.which("admin-app")
    assert script, "the admin-app console script is installed"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "create-user" in result.stdout
