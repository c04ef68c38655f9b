"""Forecasts: due dates and criteria on predictive claims (admin forms, front matter, versions),
resolutions recorded through the workflow (append-only), and the notice when one comes due."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from papers import documents, forecasts, importing, scheduling, workflow
from papers.models import Claim, DueNotice, Event, Immutable, Resolution, VersionClaim
from papers.workflow.content import fingerprint
from tests.factories import ReviewerFactory, approved

PAST = datetime.date(2020, 6, 30)
FUTURE = datetime.date(2999, 1, 1)
Outcome = Resolution.Outcome
pytestmark = pytest.mark.django_db

SOURCE = """---
slug: outlook
claims:
- section: outlook
  quote: Deterrence will hold for a decade
  kind: predictive
  due: 2027-06-30
  resolves_when: "No NATO member in the region is attacked before the date."
---
# Outlook paper

## Outlook

Deterrence will hold for a decade, the authors expect.
"""


def forecast_in(paper):
    return paper.claims.get(kind=Claim.Kind.PREDICTIVE)


def publish(paper, editor):
    workflow.publish_paper(approved(paper), by=editor)
    paper.refresh_from_db()
    return VersionClaim.objects.get(version=paper.live_version, kind=Claim.Kind.PREDICTIVE)


@pytest.fixture
def due_forecast(draft, editor):
    """The draft's forecast, due in the past, published as version 1, its editor an author."""
    forecasts_of = Claim.objects.filter(kind=Claim.Kind.PREDICTIVE)
    forecasts_of.update(due=PAST, resolves_when="Ten calm years.")
    forecast = publish(draft, editor)
    draft.authors.add(editor)  # after publishing: an author may not publish their own paper
    return forecast


def resolve(forecast, by, outcome=Outcome.CAME_TRUE, note="It held.", sources=()):
    return workflow.resolve_forecast(forecast, by=by, outcome=outcome, note=note, sources=sources)


class TestTheClaimsFields:
    def test_a_predictive_claim_takes_a_due_date_and_criteria(self, draft):
        claim = forecast_in(draft)
        claim.due, claim.resolves_when = FUTURE, "No attack by then."
        claim.full_clean()

    @pytest.mark.parametrize("field", ["due", "resolves_when"])
    def test_a_claim_that_is_not_predictive_refuses_them(self, draft, field):
        claim = draft.claims.get(kind=Claim.Kind.FACTUAL)
        setattr(claim, field, FUTURE if field == "due" else "Some day.")
        with pytest.raises(ValidationError) as error:
            claim.full_clean()
        assert field in error.value.message_dict

    def test_the_desk_marking_form_saves_them(self, editor_client, draft):
        claim = forecast_in(draft)
        url = f"/admin/papers/section/{claim.section_id}/marking/claims/{claim.pk}/"
        answer = editor_client.post(
            url, {"kind": "predictive", "due": "2027-06-30", "resolves_when": "A calm decade."}
        )
        assert answer.status_code == 200, answer.content
        claim.refresh_from_db()
        assert (claim.due, claim.resolves_when) == (datetime.date(2027, 6, 30), "A calm decade.")

    def test_the_desk_marking_form_refuses_a_due_date_on_a_factual_claim(
        self, editor_client, draft
    ):
        claim = draft.claims.get(kind=Claim.Kind.FACTUAL)
        url = f"/admin/papers/section/{claim.section_id}/marking/claims/{claim.pk}/"
        answer = editor_client.post(url, {"kind": "factual", "due": "2027-06-30"})
        assert answer.status_code == 400
        assert "due" in answer.json()["errors"]
        claim.refresh_from_db()
        assert claim.due is None

    def test_the_desk_marking_form_refuses_a_date_that_is_not_one(self, editor_client, draft):
        claim = forecast_in(draft)
        url = f"/admin/papers/section/{claim.section_id}/marking/claims/{claim.pk}/"
        answer = editor_client.post(url, {"kind": "predictive", "due": "next spring"})
        assert answer.status_code == 400 and "due" in answer.json()["errors"]

    def test_the_claim_admin_saves_them(self, editor_client, draft):
        claim = forecast_in(draft)
        page = editor_client.get(f"/admin/papers/claim/{claim.pk}/change/").content.decode()
        assert 'name="due"' in page and 'name="resolves_when"' in page

    def test_changing_a_forecasts_criteria_is_a_change_reviewers_vouched_for(self, draft):
        before = fingerprint(draft)
        Claim.objects.filter(kind=Claim.Kind.PREDICTIVE).update(resolves_when="Something else.")
        assert fingerprint(draft) != before

    def test_claims_without_a_forecast_keep_the_fingerprint_they_had(self, draft):
        # The reviewable content of a claim with neither field is what it was before forecasts.
        from papers import snapshots
        from papers.workflow import content

        document = snapshots.paper_document(draft)
        assert all("forecast" not in claim for claim in content.content(document)["claims"])


