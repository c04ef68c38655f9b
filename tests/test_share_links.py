"""Share links: /preview/<token>/ shows the working draft to someone without an account until it
expires or is revoked; only the token's hash is stored; editors make and revoke links in the
paper's admin page, each an Event."""

import base64
import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from papers import workflow
from papers.models import Event, ShareLink
from tests.factories import PaperFactory, UserFactory
from tests.test_preview import paper_with

pytestmark = pytest.mark.django_db


def url(token):
    return f"/preview/{token}/"


def share(paper, editor, **kwargs):
    return workflow.create_share_link(paper, by=editor, **kwargs)


def events(paper, action):
    return Event.objects.filter(paper=paper, action=action).count()


class TestCreating:
    def test_an_editor_gets_a_link_and_its_token_once(self, editor, draft):
        link, token = share(draft, editor, label="Dr Kask")
        assert link.paper == draft
        assert link.label == "Dr Kask"
        assert link.created_by == editor
        assert link.created_by_name == "Eda"
        assert ShareLink.objects.active().get() == link

    def test_the_token_carries_at_least_128_bits(self, editor, draft):
        tokens = {share(draft, editor)[1] for _ in range(20)}
        assert len(tokens) == 20
        for token in tokens:
            assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128

    def test_only_the_tokens_hash_is_stored(self, editor, draft):
        link, token = share(draft, editor, label="Dr Kask")
        row = ShareLink.objects.filter(pk=link.pk).values().get()
        assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
        assert all(token not in str(value) for value in row.values())
        assert all(token not in event.note for event in Event.objects.all())

    def test_it_lasts_seven_days_unless_told_otherwise(self, editor, draft):
        before = timezone.now()
        week, _ = share(draft, editor)
        month, _ = share(draft, editor, days=30)
        assert timedelta(days=7) <= week.expires_at - before < timedelta(days=7, minutes=1)
        assert timedelta(days=30) <= month.expires_at - before < timedelta(days=30, minutes=1)

    @pytest.mark.parametrize("days", [0, -1, 31, 365])
    def test_it_lasts_one_to_thirty_days(self, editor, draft, days):
        with pytest.raises(workflow.WorkflowError):
            share(draft, editor, days=days)
        assert not ShareLink.objects.exists()
        assert events(draft, Event.Action.SHARE) == 0

    @pytest.mark.parametrize("persona", ["reviewer", "outsider"])
    def test_only_editors_share_drafts(self, request, editor, draft, persona):
        workflow.assign_reviewer(draft, request.getfixturevalue("reviewer"), by=editor)
        with pytest.raises(workflow.NotAllowed):
            share(draft, request.getfixturevalue(persona))
        assert not ShareLink.objects.exists()

    def test_it_writes_exactly_one_event(self, editor, draft):
        link, _ = share(draft, editor, label="Dr Kask")
        event = Event.objects.get(action=Event.Action.SHARE)
        assert (event.paper_id, event.actor, event.to_stage) == (draft.pk, editor, "draft")
        assert "Dr Kask" in event.note
        assert Event.objects.count() == 1


class TestRevoking:
    def test_an_editor_revokes_a_link_with_one_event(self, editor, other_editor, draft):
        link, _ = share(draft, editor)
        workflow.revoke_share_link(link, by=other_editor)
        link.refresh_from_db()
        assert link.revoked_at is not None
        assert not ShareLink.objects.active().exists()
        event = Event.objects.get(action=Event.Action.UNSHARE)
        assert (event.paper_id, event.actor) == (draft.pk, other_editor)

    def test_a_link_is_revoked_once(self, editor, draft):
        link, _ = share(draft, editor)
        workflow.revoke_share_link(link, by=editor)
        with pytest.raises(workflow.WrongStage):
            workflow.revoke_share_link(link, by=editor)
        assert events(draft, Event.Action.UNSHARE) == 1

    def test_only_editors_revoke_links(self, editor, reviewer, draft):
        link, _ = share(draft, editor)
        with pytest.raises(workflow.NotAllowed):
            workflow.revoke_share_link(link, by=reviewer)
        assert ShareLink.objects.active().exists()


