"""Resetting a forgotten password by email at /accounts/password-reset/: end to end, the same
answer for any address, throttled per address and per client, and CSRF-protected (R8, R13)."""

import logging
import re

import pytest
from django.core import mail
from django.test import Client

from tests.factories import ReviewerFactory

pytestmark = pytest.mark.django_db

RESET = "/accounts/password-reset/"
SENT = "/accounts/password-reset/sent/"
NEW_PASSWORD = "a brand new passphrase for the reviewer"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.PASSWORD_RESETS_PER_ADDRESS = 3
    settings.PASSWORD_RESETS_PER_CLIENT = 10
    settings.SITE_URL = "https://papers.example.org"
    settings.SITE_NAME = "Baltic Policy Review"


def ask(email, client=None, address="203.0.113.7"):
    return (client or Client()).post(RESET, {"email": email}, REMOTE_ADDR=address)


def link_in(message):
    return re.search(r"https://papers\.example\.org(/accounts/password-reset/\S+/)", message.body)


class TestEndToEnd:
    def test_a_reviewer_sets_a_new_password_from_the_emailed_link_and_signs_in(self, reviewer):
        response = ask("reviewer@example.org")
        assert (response.status_code, response["Location"]) == (302, SENT)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["reviewer@example.org"]
        assert message.subject == "Set a new password for Baltic Policy Review"

        client = Client()
        form = client.get(link_in(message).group(1), follow=True)
        assert "Set a new password" in form.content.decode()
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
        assert done["Location"] == "/accounts/password-reset/done/"

        signed_in = Client().post(
            "/accounts/login/", {"username": "reviewer", "password": NEW_PASSWORD}
        )
        assert signed_in["Location"] == "/review/"
        old = Client().post(
            "/accounts/login/",
            {"username": "reviewer", "password": "a long enough test passphrase"},
        )
        assert old.status_code == 200  # the old password is gone

    def test_the_link_is_built_on_the_publication_s_address_not_the_request_s_host(self, reviewer):
        Client(HTTP_HOST="127.0.0.1").post(RESET, {"email": "reviewer@example.org"})
        assert link_in(mail.outbox[0]) is not None
        assert "127.0.0.1" not in mail.outbox[0].body

    def test_a_short_password_is_refused_and_the_link_still_works(self, reviewer):
        ask("reviewer@example.org")
        client = Client()
        form = client.get(link_in(mail.outbox[0]).group(1), follow=True)
        url = form.redirect_chain[-1][0]
        short = client.post(url, {"new_password1": "short1", "new_password2": "short1"})
        assert short.status_code == 200
        assert "at least 12 characters" in short.content.decode()
        assert (
            client.post(
                url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
            ).status_code
            == 302
        )

    def test_a_link_works_once(self, reviewer):
        ask("reviewer@example.org")
        path = link_in(mail.outbox[0]).group(1)
        client = Client()
        url = client.get(path, follow=True).redirect_chain[-1][0]
        client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        again = Client().get(path, follow=True)
        assert "This link no longer works" in again.content.decode()

    def test_an_editor_can_reset_too(self, editor):
        ask("editor@example.org")
        assert [m.to for m in mail.outbox] == [["editor@example.org"]]


class TestSameAnswer:
    def test_an_unknown_address_gets_the_same_answer_and_no_email(self, reviewer):
        known, unknown = ask("reviewer@example.org"), ask("nobody@example.org")
        assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
        assert len(mail.outbox) == 1

    def test_the_page_after_asking_does_not_say_whether_the_address_exists(self, reviewer):
        page = Client().get(SENT).content.decode()
        assert "If the address you entered belongs to" in page

    def test_an_inactive_account_gets_nothing(self, db):
        ReviewerFactory(username="gone", email="gone@example.org", is_active=False)
        assert ask("gone@example.org")["Location"] == SENT
        assert mail.outbox == []

    def test_an_account_without_a_role_gets_nothing(self, outsider):
        assert ask("outsider@example.org")["Location"] == SENT
        assert mail.outbox == []

    def test_a_malformed_address_re_renders_the_form(self, reviewer):
        response = ask("not an address")
        assert response.status_code == 200
        assert "Enter a valid email address" in response.content.decode()
        assert mail.outbox == []


class TestThrottle:
    def test_an_address_gets_at_most_three_emails_an_hour(self, reviewer, caplog):
        with caplog.at_level(logging.WARNING, logger="security"):
            answers = [ask("reviewer@example.org", address=f"198.51.100.{n}") for n in range(5)]
        assert {(a.status_code, a["Location"]) for a in answers} == {(302, SENT)}
        assert len(mail.outbox) == 3
        assert "password_reset.throttled" in caplog.text

    def test_the_address_limit_ignores_case_and_spaces(self, reviewer):
        for email in ["reviewer@example.org", "Reviewer@Example.org", " REVIEWER@example.org"]:
            ask(email, address="198.51.100.1")
        ask("reviewer@example.org", address="198.51.100.2")
        assert len(mail.outbox) == 3

    def test_one_client_gets_at_most_ten_requests_an_hour_across_addresses(self, settings, db):
        settings.PASSWORD_RESETS_PER_ADDRESS = 100
        for n in range(12):
            ReviewerFactory(username=f"r{n}", email=f"r{n}@example.org")
        for n in range(12):
            assert ask(f"r{n}@example.org")["Location"] == SENT
        assert len(mail.outbox) == 10
        # Another client is not held back by this one.
        ask("r11@example.org", address="192.0.2.50")
        assert len(mail.outbox) == 11

    def test_the_limits_are_settings(self, settings, reviewer):
        settings.PASSWORD_RESETS_PER_ADDRESS = 1
        ask("reviewer@example.org")
        ask("reviewer@example.org")
        assert len(mail.outbox) == 1


def test_the_form_is_csrf_protected(reviewer):
    """R8."""
    client = Client(enforce_csrf_checks=True)
    assert client.post(RESET, {"email": "reviewer@example.org"}).status_code == 403
    assert mail.outbox == []


def test_the_admin_sign_in_page_offers_the_reset_too(db):
    page = Client().get("/admin/login/").content.decode()
    assert 'href="/accounts/password-reset/"' in page
