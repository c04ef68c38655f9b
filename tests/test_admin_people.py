"""People in the admin: deactivating and reactivating someone is an event in the audit log,
whichever way it is done (the list's actions or the person's own page)."""

import pytest
from django.test import Client

from papers.models import Event
from tests.factories import ReviewerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def people_events():
    return list(
        Event.objects.filter(action__in=["deactivate", "reactivate"])
        .order_by("pk")
        .values_list("action", "actor_name", "note")
    )


def act(client, action, *people):
    return client.post(
        "/admin/auth/user/", {"action": action, "_selected_action": [p.pk for p in people]}
    )


def test_deactivating_and_reactivating_write_an_event_per_person(root_client, reviewer):
    other = ReviewerFactory(username="other_reviewer")
    assert act(root_client, "deactivate", reviewer, other).status_code == 302
    assert act(root_client, "reactivate", reviewer).status_code == 302
    assert people_events() == [
        ("deactivate", "root", "other_reviewer"),
        ("deactivate", "root", "reviewer"),
        ("reactivate", "root", "reviewer"),
    ]
    reviewer.refresh_from_db()
    other.refresh_from_db()
    assert (reviewer.is_active, other.is_active) == (True, False)


def test_someone_already_inactive_is_not_deactivated_again(root_client, reviewer):
    act(root_client, "deactivate", reviewer)
    act(root_client, "deactivate", reviewer)
    act(root_client, "reactivate", ReviewerFactory(username="active_one"))
    assert people_events() == [("deactivate", "root", "reviewer")]


def test_a_refused_self_deactivation_writes_nothing(root_client, superuser, reviewer):
    act(root_client, "deactivate", superuser, reviewer)
    reviewer.refresh_from_db()
    assert reviewer.is_active and people_events() == []


def test_unticking_active_on_a_persons_page_is_an_event_too(root_client, reviewer):
    # The person's page as saved with "Active" unticked (an unticked box is not sent).
    data = {
        "username": "reviewer",
        "email": "reviewer@example.org",
        "groups": [group.pk for group in reviewer.groups.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = root_client.post(f"/admin/auth/user/{reviewer.pk}/change/", data)
    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert not reviewer.is_active
    assert people_events() == [("deactivate", "root", "reviewer")]
    data["is_active"] = "on"
    root_client.post(f"/admin/auth/user/{reviewer.pk}/change/", data)
    assert people_events()[-1] == ("reactivate", "root", "reviewer")