class TestTheSharedPage:
    def test_anyone_with_the_link_reads_the_draft_without_signing_in(self, editor, draft):
        _, token = share(draft, editor)
        response = Client().get(url(token))
        assert response.status_code == 200
        assert b"Draft on deterrence" in response.content
        assert b'class="claim claim--factual"' in response.content
        assert b"Draft, not published" in response.content
        assert b"share link" in response.content

    def test_it_shows_the_draft_as_it_is_now(self, editor, draft):
        _, token = share(draft, editor)
        client = Client()
        client.get(url(token))
        section = draft.sections.first()
        section.body += " Written after the link was sent."
        section.save()
        assert b"Written after the link was sent." in client.get(url(token)).content

    def test_it_is_private_unindexed_and_keeps_its_address_to_itself(self, editor, draft):
        _, token = share(draft, editor)
        response = Client().get(url(token))
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Robots-Tag"] == "noindex"
        assert response["Referrer-Policy"] == "no-referrer"
        assert b'<meta name="robots" content="noindex">' in response.content

    def test_it_is_read_only(self, editor, draft):
        _, token = share(draft, editor)
        assert Client().post(url(token)).status_code == 405
        response = Client().get(url(token))
        assert b"/admin/" not in response.content
        assert f"/review/{draft.slug}/".encode() not in response.content

    def test_it_shows_no_reviewers_verdicts(self, editor, draft):
        _, token = share(draft, editor)
        response = Client().get(url(token))
        assert b"verdicts are not shown" in response.content
        assert b"How this version was checked" not in response.content

    def test_a_revoked_link_answers_404(self, editor, draft):
        link, token = share(draft, editor)
        workflow.revoke_share_link(link, by=editor)
        response = Client().get(url(token))
        assert response.status_code == 404
        assert b"Draft on deterrence" not in response.content

    def test_an_expired_link_answers_404(self, editor, draft, monkeypatch):
        _, token = share(draft, editor, days=1)
        assert Client().get(url(token)).status_code == 200
        later = timezone.now() + timedelta(days=1, seconds=1)
        monkeypatch.setattr(timezone, "now", lambda: later)
        assert Client().get(url(token)).status_code == 404

    def test_every_dead_link_gets_the_same_answer(self, editor, draft, monkeypatch):
        revoked, revoked_token = share(draft, editor)
        workflow.revoke_share_link(revoked, by=editor)
        _, expired_token = share(draft, editor, days=1)
        unknown_token = ShareLink.new_token()[0]
        later = timezone.now() + timedelta(days=2)
        monkeypatch.setattr(timezone, "now", lambda: later)
        answers = set()
        for token in (revoked_token, expired_token, unknown_token, "not-a-token"):
            response = Client().get(url(token))
            assert response.status_code == 404
            answers.add(response.content.replace(token.encode(), b"TOKEN"))
        assert len(answers) == 1

    def test_a_link_opens_only_its_own_paper(self, editor, draft):
        other = PaperFactory(title="Another paper entirely")
        _, token = share(other, editor)
        response = Client().get(url(token))
        assert b"Another paper entirely" in response.content
        assert draft.title.encode() not in response.content

    def test_a_published_papers_link_shows_its_draft_not_the_live_version(self, editor, published):
        section = published.sections.first()
        section.body += " Only in the draft."
        section.save()
        _, token = share(published, editor)
        response = Client().get(url(token))
        assert b"Only in the draft." in response.content
        assert b"Readers still see" in response.content

    def test_its_queries_do_not_grow_with_the_paper(self, editor, django_assert_num_queries):
        tokens = [share(paper_with(n, slug=f"p{n}"), editor)[1] for n in (1, 40)]
        for token in tokens:
            with django_assert_num_queries(7):
                Client().get(url(token))


CHANGE = "/admin/papers/paper/{}/change/"
SHARE = "/admin/papers/paper/{}/share/"
REVOKE = "/admin/papers/paper/{}/share/{}/revoke/"


