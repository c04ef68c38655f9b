"""Cross-cutting protections: CSRF on every form (R8) and security headers on pages (R21)."""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db


def callbacks(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def test_no_view_is_csrf_exempt():
    """R8."""
    exempt = [c for c in callbacks(get_resolver().url_patterns) if getattr(c, "csrf_exempt", False)]
    assert exempt == []


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/accounts/login/", {"username": "editor", "password": "a long enough test passphrase"}),
        ("/admin/markdown-preview/", {"content": "*x*"}),
        ("/admin/papers/tag/add/", {"name": "Forged", "slug": "forged"}),
        ("/accounts/logout/", {}),
    ],
)
def test_a_post_without_a_csrf_token_is_refused(editor, url, data):
    """R8: the enforcing client, logged in, without a token."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    assert client.post(url, data).status_code == 403


@pytest.mark.parametrize("url", ["/", "/papers/", "/admin/login/", "/accounts/login/"])
def test_pages_carry_the_security_headers(url):
    """R21 (HTML responses; static files come with the production issue)."""
    response = Client().get(url)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
