"""What was approved is what gets published: an approval records a fingerprint of the reviewable
content; any change to it puts the paper back in review (with an event and emails), and every
publishing path refuses content that no longer matches the approval."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from papers import workflow
from papers.models import Claim, Event, Paper, Review, Round, Source, Tag, Version
from papers.workflow import WrongStage, content
from tests.factories import SectionFactory, SourceFactory, TagFactory

pytestmark = pytest.mark.django_db

Stage = Paper.Stage


def approve(paper, *, editor, approver, reviewer, publish_at=None):
    """Through a complete review round (`editor` submits, `reviewer` assesses every claim) to an
    approval by `approver`."""
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    review = Review.objects.get(paper=paper, reviewer=reviewer)
    for claim in paper.claims.all():
        workflow.assess_claim(review, claim, by=reviewer, verdict="supported")
    workflow.submit_review(review, by=reviewer, recommendation="approve")
    return workflow.approve_paper(paper, by=approver, publish_at=publish_at)


@pytest.fixture
def approved_paper(draft, editor, other_editor, reviewer):
    """The draft, written by `editor`, reviewed by `reviewer` and approved by `other_editor`."""
    draft.authors.add(editor)
    return approve(draft, editor=editor, approver=other_editor, reviewer=reviewer)


def current(paper):
    return Paper.objects.get(pk=paper.pk)


def edit_title(paper, title="A quietly changed title"):
    Paper.objects.filter(pk=paper.pk).update(title=title)


def reopened_events():
    return list(Event.objects.filter(action=Event.Action.REOPEN))


# --- The fingerprint --------------------------------------------------------------------------


def change_title(paper):
    paper.title = "Another title"
    paper.save()


def change_standfirst(paper):
    paper.standfirst = "Another lede."
    paper.save()


def change_heading(paper):
    section = paper.sections.first()
    section.heading = "Another heading"
    section.save()


def change_body(paper):
    section = paper.sections.first()
    section.body += " One more sentence."
    section.save()


def reorder_sections(paper):
    first, second = paper.sections.all()
    first.position, second.position = second.position, first.position
    first.save()
    second.save()


def add_section(paper):
    SectionFactory(paper=paper, heading="Annex", position=9)


def change_claim_kind(paper):
    paper.claims.filter(kind="factual").update(kind="historical")


def change_claim_context(paper):
    paper.claims.filter(kind="factual").update(suffix=" Russia has not")


def change_claim_note(paper):
    paper.claims.filter(kind="factual").update(note="A note for readers.")


def tag_a_claim(paper):
    paper.claims.first().tags.add(TagFactory(name="Estonia", slug="estonia"))


def tag_the_paper(paper):
    paper.tags.add(TagFactory(name="NATO", slug="nato"))


def rename_a_tag(paper):
    tag_the_paper(paper)
    before = content.fingerprint(paper)
    Tag.objects.filter(slug="nato").update(name="North Atlantic Treaty Organization")
    return before


def cite_a_source(paper):
    paper.claims.first().sources.add(SourceFactory(title="Treaty"))


def edit_a_source(paper):
    cite_a_source(paper)
    before = content.fingerprint(paper)
    Source.objects.filter(title="Treaty").update(quote="Article 5.")
    return before


@pytest.mark.parametrize(
    "change",
    [
        change_title,
        change_standfirst,
        change_heading,
        change_body,
        reorder_sections,
        add_section,
        change_claim_kind,
        change_claim_context,
        change_claim_note,
        tag_a_claim,
        tag_the_paper,
        rename_a_tag,
        cite_a_source,
        edit_a_source,
    ],
)
def test_the_fingerprint_covers_every_reviewable_part(draft, change):
    before = content.fingerprint(draft)
    before = change(draft) or before
    assert content.fingerprint(current(draft)) != before


def test_the_byline_slug_and_review_are_not_part_of_the_fingerprint(
    draft, editor, reviewer, other_editor
):
    before = content.fingerprint(draft)
    draft.authors.add(editor)
    Paper.objects.filter(pk=draft.pk).update(byline="Someone Else", slug="moved")
    approve(current(draft), editor=editor, approver=other_editor, reviewer=reviewer)
    assert content.fingerprint(current(draft)) == before == current(draft).approved_fingerprint


def test_line_endings_typed_in_a_browser_do_not_change_the_fingerprint(draft):
    section = draft.sections.get(heading="Outlook")
    section.body = "First line.\nSecond line."
    section.save()
    before = content.fingerprint(draft)
    section.body = "First line.\r\nSecond line.\r\n"
    section.save()
    assert content.fingerprint(draft) == before


# --- An edit after approval -------------------------------------------------------------------


def test_an_edit_after_approval_puts_the_paper_back_in_review_and_tells_who_vouched_for_it(
    approved_paper, editor, other_editor, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    Paper.objects.filter(pk=approved_paper.pk).update(publish_at=timezone.now() + timedelta(days=1))
    edit_title(approved_paper)
    section = approved_paper.sections.get(heading="Background")
    section.body += " Estonia spends two per cent of its GDP on defence."
    section.save()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.record_edit(approved_paper, by=editor, what="title, sections")
    paper = current(approved_paper)
    assert (paper.stage, paper.round, paper.publish_at, paper.approved_fingerprint) == (
        Stage.IN_REVIEW,
        1,
        None,
        "",
    )
    (event,) = reopened_events()
    assert (event.actor, event.from_stage, event.to_stage) == (editor, "approved", "in_review")
    assert event.note == "title; section “Background”"
    # The submitted review stays submitted: the round goes on.
    assert Review.objects.get(paper=paper).status == Review.Status.SUBMITTED
    assert sorted(address for mail in mailoutbox for address in mail.to) == [
        "other_editor@example.org",
        "reviewer@example.org",
    ]
    mail = mailoutbox[0]
    assert mail.subject == "“A quietly changed title” is back in review after an edit"
    assert "- title\n- section “Background”\n" in mail.body


def test_a_reworded_claim_is_named_and_its_verdicts_no_longer_count(
    approved_paper, editor, other_editor
):
    claim = approved_paper.claims.get(kind="factual")
    section = claim.section
    section.body = section.body.replace("are present in", "are stationed in")
    section.save()
    Claim.objects.filter(pk=claim.pk).update(quote="NATO forces are stationed in Estonia.")
    workflow.record_edit(approved_paper, by=editor)
    (event,) = reopened_events()
    assert event.note == f"section “Background”; claim {claim.public_id} reworded"
    review = Review.objects.with_coverage().get(paper=approved_paper)
    assert (review.assessed, review.claim_total) == (1, 2)
    with pytest.raises(WrongStage):
        workflow.approve_paper(current(approved_paper), by=other_editor)


def test_an_edit_of_nothing_reviewable_keeps_the_approval(approved_paper, editor):
    Paper.objects.filter(pk=approved_paper.pk).update(byline="Ana Kask and Jonas Petraitis")
    workflow.record_edit(approved_paper, by=editor)
    assert current(approved_paper).stage == Stage.APPROVED
    assert reopened_events() == []


def test_an_edit_undone_before_anyone_noticed_keeps_the_approval(approved_paper, editor):
    title = approved_paper.title
    edit_title(approved_paper)
    edit_title(approved_paper, title)
    workflow.record_edit(approved_paper, by=editor)
    assert current(approved_paper).stage == Stage.APPROVED


def test_the_editor_who_puts_it_back_in_review_cannot_approve_it_again(
    approved_paper, editor, other_editor, superuser
):
    edit_title(approved_paper)
    workflow.record_edit(approved_paper, by=other_editor)
    assert set(Round.objects.get().editors.all()) == {other_editor}
    with pytest.raises(workflow.NotAllowed):
        workflow.approve_paper(current(approved_paper), by=other_editor)
    # Another editor, who neither wrote nor changed it, vouches for the new text.
    workflow.approve_paper(current(approved_paper), by=superuser)
    assert content.matches_approval(current(approved_paper))


def test_without_a_round_recorded_the_edit_is_described_by_its_caller(approved_paper, editor):
    Round.objects.all().delete()  # a paper approved before rounds were recorded
    edit_title(approved_paper)
    workflow.record_edit(approved_paper, by=editor, what="title")
    assert reopened_events()[0].note == "title"


def test_an_edit_of_a_draft_changes_nothing_in_the_workflow(draft, editor):
    edit_title(draft)
    workflow.record_edit(draft, by=editor, what="title")
    assert current(draft).stage == Stage.DRAFT
    assert not Event.objects.exists()


# --- Every publishing path refuses what was not approved ---------------------------------------


def test_publishing_refuses_content_changed_behind_the_workflows_back(approved_paper, other_editor):
    """The last guard: a path that saved content without telling the workflow."""
    edit_title(approved_paper)
    with pytest.raises(WrongStage):
        workflow.publish_paper(current(approved_paper), by=other_editor)
    with pytest.raises(WrongStage):
        workflow.publish_paper(current(approved_paper), by=None)
    assert not Version.objects.exists()


def test_an_approval_that_recorded_no_fingerprint_cannot_be_published(draft, other_editor):
    Paper.objects.filter(pk=draft.pk).update(stage=Stage.APPROVED)
    with pytest.raises(WrongStage):
        workflow.publish_paper(current(draft), by=other_editor)
    assert not Version.objects.exists()


def test_publishing_what_was_approved_goes_ahead(approved_paper, editor):
    version = workflow.publish_paper(current(approved_paper), by=editor)
    assert version.title == approved_paper.title
    assert current(approved_paper).approved_fingerprint == ""


def test_an_edit_in_the_admin_then_publish_is_refused(
    approved_paper, editor, editor_client, other_editor
):

    response = editor_client.post(
        f"/admin/papers/paper/{approved_paper.pk}/change/",
        {
            "opened_version": approved_paper.lock_version,
            "title": "Title changed after approval",
            "slug": approved_paper.slug,
            "standfirst": approved_paper.standfirst,
            "byline": approved_paper.byline,
            "authors": [editor.pk],
        },
        follow=True,
    )
    assert "back in review" in response.content.decode()
    assert current(approved_paper).stage == Stage.IN_REVIEW
    assert reopened_events()[0].note == "title"
    with pytest.raises(WrongStage):
        workflow.publish_paper(current(approved_paper), by=other_editor)


def test_the_admin_publish_action_refuses_changed_content(approved_paper, other_editor):
    from django.test import Client

    client = Client()
    client.force_login(other_editor)
    edit_title(approved_paper)
    client.post(
        "/admin/papers/paper/",
        {"action": "publish", "_selected_action": [approved_paper.pk], "apply": "1", "note": "x"},
    )
    assert not Version.objects.exists()


def test_a_claims_own_admin_page_puts_the_paper_back_in_review(
    approved_paper, editor_client, other_editor
):
    claim = approved_paper.claims.get(kind="predictive")
    response = editor_client.post(
        f"/admin/papers/claim/{claim.pk}/change/",
        {
            "paper": approved_paper.pk,
            "section": claim.section_id,
            "quote": claim.quote,
            "prefix": "",
            "suffix": "",
            "kind": "normative",
            "note": "",
            "claimsource_set-TOTAL_FORMS": 0,  # the sources' inline, empty
            "claimsource_set-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert current(approved_paper).stage == Stage.IN_REVIEW
    assert reopened_events()[0].note == f"claim {claim.public_id} kind"
    with pytest.raises(WrongStage):
        workflow.publish_paper(current(approved_paper), by=other_editor)


def test_a_source_edited_in_the_admin_puts_every_paper_citing_it_back_in_review(
    approved_paper, editor_client, django_assert_max_num_queries
):
    source = SourceFactory(title="Treaty")
    claim = approved_paper.claims.first()
    claim.sources.add(source)
    Paper.objects.filter(pk=approved_paper.pk).update(
        approved_fingerprint=content.fingerprint(approved_paper)
    )
    response = editor_client.post(
        f"/admin/papers/source/{source.pk}/change/",
        {"title": "Treaty", "url": "https://www.nato.int/", "publisher": "NATO", "quote": "Art 5"},
    )
    assert response.status_code == 302
    assert current(approved_paper).stage == Stage.IN_REVIEW
    assert reopened_events()[0].note == f"claim {claim.public_id} sources"


def test_a_tag_renamed_in_the_admin_puts_papers_using_it_back_in_review(
    approved_paper, editor_client
):
    tag = TagFactory(name="NATO", slug="nato")
    approved_paper.tags.add(tag)
    Paper.objects.filter(pk=approved_paper.pk).update(
        approved_fingerprint=content.fingerprint(approved_paper)
    )
    response = editor_client.post(
        f"/admin/papers/tag/{tag.pk}/change/",
        {"name": "North Atlantic Treaty Organization", "slug": "nato", "description": ""},
    )
    assert response.status_code == 302
    assert current(approved_paper).stage == Stage.IN_REVIEW
    assert reopened_events()[0].note == "tags"


def test_a_tags_description_is_not_reviewed_content(approved_paper, editor_client):
    tag = TagFactory(name="NATO", slug="nato")
    approved_paper.tags.add(tag)
    Paper.objects.filter(pk=approved_paper.pk).update(
        approved_fingerprint=content.fingerprint(approved_paper)
    )
    editor_client.post(
        f"/admin/papers/tag/{tag.pk}/change/",
        {"name": "NATO", "slug": "nato", "description": "The alliance."},
    )
    assert current(approved_paper).stage == Stage.APPROVED


def test_import_replace_puts_the_paper_back_in_review_and_publish_is_refused(
    approved_paper, other_editor, tmp_path
):
    out = StringIO()
    call_command("export_paper", approved_paper.slug, "--format", "md", stdout=out)
    text = out.getvalue().replace("Draft on deterrence", "Draft on deterrence, revised", 1)
    path = tmp_path / "paper.md"
    path.write_text(text, encoding="utf-8")
    call_command("import_paper", str(path), "--replace", stdout=StringIO())
    paper = current(approved_paper)
    assert paper.stage == Stage.IN_REVIEW
    assert "title" in reopened_events()[0].note
    with pytest.raises(WrongStage):
        workflow.publish_paper(paper, by=other_editor)
    assert not Version.objects.exists()


def test_publish_scheduled_refuses_a_paper_changed_since_approval(
    draft, editor, other_editor, reviewer
):
    approve(
        draft,
        editor=editor,
        approver=other_editor,
        reviewer=reviewer,
        publish_at=timezone.now() + timedelta(minutes=5),
    )
    Paper.objects.filter(pk=draft.pk).update(publish_at=timezone.now() - timedelta(minutes=1))
    edit_title(draft)
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("publish_scheduled", stdout=StringIO(), stderr=err)
    assert err.getvalue().startswith(f"Refused “A quietly changed title” ({draft.slug}):")
    assert not Version.objects.exists()
    assert current(draft).stage == Stage.APPROVED  # it waits for an editor to look again


def test_a_source_edit_costs_the_same_queries_however_many_drafts_cite_it(editor_client):
    """Only papers with an open round are looked at one by one; drafts cost nothing each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ClaimFactory

    def save_with(citing):
        source = SourceFactory()
        for _ in range(citing):
            ClaimFactory().sources.add(source)
        data = {"title": "Renamed", "url": "https://www.nato.int/", "publisher": "NATO"}
        with CaptureQueriesContext(connection) as queries:
            response = editor_client.post(f"/admin/papers/source/{source.pk}/change/", data)
        assert response.status_code == 302
        return len(queries)

    save_with(0)  # the first request warms the caches (content types)
    assert save_with(1) == save_with(6)
