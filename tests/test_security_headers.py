"""Headers every response carries, pages from the page cache included (R19, R21), the
Permissions-Policy, and pages of signed-in work that no cache may keep (papers/fastpath.py)."""

import pytest
from django.test import Client

from papers import workflow
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "Permissions-Policy",
)
PAGE = "/papers/harbours/"


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def harbours(editor):
    paper = PaperFactory(slug="harbours", title="Harbours of the Baltic")
    section = SectionFactory(paper=paper, body="Harbours are deep. They are ice-free.")
    ClaimFactory(section=section, quote="Harbours are deep.")
    workflow.publish_paper(approved(paper), by=editor)
    return paper


@pytest.mark.parametrize(
    "url", ["/", "/papers/", "/accounts/login/", "/admin/login/", "/review/", "/healthz", "/nope/"]
)
def test_every_response_refuses_the_browser_features_we_do_not_use(anonymous, url):
    policy = anonymous.get(url)["Permissions-Policy"]
    features = dict(item.strip().split("=") for item in policy.split(","))
    for feature in ("camera", "microphone", "geolocation", "browsing-topics", "interest-cohort"):
        assert features[feature] == "()"


@pytest.mark.parametrize("headers", [{}, {"Accept-Encoding": "br"}])
def test_a_page_from_the_cache_has_the_headers_of_the_rendered_page(anonymous, harbours, headers):
    rendered = anonymous.get(PAGE, headers=headers)
    cached = anonymous.get(PAGE, headers=headers)
    assert cached.templates == []
    for name in SECURITY_HEADERS:
        assert cached[name] == rendered[name], name
    assert "script-src 'self'" in cached["Content-Security-Policy"]
    assert cached["X-Frame-Options"] == "DENY"


def test_a_page_from_the_cache_skips_sessions_and_authentication(anonymous, harbours):
    anonymous.get(PAGE)
    anonymous.cookies["csrftoken"] = "a" * 32  # cookies other than a session's do not matter
    cached = anonymous.get(PAGE)
    assert cached.templates == []
    assert not hasattr(cached.wsgi_request, "user")  # AuthenticationMiddleware did not run
    assert not hasattr(cached.wsgi_request, "session")
    assert not cached.cookies


def test_a_session_cookie_takes_the_whole_stack(anonymous, harbours, editor):
    anonymous.get(PAGE)
    signed_in = Client()
    signed_in.force_login(editor)
    response = signed_in.get(PAGE)
    assert response.wsgi_request.user == editor
    assert b"Sign out" in response.content


def test_hsts_comes_with_a_cached_page_over_https_only(harbours, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    over_https = Client()
    over_https.get(PAGE, secure=True)
    cached = over_https.get(PAGE, secure=True)
    assert cached.templates == []
    assert cached["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    over_http = Client().get(PAGE)
    assert over_http.templates == []
    assert not over_http.has_header("Strict-Transport-Security")


def test_a_cached_page_asked_over_http_is_still_redirected_to_https(harbours, settings):
    Client().get(PAGE, secure=True)
    settings.SECURE_SSL_REDIRECT = True
    response = Client().get(PAGE)
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{PAGE}"


def test_a_cached_page_is_refused_to_a_host_not_allowed(anonymous, harbours):
    anonymous.get(PAGE)
    assert anonymous.get(PAGE, headers={"Host": "evil.example"}).status_code == 400


def test_readers_pages_may_be_kept_by_shared_caches(anonymous, harbours):
    cache_control = anonymous.get(PAGE)["Cache-Control"]
    assert "public" in cache_control
    assert "no-store" not in cache_control


def private(response):
    return {part.strip() for part in response["Cache-Control"].split(",")} >= {
        "private",
        "no-store",
    }


@pytest.mark.parametrize("url", ["/review/", "/review/harbours/", "/admin/", "/admin/login/"])
def test_signed_in_work_is_never_kept_even_the_redirect_to_sign_in(anonymous, harbours, url):
    assert private(anonymous.get(url))


def test_the_review_pages_the_previews_and_the_admin_are_private_and_not_stored(
    harbours, editor_client, editor
):
    _, token = workflow.create_share_link(harbours, by=editor)
    for url in [
        "/review/",
        "/review/harbours/",
        "/papers/harbours/preview/",
        f"/preview/{token}/",
        "/admin/",
        f"/admin/papers/paper/{harbours.pk}/change/",
    ]:
        response = editor_client.get(url)
        assert response.status_code == 200, url
        assert private(response), url