class TestFrontMatter:
    def test_due_and_resolves_when_are_read(self):
        paper = importing.save_document(documents.from_markdown(SOURCE))
        claim = forecast_in(paper)
        assert claim.due == datetime.date(2027, 6, 30)
        assert claim.resolves_when.startswith("No NATO member")

    @pytest.mark.parametrize("fmt", ["md", "json"])
    def test_import_export_import_keeps_them(self, client, editor, fmt):
        paper = importing.save_document(documents.from_markdown(SOURCE))
        publish(paper, editor)
        exported = client.get(f"/papers/outlook/export.{fmt}").content.decode()
        if fmt == "md":
            assert "due: 2027-06-30\n" in exported  # a YAML date, as people write it
        read = documents.from_json(exported) if fmt == "json" else documents.from_markdown(exported)
        copy = importing.import_document(read, slug="outlook-copy").paper
        claim = forecast_in(copy)
        assert claim.due == datetime.date(2027, 6, 30)
        assert claim.resolves_when == forecast_in(paper).resolves_when

    def test_a_date_no_calendar_has_is_refused_as_front_matter(self):
        text = SOURCE.replace("due: 2027-06-30", "due: 2027-13-01")
        with pytest.raises(documents.DocumentError, match="impossible value"):
            documents.from_markdown(text)

    @pytest.mark.parametrize("due", ["next spring", "'2027-13-01'", "[2027]", "2027-06-30 10:00"])
    def test_a_due_that_is_not_a_date_is_refused_and_nothing_is_saved(self, due):
        text = SOURCE.replace("due: 2027-06-30", f"due: {due}")
        with pytest.raises(importing.ImportRefused, match="due must be a date"):
            importing.save_document(documents.from_markdown(text))
        assert not Claim.objects.exists()

    def test_a_due_date_on_a_factual_claim_is_refused(self):
        text = SOURCE.replace("kind: predictive", "kind: factual")
        with pytest.raises(importing.ImportRefused, match="Only a predictive claim"):
            importing.save_document(documents.from_markdown(text))
        assert not Claim.objects.exists()

    def test_the_command_says_so_in_one_line_and_exits_non_zero(self, tmp_path):
        from django.core.management import call_command
        from django.core.management.base import CommandError

        path = tmp_path / "bad.md"
        path.write_text(SOURCE.replace("due: 2027-06-30", "due: soon"))
        with pytest.raises(CommandError, match="due must be a date"):
            call_command("import_paper", str(path))
        assert not Claim.objects.exists()


class TestVersions:
    def test_a_version_keeps_the_date_and_criteria_it_was_published_with(self, due_forecast):
        version = due_forecast.version
        (claim,) = [c for c in version.snapshot["claims"] if c["kind"] == "predictive"]
        assert (claim["due"], claim["resolves_when"]) == ("2020-06-30", "Ten calm years.")
        assert due_forecast.due == PAST
        assert "Forecast due 2020-06-30. Settled when: “Ten calm years.”." in version.body_html
        Claim.objects.filter(kind=Claim.Kind.PREDICTIVE).update(due=FUTURE)
        version.refresh_from_db()
        assert version.snapshot == due_forecast.version.snapshot


