"""Hardening that every response shares: CSP (R19), security headers on pages and static files
(R21), sign-in throttling (R10), cookie flags (R12) and generic error pages (R25)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.db import OperationalError, connection
from django.db.models import F
from django.test import Client

from papers import workflow
from papers.models import Event

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).parent.parent
PASSWORD = "a long enough test passphrase"
LOCKED_OUT = "Too many failed sign-ins for this account from your address; try again in 15 minutes"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


def settings_in_a_fresh_process(*names, **env):
    """Values of config.settings as a new process sees them with production env variables."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    code = "from django.conf import settings\n" + "".join(
        f"print(repr(settings.{name}))\n" for name in names
    )
    return subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={
            **base,
            "DATABASE_URL": "sqlite:///:memory:",
            "DJANGO_SECRET_KEY": "test-only-secret-key-not-used-anywhere-else-0123456789",
            **env,
        },
    )


# --- R19: Content-Security-Policy ---------------------------------------------------------------


@pytest.fixture
def in_review(draft, editor, reviewer):
    workflow.assign_reviewer(draft, reviewer, by=editor)
    return draft


@pytest.fixture
def signed_in(editor, reviewer):
    def client_for(who):
        client = Client()
        client.force_login({"editor": editor, "reviewer": reviewer}[who])
        return client

    return client_for


@pytest.mark.parametrize(
    ("who", "url", "status"),
    [
        (None, "/", 200),
        (None, "/papers/draft-on-deterrence/", 200),
        (None, "/accounts/login/", 200),
        (None, "/no-such-page/", 404),
        ("reviewer", "/review/draft-on-deterrence/", 200),
        ("editor", "/admin/papers/paper/{pk}/change/", 200),
        ("editor", "/admin/papers/claim/add/", 200),
    ],
)
def test_every_page_carries_a_strict_content_security_policy(
    published, in_review, signed_in, who, url, status
):
    client = signed_in(who) if who else Client()
    response = client.get(url.format(pk=published.pk))
    assert response.status_code == status
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "https:"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & {s for v in csp.values() for s in v}


# --- R21: security headers on pages and on WhiteNoise's static files -----------------------------