class TestTheAdminPanel:
    def test_the_paper_page_lists_the_active_links(self, editor, editor_client, draft):
        share(draft, editor, label="Dr Kask")
        revoked, _ = share(draft, editor, label="Prof Tamm")
        workflow.revoke_share_link(revoked, by=editor)
        response = editor_client.get(CHANGE.format(draft.pk))
        panel = re.search(
            rb'<div class="module" id="drafts">.*?</form>\s*</div>', response.content, re.S
        )[0]
        assert b"Dr Kask" in panel
        assert b"Eda" in panel
        assert b"Prof Tamm" not in panel
        assert panel.count(b'value="Revoke"') == 1

    def test_creating_a_link_shows_its_address_once(self, editor_client, draft):
        response = editor_client.post(SHARE.format(draft.pk), {"label": "Dr Kask", "days": "3"})
        assert response.status_code == 200
        assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
        token = re.search(rb'value="http://[^"]+/preview/([^/"]+)/"', response.content)[1].decode()
        link = ShareLink.objects.get()
        assert link.token_hash == ShareLink.hash(token)
        assert link.label == "Dr Kask"
        assert timedelta(days=2, hours=23) < link.expires_at - timezone.now() <= timedelta(days=3)
        assert token.encode() not in editor_client.get(CHANGE.format(draft.pk)).content
        assert Client().get(url(token)).status_code == 200

    @pytest.mark.parametrize("days", ["0", "31", "seven", ""])
    def test_a_bad_length_is_refused_with_a_message(self, editor_client, draft, days):
        response = editor_client.post(SHARE.format(draft.pk), {"label": "x", "days": days})
        assert response.status_code == 200
        assert b"errorlist" in response.content
        assert not ShareLink.objects.exists()
        assert events(draft, Event.Action.SHARE) == 0

    def test_the_share_page_shows_the_form_on_get_and_changes_nothing(self, editor_client, draft):
        response = editor_client.get(SHARE.format(draft.pk))
        assert response.status_code == 200
        assert b'name="days"' in response.content
        assert not ShareLink.objects.exists()

    def test_revoking_from_the_panel(self, editor, editor_client, draft):
        link, token = share(draft, editor)
        response = editor_client.post(REVOKE.format(draft.pk, link.pk))
        assert response.status_code == 302
        assert response["Location"] == CHANGE.format(draft.pk) + "#drafts"
        assert Client().get(url(token)).status_code == 404
        assert events(draft, Event.Action.UNSHARE) == 1

    def test_revoking_twice_says_so(self, editor, editor_client, draft):
        link, _ = share(draft, editor)
        editor_client.post(REVOKE.format(draft.pk, link.pk))
        response = editor_client.post(REVOKE.format(draft.pk, link.pk), follow=True)
        assert b"already revoked" in response.content
        assert events(draft, Event.Action.UNSHARE) == 1

    def test_revoking_is_post_only(self, editor, editor_client, draft):
        link, token = share(draft, editor)
        assert editor_client.get(REVOKE.format(draft.pk, link.pk)).status_code == 405
        assert Client().get(url(token)).status_code == 200

    def test_a_link_is_revoked_only_through_its_own_paper(self, editor, editor_client, draft):
        other = PaperFactory(title="Other", slug="other")
        link, token = share(other, editor)
        assert editor_client.post(REVOKE.format(draft.pk, link.pk)).status_code == 404
        assert Client().get(url(token)).status_code == 200

    @pytest.mark.parametrize("staff", [False, True])
    def test_people_who_are_not_editors_cannot_share(self, draft, staff):
        client = Client()
        client.force_login(UserFactory(is_staff=staff))
        response = client.post(SHARE.format(draft.pk), {"days": "7"})
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
        assert not ShareLink.objects.exists()

    def test_forms_need_their_csrf_token(self, editor, draft):
        """R8."""
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor)
        assert client.post(SHARE.format(draft.pk), {"days": "7"}).status_code == 403
        link, _ = share(draft, editor)
        assert client.post(REVOKE.format(draft.pk, link.pk)).status_code == 403
        assert ShareLink.objects.active().count() == 1