class TestResolving:
    def test_an_editor_records_a_resolution_with_one_event(self, due_forecast, editor):
        before = Event.objects.count()
        resolution = resolve(
            due_forecast, editor, Outcome.PARTLY, "Half of it.", ["https://example.org/report"]
        )
        assert (resolution.outcome, resolution.note) == ("partly", "Half of it.")
        assert resolution.sources == [
            {"title": "https://example.org/report", "url": "https://example.org/report"}
        ]
        assert resolution.resolved_by == editor and resolution.resolved_by_name
        assert Event.objects.count() == before + 1
        event = Event.objects.first()
        assert event.action == Event.Action.RESOLVE_FORECAST
        assert due_forecast.public_id in event.note

    def test_an_assigned_reviewer_may_resolve(self, due_forecast, editor):
        reviewer = ReviewerFactory()
        workflow.assign_reviewer(due_forecast.paper, reviewer, by=editor)
        assert resolve(due_forecast, reviewer).resolved_by == reviewer

    def test_a_reviewer_not_asked_may_not(self, due_forecast):
        with pytest.raises(workflow.NotAllowed):
            resolve(due_forecast, ReviewerFactory())
        assert not Resolution.objects.exists()

    def test_a_claim_that_was_never_published_cannot_be_resolved(self, draft, editor):
        with pytest.raises(workflow.WrongStage):
            resolve(forecast_in(draft), editor)
        assert not Resolution.objects.exists()

    def test_a_claim_that_is_not_a_forecast_cannot_be_resolved(self, due_forecast, editor):
        factual = VersionClaim.objects.get(version=due_forecast.version, kind="factual")
        with pytest.raises(workflow.WrongStage):
            resolve(factual, editor)

    @pytest.mark.parametrize(
        ("outcome", "note", "sources"),
        [
            ("maybe", "It held.", []),
            (Outcome.CAME_TRUE, "   ", []),
            (Outcome.CAME_TRUE, "It held.", [{"url": "javascript:alert(1)"}]),
            (Outcome.CAME_TRUE, "It held.", ["A report javascript://alert(1)"]),
            (Outcome.CAME_TRUE, "It held.", [{"title": "x", "url": "ftp://example.org/"}]),
        ],
    )
    def test_bad_input_is_refused_and_nothing_is_written(
        self, due_forecast, editor, outcome, note, sources
    ):
        events = Event.objects.count()
        with pytest.raises(workflow.WorkflowError):
            resolve(due_forecast, editor, outcome, note, sources)
        assert not Resolution.objects.exists() and Event.objects.count() == events

    def test_a_later_resolution_supersedes_and_the_first_stays(self, due_forecast, editor):
        first = resolve(due_forecast, editor, Outcome.CANNOT_TELL, "Too early to say.")
        second = resolve(due_forecast, editor, Outcome.DID_NOT, "It failed.")
        assert forecasts.current_resolutions([due_forecast.public_id]) == {
            due_forecast.public_id: second
        }
        assert forecasts.history(due_forecast.public_id) == [second, first]
        first.refresh_from_db()
        assert first.outcome == Outcome.CANNOT_TELL

    def test_resolving_never_changes_a_version(self, due_forecast, editor):
        version = due_forecast.version
        body, snapshot = version.body_html, version.snapshot
        resolve(due_forecast, editor)
        version.refresh_from_db()
        assert (version.body_html, version.snapshot) == (body, snapshot)


class TestAppendOnly:
    def test_a_resolution_cannot_be_changed_or_deleted(self, due_forecast, editor):
        resolution = resolve(due_forecast, editor)
        resolution.note = "Rewritten."
        with pytest.raises(Immutable):
            resolution.save()
        with pytest.raises(Immutable):
            resolution.delete()
        with pytest.raises(Immutable):
            Resolution.objects.update(note="Rewritten.")
        with pytest.raises(Immutable):
            Resolution.objects.all().delete()

    def test_raw_sql_cannot_rewrite_one_on_postgresql(self, due_forecast, editor):
        if connection.vendor != "postgresql":
            pytest.skip("the trigger is PostgreSQL's")
        resolve(due_forecast, editor)
        with (
            pytest.raises(Exception, match="immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE papers_resolution SET note = 'Rewritten.'")

    def test_the_admin_offers_no_add_change_or_delete(self, editor_client, due_forecast, editor):
        resolution = resolve(due_forecast, editor)
        assert editor_client.get("/admin/papers/resolution/").status_code == 200
        assert editor_client.get("/admin/papers/resolution/add/").status_code == 403
        url = f"/admin/papers/resolution/{resolution.pk}/delete/"
        assert editor_client.post(url, {"post": "yes"}).status_code == 403
        url = f"/admin/papers/resolution/{resolution.pk}/change/"
        answer = editor_client.post(url, {"note": "Rewritten.", "outcome": "did_not"})
        assert answer.status_code == 403
        resolution.refresh_from_db()
        assert resolution.note == "It held."


class TestDueNotices:
    def test_the_editors_hear_once_when_a_forecast_comes_due(
        self, due_forecast, editor, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            told = workflow.notify_due_forecasts()
        assert [f.public_id for f in told] == [due_forecast.public_id]
        (message,) = mailoutbox
        assert message.to == [editor.email]
        assert "has come due" in message.subject
        assert f"/forecasts/{due_forecast.public_id}/resolve/" in message.body
        with django_capture_on_commit_callbacks(execute=True):
            assert workflow.notify_due_forecasts() == []
        assert len(mailoutbox) == 1
        assert DueNotice.objects.count() == 1

    def test_a_forecast_not_yet_due_or_resolved_is_not_mentioned(self, due_forecast, editor):
        assert workflow.notify_due_forecasts(on=PAST - datetime.timedelta(days=1)) == []
        resolve(due_forecast, editor)
        assert workflow.notify_due_forecasts() == []
        assert not DueNotice.objects.exists()

    def test_the_periodic_task_does_it(
        self, due_forecast, mailoutbox, django_capture_on_commit_callbacks, settings
    ):
        assert "papers.scheduling.notify_due_forecasts" in settings.PERIODIC_TASKS
        with django_capture_on_commit_callbacks(execute=True):
            result = scheduling.notify_due_forecasts.enqueue()
        assert result.return_value == {"notified": [due_forecast.public_id]}
        assert len(mail.outbox) == 1
