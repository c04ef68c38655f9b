"""The draft compared, in the paper's admin: with the live version and with a review round as
submitted (text per section, claims added, removed, reworded, re-tagged), and reverting one
section to its text in the live version (an Event)."""

import re

import pytest
from django.test import Client

from papers import workflow
from papers.models import Event, Review, Round
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    SectionFactory,
    TagFactory,
    UserFactory,
    approved,
)

pytestmark = pytest.mark.django_db

COMPARE = "/admin/papers/paper/{}/compare/"
REVERT = "/admin/papers/paper/{}/compare/revert/{}/"
V1_BACKGROUND = "NATO forces are present in Estonia. Russia has not attacked a NATO member."


def edit(paper):
    """Reword the first claim, add one, re-tag another: the editor's work since publishing."""
    background = paper.sections.get(anchor="background")
    background.body = "NATO forces are present in Estonia and Latvia. Russia has not attacked."
    background.save()
    present, deterrence = paper.claims.order_by("pk")
    present.quote = "NATO forces are present in Estonia and Latvia."
    present.save()
    ClaimFactory(section=background, quote="Russia has not attacked.", kind="historical")
    deterrence.tags.add(TagFactory(slug="deterrence", name="Deterrence"))
    return paper


def text(response):
    """The page's words, tags stripped, spaces squashed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


class TestSinceTheLiveVersion:
    def test_it_shows_each_change_since_version_1(self, editor_client, published):
        edit(published)
        response = editor_client.get(COMPARE.format(published.pk))
        assert response.status_code == 200
        words = text(response)
        assert "Changes since version 1" in words
        assert "1 section edited, 1 claim added, 1 claim reworded, 1 claim re-tagged" in words
        assert "Tags: were none, now Deterrence." in words
        assert "[deleted: Estonia. ] [inserted: Estonia and Latvia. ]" in words
        assert "1 other section unchanged." in words

    def test_it_is_the_default_for_a_published_paper(self, editor_client, published):
        edit(published)
        default = editor_client.get(COMPARE.format(published.pk))
        chosen = editor_client.get(COMPARE.format(published.pk) + "?since=version")
        assert text(default) == text(chosen)

    def test_a_draft_as_published_has_no_differences(self, editor_client, published):
        response = editor_client.get(COMPARE.format(published.pk))
        assert "The draft reads exactly as version 1" in text(response)

    def test_review_statuses_are_those_publishing_would_give(
        self, editor, reviewer, editor_client, draft
    ):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        workflow.submit_paper(draft, by=editor)
        review = Review.objects.get(paper=draft)
        for claim in draft.claims.all():
            workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
        workflow.submit_review(review, by=reviewer, recommendation="approve")
        workflow.publish_paper(approved(draft), by=editor)
        unchecked = draft.claims.order_by("pk").first()
        unchecked.quote = "NATO forces are present"
        unchecked.save()
        words = text(editor_client.get(COMPARE.format(draft.pk) + "?since=version"))
        assert "re-assessed" in words.lower()
        assert "If published now: Reworded after review; not re-checked yet" in words

    def test_the_public_diff_names_re_tagged_claims_too(self, editor, published):
        published.claims.order_by("pk").last().tags.add(TagFactory(name="Deterrence"))
        workflow.publish_paper(approved(published), by=editor)
        words = text(Client().get(f"/papers/{published.slug}/diff/1/2/"))
        assert "1 claim re-tagged" in words
        assert "Tags: were none, now Deterrence." in words


class TestSinceARound:
    def test_it_compares_with_the_text_as_submitted(self, editor, reviewer, editor_client, draft):
        workflow.assign_reviewer(draft, reviewer, by=editor)
        workflow.submit_paper(draft, by=editor)
        assert Round.objects.filter(paper=draft, number=1).exists()
        edit(draft)
        response = editor_client.get(COMPARE.format(draft.pk))  # no version: the last round
        words = text(response)
        assert "Changes since round 1 as submitted" in words
        assert "1 claim added, 1 claim reworded, 1 claim re-tagged" in words
        assert "re-assessed" not in words.lower()
        assert b"Revert this section" not in response.content  # only to a published text

    def test_a_published_paper_lists_its_rounds_to_compare_with(
        self, editor, reviewer, editor_client, published
    ):
        workflow.assign_reviewer(published, reviewer, by=editor)
        workflow.submit_paper(published, by=editor)
        response = editor_client.get(COMPARE.format(published.pk))
        assert b'href="?since=1"' in response.content
        assert b"Changes since version 1" in response.content
        chosen = editor_client.get(COMPARE.format(published.pk) + "?since=1")
        assert "Changes since round 1 as submitted" in text(chosen)

    @pytest.mark.parametrize("since", ["2", "round", "version"])
    def test_a_round_or_version_the_paper_lacks_is_404(self, editor_client, draft, since):
        assert editor_client.get(COMPARE.format(draft.pk) + f"?since={since}").status_code == 404

    def test_a_paper_never_published_nor_submitted_has_nothing_to_compare(
        self, editor_client, draft
    ):
        response = editor_client.get(COMPARE.format(draft.pk))
        assert response.status_code == 200
        assert "nothing to compare the draft with yet" in text(response)


class TestThePage:
    def test_the_paper_page_links_to_it(self, editor_client, published):
        response = editor_client.get(f"/admin/papers/paper/{published.pk}/change/")
        assert f'href="{COMPARE.format(published.pk)}"'.encode() in response.content

    @pytest.mark.parametrize("staff", [False, True])
    def test_only_editors_see_it(self, published, staff):
        client = Client()
        client.force_login(UserFactory(is_staff=staff))
        response = client.get(COMPARE.format(published.pk))
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_its_queries_do_not_grow_with_the_paper(
        self, editor, editor_client, django_assert_num_queries
    ):
        pks = []
        for n in (1, 30):
            paper = PaperFactory(slug=f"p{n}")
            for position in range(n):
                section = SectionFactory(paper=paper, position=position)
                ClaimFactory(section=section)
            workflow.publish_paper(approved(paper), by=editor)
            for section in paper.sections.all():
                section.body += " More."
                section.save()
            pks.append(paper.pk)
        editor_client.get(COMPARE.format(pks[0]))
        for pk in pks:
            with django_assert_num_queries(15):
                response = editor_client.get(COMPARE.format(pk))
        assert response.content.count(b"Revert this section") == 30


class TestRevertingASection:
    def test_the_confirmation_shows_what_is_lost(self, editor_client, published):
        edit(published)
        response = editor_client.get(REVERT.format(published.pk, "background"))
        assert response.status_code == 200
        assert "[deleted: Estonia. ] [inserted: Estonia and Latvia. ]" in text(response)
        assert published.sections.get(anchor="background").body != V1_BACKGROUND

    def test_posting_puts_the_text_back_and_records_it(self, editor, editor_client, published):
        edit(published)
        opened_at = published.lock_version
        response = editor_client.post(REVERT.format(published.pk, "background"), follow=True)
        assert response.redirect_chain[-1][0] == COMPARE.format(published.pk) + "?since=version"
        background = published.sections.get(anchor="background")
        assert background.body == V1_BACKGROUND
        published.refresh_from_db()
        assert published.lock_version == opened_at + 1
        event = Event.objects.get(action=Event.Action.REVERT)
        assert (event.paper_id, event.actor, event.version_number) == (published.pk, editor, 1)
        assert "Background" in event.note

    def test_its_claims_are_re_anchored(self, editor, published):
        edit(published)
        workflow.revert_section(published, "background", by=editor)
        present, _, added = published.claims.order_by("pk")
        assert present.quote == "NATO forces are present in Estonia."
        assert not present.is_orphaned
        assert added.is_orphaned  # its words are not in the old text: kept, flagged

    def test_the_editor_is_told_of_orphaned_claims(self, editor_client, published):
        edit(published)
        response = editor_client.post(REVERT.format(published.pk, "background"), follow=True)
        assert "1 of its claims no longer match its text" in text(response)

    def test_it_counts_as_an_edit_of_an_approved_paper(self, editor, reviewer, published):
        edit(published)
        workflow.assign_reviewer(published, reviewer, by=editor)
        workflow.submit_paper(published, by=editor)
        approved(published)
        workflow.revert_section(published, "background", by=editor)
        published.refresh_from_db()
        assert published.stage == "in_review"
        assert Event.objects.filter(action=Event.Action.REOPEN).count() == 1

    def test_get_changes_nothing(self, editor_client, published):
        edit(published)
        editor_client.get(REVERT.format(published.pk, "background"))
        assert not Event.objects.filter(action=Event.Action.REVERT).exists()

    @pytest.mark.parametrize("anchor", ["outlook", "no-such-section"])
    def test_a_section_with_nothing_to_revert_is_refused(
        self, editor, editor_client, published, anchor
    ):
        edit(published)
        with pytest.raises(workflow.WrongStage):
            workflow.revert_section(published, anchor, by=editor)
        response = editor_client.post(REVERT.format(published.pk, anchor), follow=True)
        assert response.status_code == 200
        assert b'<li class="error">' in response.content
        assert not Event.objects.filter(action=Event.Action.REVERT).exists()

    def test_an_unpublished_paper_has_nothing_to_revert_to(self, editor, draft):
        with pytest.raises(workflow.WrongStage):
            workflow.revert_section(draft, "background", by=editor)

    def test_only_editors_revert(self, editor, reviewer, published):
        edit(published)
        workflow.assign_reviewer(published, reviewer, by=editor)
        with pytest.raises(workflow.NotAllowed):
            workflow.revert_section(published, "background", by=reviewer)
        assert published.sections.get(anchor="background").body != V1_BACKGROUND

    def test_it_needs_the_csrf_token(self, editor, published):
        """R8."""
        edit(published)
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor)
        assert client.post(REVERT.format(published.pk, "background")).status_code == 403
        assert published.sections.get(anchor="background").body != V1_BACKGROUND
