"""The audit trail (R26): sign-ins, and editors' saves and deletions, beside workflow steps."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from papers import audit
from papers.models import Event
from tests.factories import PaperFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough test passphrase"


def test_a_sign_in_is_recorded_with_who_and_from_where(reviewer):
    Client(REMOTE_ADDR="203.0.113.7").post(
        "/accounts/login/", {"username": "reviewer", "password": PASSWORD}
    )
    event = Event.objects.get(action="sign_in")
    assert (event.actor, event.actor_name, event.note) == (reviewer, "reviewer", "from 203.0.113.7")


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_failed_sign_in_is_recorded_without_the_password(reviewer, url):
    Client().post(url, {"username": "reviewer", "password": "guess-123"})
    event = Event.objects.get(action="sign_in_failed")
    assert event.actor is None
    assert "reviewer" in event.note and "guess-123" not in event.note


def test_creating_editing_and_deleting_a_paper_in_the_admin_are_recorded(editor_client):
    editor_client.post(
        "/admin/papers/paper/add/",
        {
            "title": "Audit me",
            "slug": "audit-me",
            "standfirst": "",
            "byline": "",
            **{f"{p}-{k}": v for p in ("sections", "claims") for k, v in MANAGEMENT.items()},
        },
    )
    paper_id = Event.objects.get(action="create").paper_id
    editor_client.post(f"/admin/papers/paper/{paper_id}/delete/", {"post": "yes"})
    deleted = Event.objects.get(action="delete")
    assert (deleted.paper_id, deleted.paper_title, deleted.actor_name) == (
        paper_id,
        "Audit me",
        "Eda",
    )


MANAGEMENT = {"TOTAL_FORMS": 0, "INITIAL_FORMS": 0, "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}


def test_events_outlive_the_people_and_papers_they_name(editor):
    paper = PaperFactory()
    Client().force_login(editor)  # a sign-in event by the editor
    audit.record(audit.Action.EDIT, by=editor, paper=paper)
    paper.delete()
    get_user_model().objects.filter(pk=editor.pk).delete()
    assert Event.objects.filter(actor_id=editor.pk).count() == 2
    assert Event.objects.get(action="edit").paper_title == paper.title
