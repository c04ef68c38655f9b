"""The editors' admin: who may enter, editing a paper on one page, and the publish action."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.http import HttpRequest
from django.test import Client

from papers import workflow
from papers.models import Claim, Event, Paper, Section, Source, Version
from tests.factories import UserFactory, approved

pytestmark = pytest.mark.django_db

ADMIN_URLS = [
    "/admin/",
    "/admin/papers/paper/",
    "/admin/papers/paper/add/",
    "/admin/papers/paper/{paper}/change/",
    "/admin/papers/claim/",
    "/admin/papers/claim/{claim}/change/",
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
        paper=published.pk, claim=published.claims.first().pk, version=published.live_version.pk
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


def paper_form(paper=None, *, sections=(), claims=(), **fields):
    """POST data for the paper change form with its section and claim inlines; a change form
    carries the version of the paper it was opened at (R28)."""
    data = {
        "opened_version": paper.lock_version if paper is not None else "",
        "title": "Gateway papers",
        "slug": "gateway-papers",
        "standfirst": "",
        "byline": "",
        "sections-TOTAL_FORMS": len(sections),
        "sections-INITIAL_FORMS": sum(1 for s in sections if s.get("id")),
        "sections-MIN_NUM_FORMS": 0,
        "sections-MAX_NUM_FORMS": 1000,
        "claims-TOTAL_FORMS": len(claims),
        "claims-INITIAL_FORMS": sum(1 for c in claims if c.get("id")),
        "claims-MIN_NUM_FORMS": 0,
        "claims-MAX_NUM_FORMS": 1000,
        **fields,
    }
    for prefix, rows in (("sections", sections), ("claims", claims)):
        for n, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{n}-{key}"] = value
            if paper is not None:
                data[f"{prefix}-{n}-paper"] = paper.pk
    return data


def test_an_editor_writes_a_paper_with_sections_on_one_page(editor_client):
    response = editor_client.post(
        "/admin/papers/paper/add/",
        paper_form(
            sections=[
                {"position": 0, "heading": "Background", "body": "The *port* is deep."},
                {"position": 1, "heading": "Background", "body": "More background."},
            ]
        ),
    )
    assert response.status_code == 302
    paper = Paper.objects.get(slug="gateway-papers")
    assert [s.anchor for s in paper.sections.all()] == ["background", "background-2"]
    assert "<em>port</em>" in paper.sections.first().body_html


def existing_rows(paper):
    return [
        {
            "id": s.pk,
            "position": s.position,
            "heading": s.heading,
            "anchor": s.anchor,
            "body": s.body,
        }
        for s in paper.sections.all()
    ]


def claim_rows(paper):
    return [
        {
            "id": c.pk,
            "section": c.section_id,
            "quote": c.quote,
            "kind": c.kind,
            "prefix": "",
            "suffix": "",
        }
        for c in paper.claims.all()
    ]


def test_a_claim_whose_quote_is_not_in_its_section_is_refused(editor_client, draft):
    section = draft.sections.first()
    data = paper_form(
        draft,
        title=draft.title,
        slug=draft.slug,
        sections=existing_rows(draft),
        claims=[
            *claim_rows(draft),
            {"section": section.pk, "quote": "Words nobody wrote.", "kind": "factual"},
        ],
    )
    response = editor_client.post(f"/admin/papers/paper/{draft.pk}/change/", data)
    assert response.status_code == 200
    assert "do not appear in the section" in response.content.decode()
    assert draft.claims.count() == 2


def test_an_ambiguous_quote_asks_for_a_prefix_or_suffix(editor_client, draft):
    section = draft.sections.first()
    section.body = "Russia waits. Then Russia acts."
    section.save()
    Claim.objects.filter(section=section).delete()
    data = paper_form(
        draft,
        title=draft.title,
        slug=draft.slug,
        sections=existing_rows(draft),
        claims=[*claim_rows(draft), {"section": section.pk, "quote": "Russia", "kind": "factual"}],
    )
    response = editor_client.post(f"/admin/papers/paper/{draft.pk}/change/", data)
    assert "appears 2 times" in response.content.decode()


def test_a_section_edit_and_its_claim_are_validated_together(editor_client, draft):
    """The claim is checked against the section text submitted in the same form."""
    rows = existing_rows(draft)
    rows[0]["body"] = "A new sentence about Narva."
    claims = claim_rows(draft)
    claims[0]["quote"] = "A new sentence about Narva."
    response = editor_client.post(
        f"/admin/papers/paper/{draft.pk}/change/",
        paper_form(draft, title=draft.title, slug=draft.slug, sections=rows, claims=claims),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Claim.objects.get(pk=claims[0]["id"]).quote == "A new sentence about Narva."


def test_a_section_anchor_stays_when_its_heading_changes(editor_client, draft):
    rows = existing_rows(draft)
    rows[0]["heading"] = "Context"
    editor_client.post(
        f"/admin/papers/paper/{draft.pk}/change/",
        paper_form(
            draft, title=draft.title, slug=draft.slug, sections=rows, claims=claim_rows(draft)
        ),
    )
    section = Section.objects.get(pk=rows[0]["id"])
    assert (section.heading, section.anchor) == ("Context", "background")


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
    def test_section_bodies_use_the_markdown_editor_with_our_preview(self, editor_client, draft):
        html = editor_client.get(f"/admin/papers/paper/{draft.pk}/change/").content.decode()
        assert 'data-markdownx-urls-path="/admin/markdown-preview/"' in html
        assert "markdownx/js/markdownx" in html

    def test_the_preview_renders_like_the_public_page(self, editor_client):
        response = editor_client.post("/admin/markdown-preview/", {"content": "A *claim*."})
        assert response.content.decode() == "<p>A <em>claim</em>.</p>\n"

    def test_the_claim_page_shows_the_section_text_to_pick_from(self, editor_client, draft):
        claim = draft.claims.first()
        html = editor_client.get(f"/admin/papers/claim/{claim.pk}/change/").content.decode()
        assert "papers/claim-picker.js" in html
        assert "NATO forces are present in Estonia. Russia has not attacked a NATO member." in html


class TestReanchoringOnSave:
    def save(self, client, paper, rows):
        return client.post(
            f"/admin/papers/paper/{paper.pk}/change/",
            paper_form(
                paper, title=paper.title, slug=paper.slug, sections=rows, claims=claim_rows(paper)
            ),
            follow=True,
        )

    def test_a_small_edit_re_anchors_the_claim_to_the_new_words(self, editor_client, draft):
        rows = existing_rows(draft)
        rows[0]["body"] = rows[0]["body"].replace("are present in", "are stationed in")
        response = self.save(editor_client, draft, rows)
        assert response.status_code == 200
        claim = draft.claims.get(section_id=rows[0]["id"])
        assert claim.quote == "NATO forces are stationed in Estonia."
        assert not claim.orphaned

    def test_a_rewrite_orphans_the_claim_keeps_its_old_words_and_warns(self, editor_client, draft):
        rows = existing_rows(draft)
        rows[0]["body"] = "The whole paragraph was rewritten from scratch."
        response = self.save(editor_client, draft, rows)
        claim = draft.claims.get(section_id=rows[0]["id"])
        assert claim.orphaned and claim.quote == "NATO forces are present in Estonia."
        assert "is marked orphaned" in response.content.decode()


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
        assert Event.objects.count() == events
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
