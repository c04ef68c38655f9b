"""Signing in and out at /accounts/ (R11, R24), and where signing in leads."""

import pytest
from django.test import Client

from tests.factories import EditorFactory, ReviewerFactory, role

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough test passphrase"


def test_a_reviewer_signs_in_and_the_session_id_changes(reviewer):
    client = Client()
    client.get("/accounts/login/")
    client.cookies["sessionid"] = "made-up-before-login"
    response = client.post("/accounts/login/", {"username": "reviewer", "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies["sessionid"].value != "made-up-before-login"


def sign_in(username, **extra):
    return Client().post("/accounts/login/", {"username": username, "password": PASSWORD, **extra})


def test_a_reviewer_without_next_goes_to_their_assignments(reviewer):
    assert sign_in("reviewer")["Location"] == "/review/"


def test_an_editor_without_next_goes_where_editors_always_went(editor):
    assert sign_in("editor")["Location"] == "/"


def test_an_editor_who_also_reviews_is_taken_as_an_editor(db):
    EditorFactory(username="both").groups.add(role("Reviewers"))
    assert sign_in("both")["Location"] == "/"


def test_someone_without_a_role_goes_to_the_home_page(outsider):
    assert sign_in("outsider")["Location"] == "/"


def test_a_deactivated_reviewer_cannot_sign_in(db):
    ReviewerFactory(username="gone", is_active=False)
    response = sign_in("gone")
    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session


def test_a_wrong_password_re_renders_the_form_with_a_message(reviewer):
    response = Client().post("/accounts/login/", {"username": "reviewer", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "http:/evil.example"]
)
def test_next_is_followed_only_to_this_site(reviewer, editor, target):
    """R24: a foreign `next` is dropped for the default of each role."""
    assert sign_in("reviewer", next=target)["Location"] == "/review/"
    assert sign_in("editor", next=target)["Location"] == "/"


def test_next_to_a_page_of_this_site_is_followed(reviewer):
    assert sign_in("reviewer", next="/papers/")["Location"] == "/papers/"


def test_the_sign_in_page_links_to_the_password_reset(db):
    page = Client().get("/accounts/login/").content.decode()
    assert 'href="/accounts/password-reset/"' in page


def test_logout_is_post_only_and_ends_the_session(reviewer):
    client = Client()
    client.force_login(reviewer)
    old_session = client.cookies["sessionid"].value
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    replay = Client()
    replay.cookies["sessionid"] = old_session
    assert replay.get("/accounts/login/").context["user"].is_anonymous


def test_the_sign_in_page_carries_the_publication_s_name_not_the_host(db, settings):
    settings.SITE_NAME = "Baltic Policy Review"
    page = Client(HTTP_HOST="127.0.0.1").get("/accounts/login/").content.decode()
    assert "<title>Sign in · Baltic Policy Review</title>" in page
    assert "127.0.0.1 publishes" not in page
