"""Settings come from the environment, strictly, and production settings pass Django's checks."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.environment import env_bool, env_int, env_list

ROOT = Path(__file__).parent.parent


def manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**base, "DATABASE_URL": "sqlite:///:memory:", **env},
    )


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("off", False), ("", False)]
)
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, value):
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG") is value


def test_env_bool_refuses_anything_else(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")


def test_env_int_and_list(monkeypatch):
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_LIST", " a.example, b.example ,")
    assert env_int("X_INT", 0) == 12
    assert env_list("X_LIST") == ["a.example", "b.example"]
    monkeypatch.setenv("X_INT", "twelve")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_INT", 0)


def test_production_settings_pass_the_deployment_checklist():
    """R20: check --deploy gives no warning with DEBUG off, a strong key and real hosts."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="standpoint.example",
    )
    assert result.returncode == 0, result.stderr


def test_without_a_secret_key_production_refuses_to_start():
    result = manage("check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_staff_sessions_last_a_working_day(settings):
    """R14."""
    assert settings.SESSION_COOKIE_AGE == 8 * 3600


def test_passwords_need_twelve_characters_and_not_a_common_one(db):
    """R13."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("password123")
    validate_password("correct horse battery staple on a long walk")
