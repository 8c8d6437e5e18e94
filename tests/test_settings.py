"""Settings: environment and .env, production refusals, the development secret key."""

import pytest

from admin_app.config import ConfigError, load_settings
from admin_app.settings import Settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    for name in ("DATABASE_URL", "SECRET_KEY", "APP_ENV", "DB_ECHO", "DB_POOL_SIZE", "ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///./admin_app.db"
    assert settings.db_echo is False
    assert settings.is_production is False
    assert settings.password_min_length == 12


def test_reads_dotenv_and_environment_wins(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    (tmp_path / ".env").write_text("DB_POOL_SIZE=9\nDB_ECHO=true\n")
    assert load_settings().db_pool_size == 9
    assert load_settings().db_echo is True
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    assert load_settings().db_pool_size == 3


def test_production_refuses_missing_or_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY of at least 32"):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="SECRET_KEY of at least 32"):
        load_settings()
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.setenv("ALLOWED_HOSTS", "admin.example.com")
    assert load_settings().is_production


def test_bad_value_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DB_POOL_SIZE", "many")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "DB_POOL_SIZE" in str(info.value)
    assert "\n" not in str(info.value)


def test_password_minimum_cannot_go_below_eight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PASSWORD_MIN_LENGTH", "6")
    with pytest.raises(ConfigError, match="PASSWORD_MIN_LENGTH"):
        load_settings()


def test_development_key_is_generated_once_beside_the_database(tmp_path) -> None:  # noqa: ANN001
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/data/app.db")
    (tmp_path / "data").mkdir()
    first = settings.secret_key_value()
    assert len(first) >= 32
    assert (tmp_path / "data" / ".admin_app_secret_key").exists()
    again = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/data/app.db")
    assert again.secret_key_value() == first


def test_env_example_lists_every_setting(project_root) -> None:  # noqa: ANN001
    text = (project_root / ".env.example").read_text()
    names = {line.split("=")[0].lstrip("# ").strip() for line in text.splitlines() if "=" in line}
    missing = {name.upper() for name in Settings.model_fields} - names
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_processes_starting_together_all_get_the_same_whole_development_key(tmp_path) -> None:  # noqa: ANN001
    import threading

    for attempt in range(30):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        settings = Settings(_env_file=None, database_url=f"sqlite:///{folder}/app.db")
        barrier = threading.Barrier(8)
        keys: list[str] = []

        def start(settings: Settings, barrier: threading.Barrier, keys: list[str]) -> None:
            barrier.wait()
            keys.append(settings.secret_key_value())

        threads = [threading.Thread(target=start, args=(settings, barrier, keys)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(keys)) == 1 and len(keys[0]) >= 32, keys
        assert [p.name for p in folder.iterdir()] == [".admin_app_secret_key"]  # no drafts left