def test_a_page_carries_the_security_headers(published):
    response = Client().get("/papers/draft-on-deterrence/")
    assert {name: response[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS


@pytest.mark.parametrize("path", ["/static/css/standpoint.css", "/static/js/review.js"])
def test_a_static_file_from_whitenoise_carries_the_security_headers(settings, path):
    # In production WhiteNoise serves the collected STATIC_ROOT; here it finds the same files
    # through the finders (read when its middleware starts, hence a fresh Client).
    settings.WHITENOISE_USE_FINDERS = True
    response = Client().get(path)
    assert response.status_code == 200
    assert response.streaming and "max-age" in response["Cache-Control"]  # WhiteNoise's answer
    assert {name: response[name] for name in SECURITY_HEADERS} == SECURITY_HEADERS


# --- R10: sign-in throttling --------------------------------------------------------------------


def sign_in(client, url, username="editor", password=PASSWORD):
    return client.post(url, {"username": username, "password": password})


def fail_five_times(client, url, username="editor"):
    return [sign_in(client, url, username, "wrong guess").status_code for _ in range(5)]


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


LOGIN_URLS = ["/accounts/login/", "/admin/login/"]


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_five_failures_lock_the_account_from_that_address_even_with_the_right_password(
    settings, editor, url
):
    client = Client()
    assert fail_five_times(client, url) == [200, 200, 200, 200, 429]
    response = sign_in(client, url)
    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert signed_in_user_id(client) is None
    assert settings.SESSION_COOKIE_NAME not in response.cookies


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_another_account_from_the_same_address_can_still_sign_in(editor, other_editor, url):
    client = Client()
    fail_five_times(client, url)
    assert sign_in(client, url, "other_editor").status_code == 302
    assert signed_in_user_id(client) == str(other_editor.pk)


def test_the_same_account_from_another_address_can_still_sign_in(editor):
    fail_five_times(Client(REMOTE_ADDR="198.51.100.1"), "/accounts/login/")
    client = Client(REMOTE_ADDR="198.51.100.2")
    assert sign_in(client, "/accounts/login/").status_code == 302


def test_a_forwarded_for_header_does_not_pick_a_new_address_by_default(editor):
    for n in range(5):
        Client(HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").post(
            "/accounts/login/", {"username": "editor", "password": "wrong guess"}
        )
    client = Client(HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert sign_in(client, "/accounts/login/").status_code == 429


def test_behind_a_declared_proxy_the_forwarded_address_is_the_clients(settings, editor):
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR",)
    settings.AXES_IPWARE_PROXY_COUNT = 0
    fail_five_times(Client(HTTP_X_FORWARDED_FOR="198.51.100.1"), "/accounts/login/")
    assert (
        sign_in(Client(HTTP_X_FORWARDED_FOR="198.51.100.1"), "/accounts/login/").status_code == 429
    )
    assert (
        sign_in(Client(HTTP_X_FORWARDED_FOR="198.51.100.2"), "/accounts/login/").status_code == 302
    )


def move_attempts_back(minutes):
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=minutes))


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_after_fifteen_quiet_minutes_the_right_password_works(editor, url):
    client = Client()
    fail_five_times(client, url)
    move_attempts_back(14)
    assert sign_in(client, url).status_code == 429  # still locked, and the wait starts again
    move_attempts_back(14)
    assert sign_in(client, url).status_code == 429
    move_attempts_back(16)
    assert sign_in(client, url).status_code == 302
    assert signed_in_user_id(client) == str(editor.pk)


def test_a_superuser_can_lift_a_lock(editor):
    client = Client()
    fail_five_times(client, "/accounts/login/")
    assert reset(username="editor") == 1  # what `manage.py axes_reset_username editor` does
    assert sign_in(client, "/accounts/login/").status_code == 302


def test_a_successful_sign_in_clears_the_failures(editor):
    client = Client()
    for _ in range(4):
        sign_in(client, "/accounts/login/", password="wrong guess")
    assert sign_in(client, "/accounts/login/").status_code == 302
    client.post("/accounts/logout/")
    assert fail_five_times(client, "/accounts/login/") == [200, 200, 200, 200, 429]


def test_a_lockout_is_recorded_in_the_audit_trail(editor):
    fail_five_times(Client(REMOTE_ADDR="203.0.113.7"), "/admin/login/")
    notes = list(Event.objects.filter(action=Event.Action.SIGN_IN_FAILED).values_list("note"))
    assert notes.count(("locked out: username “editor” from 203.0.113.7",)) == 1
    assert len(notes) == 6  # five failures, the last one also locking the account


# --- R12: cookie flags under production settings ------------------------------------------------


def test_the_sign_in_response_sets_secure_http_only_lax_cookies(settings, editor):
    assert not settings.DEBUG and settings.SESSION_COOKIE_SECURE  # the production defaults
    client = Client()
    client.get("/accounts/login/")
    response = sign_in(client, "/accounts/login/")
    assert response.status_code == 302
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    csrf = response.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["secure"] is True and csrf["samesite"] == "Lax"


def test_a_host_prefixed_session_cookie_is_secure_and_host_only(settings, editor):
    settings.SESSION_COOKIE_NAME = "__Host-sessionid"
    client = Client()
    response = sign_in(client, "/accounts/login/")
    cookie = response.cookies["__Host-sessionid"]
    # Browsers only accept a __Host- cookie that is Secure, for path / and without a Domain.
    assert (cookie["secure"], cookie["path"], cookie["domain"]) == (True, "/", "")
    assert client.get("/review/").status_code == 200


def test_production_can_opt_in_to_the_host_prefixed_session_cookie():
    result = settings_in_a_fresh_process(
        "SESSION_COOKIE_NAME", DJANGO_HOST_PREFIXED_SESSION_COOKIE="1"
    )
    assert result.stdout.split() == ["'__Host-sessionid'"], result.stderr


def test_the_host_prefix_refuses_insecure_cookies():
    result = settings_in_a_fresh_process(
        "SESSION_COOKIE_NAME",
        DJANGO_HOST_PREFIXED_SESSION_COOKIE="1",
        DJANGO_SECURE_COOKIES="0",
    )
    assert result.returncode != 0
    assert "needs DJANGO_SECURE_COOKIES on" in result.stderr


# --- R10 configuration: the client's address behind proxies --------------------------------------


def test_the_client_address_is_remote_addr_unless_proxies_are_declared(settings):
    assert settings.AXES_IPWARE_META_PRECEDENCE_ORDER == ("REMOTE_ADDR",)
    assert settings.AXES_IPWARE_PROXY_COUNT is None


def test_proxies_are_declared_from_the_environment():
    result = settings_in_a_fresh_process(
        "AXES_IPWARE_META_PRECEDENCE_ORDER",
        "AXES_IPWARE_PROXY_COUNT",
        DJANGO_CLIENT_IP_HEADERS="HTTP_X_FORWARDED_FOR",
        DJANGO_PROXY_COUNT="0",
    )
    assert result.stdout.splitlines() == ["('HTTP_X_FORWARDED_FOR',)", "0"], result.stderr


def test_a_forwarding_header_without_a_proxy_count_is_refused():
    result = settings_in_a_fresh_process(
        "AXES_IPWARE_PROXY_COUNT", DJANGO_CLIENT_IP_HEADERS="HTTP_X_FORWARDED_FOR"
    )
    assert result.returncode != 0
    assert "DJANGO_CLIENT_IP_HEADERS needs DJANGO_PROXY_COUNT" in result.stderr


# --- R25: generic error pages -------------------------------------------------------------------

LEAKS = ["Traceback", "django.db", "SELECT", "RuntimeError", "SECRET", "DJANGO_SETTINGS_MODULE"]


def assert_generic(response, settings):
    body = response.content.decode()
    assert not [leak for leak in LEAKS if leak in body]
    assert settings.SECRET_KEY not in body
    assert "Content-Security-Policy" in response


def test_a_missing_page_is_the_generic_404(settings):
    settings.DEBUG = False
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert "URLconf" not in response.content.decode()
    assert_generic(response, settings)


@pytest.mark.urls("tests.urls_errors")
def test_a_view_that_raises_gets_the_generic_500(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/broken/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert "boom" not in response.content.decode()
    assert_generic(response, settings)


def dead_database(execute, sql, params, many, context):
    # What the driver raises once the server is gone, for every query the request makes.
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize("url", ["/", "/papers/draft-on-deterrence/", "/review/"])
def test_a_database_outage_gets_the_generic_503(settings, published, signed_in, url):
    settings.DEBUG = False
    settings.DATABASE_OUTAGE_WAIT = 0
    client = signed_in("editor")
    client.raise_request_exception = False
    with connection.execute_wrapper(dead_database):
        response = client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "Briefly unavailable" in response.content.decode()
    assert "server closed" not in response.content.decode()
    assert_generic(response, settings)
