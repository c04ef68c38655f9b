"""The editors' admin: who may enter, a paper's own fields and claims, the publish action,
read-only records and people. The paper's outline and the section pages: tests/test_desk.py and
tests/test_sections.py."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.http import HttpRequest
from django.test import Client

from papers import workflow
from papers.models import Event, Paper, Source, Version
from tests.factories import UserFactory, approved

pytestmark = pytest.mark.django_db

ADMIN_URLS = [
    "/admin/",
    "/admin/papers/paper/",
    "/admin/papers/paper/add/",
    "/admin/papers/paper/{paper}/change/",
    "/admin/papers/claim/",
    "/admin/papers/claim/{claim}/change/",
    "/admin/papers/section/add/?paper={paper}",
    "/admin/papers/section/{section}/change/",
    "/admin/papers/tag/",
    "/admin/papers/source/",
    "/admin/papers/version/",
    "/admin/papers/version/{version}/change/",
    "/admin/papers/event/",
]


def login(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def staff_outsider(db):
    """Staff, but not in the Editors group."""
    return UserFactory(username="staff_outsider", is_staff=True)


@pytest.mark.parametrize("url", ADMIN_URLS)
@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("anonymous", False),
        ("outsider", False),
        ("reviewer", False),
        ("staff_outsider", False),
        ("editor", True),
        ("superuser", True),
    ],
)
def test_only_editors_and_superusers_enter_the_admin(request, published, persona, allowed, url):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    url = url.format(
        paper=published.pk,
        claim=published.claims.first().pk,
        section=published.sections.first().pk,
        version=published.live_version.pk,
    )
    response = login(user).get(url)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_removing_an_editor_from_the_group_closes_the_admin_at_once(editor_client, editor):
    assert editor_client.get("/admin/").status_code == 200
    editor.groups.clear()
    assert editor_client.get("/admin/").status_code == 302


def paper_form(paper=None, **fields):
    """POST data for the paper's change form: its own fields (sections and claims have pages of
    their own), and the version of the paper it was opened at (R28)."""
    return {
        "opened_version": paper.lock_version if paper is not None else "",
        "title": "Gateway papers",
        "slug": "gateway-papers",
        "standfirst": "",
        "byline": "",
        **fields,
    }


def test_an_editor_adds_a_paper_and_lands_on_its_page_to_add_sections(editor_client):
    response = editor_client.post("/admin/papers/paper/add/", paper_form())
    paper = Paper.objects.get(slug="gateway-papers")
    assert response["Location"] == f"/admin/papers/paper/{paper.pk}/change/"
    assert paper.events.get().action == "create"
    page = editor_client.get(response["Location"]).content.decode()
    assert f'href="/admin/papers/section/add/?paper={paper.pk}"' in page


def claim_form(paper, section, **fields):
    return {
        "paper": paper.pk,
        "section": section.pk,
        "prefix": "",
        "suffix": "",
        "kind": "factual",
        "note": "",
        # The sources' inline (none here), as the page's form sends it.
        "claimsource_set-TOTAL_FORMS": 0,
        "claimsource_set-INITIAL_FORMS": 0,
        **fields,
    }


def test_a_claim_whose_quote_is_not_in_its_section_is_refused(editor_client, draft):
    section = draft.sections.first()
    response = editor_client.post(
        f"/admin/papers/claim/add/?paper={draft.pk}",
        claim_form(draft, section, quote="Words nobody wrote."),
    )
    assert response.status_code == 200
    assert "do not appear in the section" in response.content.decode()
    assert draft.claims.count() == 2


def test_an_ambiguous_quote_asks_for_a_prefix_or_suffix(editor_client, draft):
    section = draft.sections.first()
    section.body = "Russia waits. Then Russia acts."
    section.save()
    response = editor_client.post(
        f"/admin/papers/claim/add/?paper={draft.pk}", claim_form(draft, section, quote="Russia")
    )
    assert "appears 2 times" in response.content.decode()
    response = editor_client.post(
        f"/admin/papers/claim/add/?paper={draft.pk}",
        claim_form(draft, section, quote="Russia", prefix="Then"),
    )
    assert response.status_code == 302
    assert draft.claims.filter(quote="Russia", prefix="Then").exists()


class TestPublishAction:
    def post_action(self, client, paper, **extra):
        return client.post(
            "/admin/papers/paper/",
            {"action": "publish", "_selected_action": [paper.pk], **extra},
        )

    def test_the_action_asks_for_a_change_note_first(self, editor_client, draft):
        response = self.post_action(editor_client, draft)
        assert response.status_code == 200
        assert "Change note" in response.content.decode()
        assert not Version.objects.exists()

    def test_applying_it_publishes(self, editor_client, draft):
        response = self.post_action(editor_client, approved(draft), apply="1", note="First.")
        assert response.status_code == 302
        version = Version.objects.get()
        assert (version.number, version.note) == (1, "First.")
        messages = [
            m.message for m in editor_client.get("/admin/papers/paper/").context["messages"]
        ]
        assert any("as version 1" in m for m in messages)

    def test_a_refusal_is_shown_as_a_message_not_an_error_page(self, editor_client, draft):
        response = self.post_action(editor_client, draft, apply="1", correction="on", note="x")
        assert response.status_code == 302
        assert not Version.objects.exists()
        page = editor_client.get("/admin/papers/paper/").content.decode()
        assert "was not published" in page and "Only a published paper can be corrected" in page

    def test_staff_without_the_publish_permission_cannot_publish(
        self, editor_client, editor, draft
    ):
        editor.groups.get().permissions.remove(Permission.objects.get(codename="publish_paper"))
        self.post_action(editor_client, draft, apply="1", note="Sneaky.")
        assert not Version.objects.exists()


class TestRecordsAreReadOnly:
    def test_a_version_cannot_be_edited_or_deleted_in_the_admin(self, superuser, published):
        client = login(superuser)
        version = published.live_version
        change = client.post(f"/admin/papers/version/{version.pk}/change/", {"title": "x"})
        assert change.status_code == 403
        assert (
            client.post(f"/admin/papers/version/{version.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        assert client.get("/admin/papers/version/add/").status_code == 403
        assert Version.objects.get().title == "Draft on deterrence"

    def test_events_cannot_be_deleted_in_the_admin(self, superuser, published):
        event = published.events.get()
        response = login(superuser).post(f"/admin/papers/event/{event.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403


class TestEditingAids:
    def test_the_preview_renders_like_the_public_page(self, editor_client):
        response = editor_client.post("/admin/markdown-preview/", {"content": "A *claim*."})
        assert response.content.decode() == "<p>A <em>claim</em>.</p>\n"

    def test_the_claim_page_shows_the_section_text_to_pick_from(self, editor_client, draft):
        claim = draft.claims.first()
        html = editor_client.get(f"/admin/papers/claim/{claim.pk}/change/").content.decode()
        assert "papers/claim-picker.js" in html
        assert "NATO forces are present in Estonia. Russia has not attacked a NATO member." in html


def test_a_source_address_typed_without_its_scheme_is_taken_as_https(editor_client):
    response = editor_client.post(
        "/admin/papers/source/add/",
        {"title": "Port statistics", "url": "stats.example.org/ports"},
    )
    assert response.status_code == 302
    assert Source.objects.get(title="Port statistics").url == "https://stats.example.org/ports"


class TestPeople:
    """Users are deactivated, never deleted, from the admin: their work and audit trail stay."""

    @pytest.fixture
    def root_client(self, superuser):
        client = Client()
        client.force_login(superuser)
        return client

    def test_no_one_can_delete_a_person(self, root_client, reviewer):
        assert root_client.get(f"/admin/auth/user/{reviewer.pk}/delete/").status_code == 403
        response = root_client.post(
            "/admin/auth/user/",
            {"action": "delete_selected", "_selected_action": [reviewer.pk], "post": "yes"},
        )
        assert response.status_code in (200, 302)
        assert get_user_model().objects.filter(pk=reviewer.pk).exists()

    def test_a_deactivated_person_keeps_their_events_and_cannot_sign_in(
        self, root_client, reviewer, editor, draft
    ):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        events = Event.objects.count()
        response = root_client.post(
            "/admin/auth/user/", {"action": "deactivate", "_selected_action": [reviewer.pk]}
        )
        assert response.status_code == 302
        reviewer.refresh_from_db()
        assert not reviewer.is_active
        assert Event.objects.count() == events + 1  # theirs, and the deactivation's
        password = "a long enough test passphrase"  # the factories'
        assert not Client().login(username="reviewer", password=password, request=HttpRequest())
        root_client.post(
            "/admin/auth/user/", {"action": "reactivate", "_selected_action": [reviewer.pk]}
        )
        reviewer.refresh_from_db()
        assert reviewer.is_active

    def test_no_one_deactivates_themselves(self, root_client, superuser):
        root_client.post(
            "/admin/auth/user/", {"action": "deactivate", "_selected_action": [superuser.pk]}
        )
        superuser.refresh_from_db()
        assert superuser.is_active
