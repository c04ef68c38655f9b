"""Claims marked where the text is (papers/admin/marking.py): the section's admin page shows its
saved text with its claims marked, and its endpoints mark a claim from selected words, change a
claim's details, and find or add tags and sources; editors only, CSRF-protected, a constant
number of queries, and bad input refused with the form's errors and nothing saved."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from papers import permissions, rendering
from papers.models import Claim, Event, Paper, Source, Tag
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    SectionFactory,
    SourceFactory,
    TagFactory,
    UserFactory,
    approved,
)

pytestmark = pytest.mark.django_db

REPEATED = (
    "Deterrence holds in Estonia. Russia tests it often. Deterrence holds in Latvia too, "
    "and in the end deterrence holds."
)


@pytest.fixture
def section(draft):
    """The draft's second section, with words that occur three times."""
    section = draft.sections.get(heading="Outlook")
    section.body = REPEATED
    section.save()
    return section


def page_url(section):
    return f"/admin/papers/section/{section.pk}/change/"


def mark_url(section):
    return f"/admin/papers/section/{section.pk}/marking/claims/"


def claim_url(section, claim):
    return f"/admin/papers/section/{section.pk}/marking/claims/{claim.pk}/"


TAGS_URL = "/admin/papers/section/marking/tags/"
SOURCES_URL = "/admin/papers/section/marking/sources/"


def counts():
    return Claim.objects.count(), Event.objects.count(), Tag.objects.count(), Source.objects.count()


class TestTheSectionPage:
    def test_it_shows_the_saved_text_with_its_claims_marked_and_numbered(
        self, editor_client, draft
    ):
        outlook = draft.sections.get(heading="Outlook")
        claim = outlook.claims.get()
        response = editor_client.get(page_url(outlook))
        assert response.status_code == 200
        marking = response.context["marking"]
        # The paper's first section holds claim 1, so this section's claim is claim 2.
        assert [item["number"] for item in marking["claims"]] == [2]
        assert f'id="claim-{claim.public_id}"' in marking["html"]
        assert f'href="#claim-note-{claim.public_id}">2</a>' in marking["html"]
        assert f'id="claim-note-{claim.public_id}"' in response.content.decode()

    def test_without_javascript_it_links_to_the_claim_form_for_the_section(
        self, editor_client, section
    ):
        response = editor_client.get(page_url(section))
        link = f"/admin/papers/claim/add/?paper={section.paper_id}&section={section.pk}"
        assert link.replace("&", "&amp;") in response.content.decode()
        form = editor_client.get(link)
        assert form.context["adminform"].form.initial["section"] == str(section.pk)

    def test_its_script_and_styles_are_static_files(self, editor_client, section):
        body = editor_client.get(page_url(section)).content.decode()
        assert '<script src="/static/papers/marking.js" defer></script>' in body
        assert "<script>" not in body and " onclick=" not in body

    def test_words_notes_and_tag_names_are_escaped(self, editor_client, draft):
        section = SectionFactory(paper=draft, body="Russia <b>tests</b> it often.")
        claim = ClaimFactory(section=section, quote="Russia <b>tests</b> it", note="<i>n</i>")
        claim.tags.add(TagFactory(name="<i>NATO</i>"))
        body = editor_client.get(page_url(section)).content.decode()
        assert f'id="claim-{claim.public_id}"' in body
        assert "“Russia &lt;b&gt;tests&lt;/b&gt; it”" in body
        assert "&lt;i&gt;NATO&lt;/i&gt;" in body
        assert "<b>tests" not in body and "<i>n" not in body and "<i>NATO" not in body

    def test_marking_costs_the_same_queries_for_one_claim_as_for_twenty(self, editor_client):
        def queries(claims):
            paper = PaperFactory()
            earlier = SectionFactory(paper=paper, position=0)
            ClaimFactory(section=earlier)
            body = " ".join(f"Point {n} is made here." for n in range(claims))
            section = SectionFactory(paper=paper, position=1, body=body)
            for n in range(claims):
                claim = ClaimFactory(section=section, quote=f"Point {n} is made here.")
                claim.tags.add(TagFactory(), TagFactory())
                claim.sources.add(SourceFactory())
            with CaptureQueriesContext(connection) as captured:
                response = editor_client.get(page_url(section))
            assert response.status_code == 200
            assert len(response.context["marking"]["claims"]) == claims
            return len(captured)

        assert queries(1) == queries(20)


class TestMarkingAClaim:
    def test_it_saves_a_claim_from_words_that_occur_once(self, editor_client, section):
        tag, source = TagFactory(name="NATO", slug="nato"), SourceFactory()
        response = editor_client.post(
            mark_url(section),
            {
                "quote": "  Russia tests\n it often. ",
                "kind": "factual",
                "tags": [tag.pk],
                "sources": [source.pk],
                "note": "Airspace violations.",
            },
        )
        assert response.status_code == 200
        claim = Claim.objects.get(public_id=response.json()["claim"])
        assert (claim.paper, claim.section) == (section.paper, section)
        assert (claim.quote, claim.prefix, claim.suffix) == ("Russia tests it often.", "", "")
        assert (claim.kind, claim.note) == ("factual", "Airspace violations.")
        assert list(claim.tags.all()) == [tag] and list(claim.sources.all()) == [source]
        # The answer is the marked text as the page renders it, with the new claim in it.
        assert f'id="claim-{claim.public_id}"' in response.json()["html"]

    @pytest.mark.parametrize("occurrence", [0, 1, 2])
    def test_repeated_words_get_the_context_of_the_occurrence_selected(
        self, editor_client, section, occurrence
    ):
        response = editor_client.post(
            mark_url(section), {"quote": "holds", "occurrence": occurrence, "kind": "predictive"}
        )
        assert response.status_code == 200
        claim = Claim.objects.get(public_id=response.json()["claim"])
        starts = rendering.occurrences(section.body_text, "holds")
        assert len(starts) == 3
        assert claim.prefix or claim.suffix
        assert claim.locate() == (starts[occurrence], starts[occurrence] + len("holds"))

    @pytest.mark.parametrize("occurrence", [0, 1])
    def test_words_that_occur_twice_are_told_apart(self, editor_client, section, occurrence):
        response = editor_client.post(
            mark_url(section),
            {"quote": "Deterrence holds in", "occurrence": occurrence, "kind": "factual"},
        )
        assert response.status_code == 200
        claim = Claim.objects.get(public_id=response.json()["claim"])
        starts = rendering.occurrences(section.body_text, "Deterrence holds in")
        assert claim.prefix or claim.suffix
        assert claim.locate() == (starts[occurrence], starts[occurrence] + 19)

    def test_it_records_the_edit_and_makes_open_forms_of_the_paper_stale(
        self, editor_client, section
    ):
        before = Paper.objects.get(pk=section.paper_id).lock_version
        editor_client.post(mark_url(section), {"quote": "Russia tests it often.", "kind": "causal"})
        assert Paper.objects.get(pk=section.paper_id).lock_version == before + 1
        event = Event.objects.get(paper_id=section.paper_id, action=Event.Action.EDIT)
        assert "Russia tests it often." in event.note

    def test_marking_a_claim_on_an_approved_paper_puts_it_back_in_review(
        self, editor_client, section
    ):
        from papers.workflow import content

        paper = approved(section.paper)
        Paper.objects.filter(pk=paper.pk).update(approved_fingerprint=content.fingerprint(paper))
        editor_client.post(mark_url(section), {"quote": "Russia tests it often.", "kind": "causal"})
        paper.refresh_from_db()
        assert paper.stage == Paper.Stage.IN_REVIEW
        assert paper.events.filter(action=Event.Action.REOPEN).count() == 1

    def test_it_costs_the_same_queries_with_one_tag_as_with_many(self, editor_client, section):
        def queries(tag_count):
            tags = [TagFactory().pk for _ in range(tag_count)]
            sources = [SourceFactory().pk for _ in range(tag_count)]
            caches["similar"].clear()  # both answers look up the section's similar claims
            with CaptureQueriesContext(connection) as captured:
                response = editor_client.post(
                    mark_url(section),
                    {
                        "quote": "Russia tests it often.",
                        "kind": "factual",
                        "tags": tags,
                        "sources": sources,
                    },
                )
            assert response.status_code == 200
            return len(captured)

        assert queries(1) == queries(8)


class TestBadInputSavesNothing:
    @pytest.mark.parametrize(
        "data, field",
        [
            ({"quote": "Russia tests it often."}, "kind"),
            ({"quote": "Russia tests it often.", "kind": "rumour"}, "kind"),
            ({"quote": "", "kind": "factual"}, "quote"),
            ({"quote": "Words that are not there.", "kind": "factual"}, "quote"),
            # Said three times: which one was selected must be said too.
            ({"quote": "holds", "kind": "factual"}, "quote"),
            ({"quote": "holds", "occurrence": 7, "kind": "factual"}, "quote"),
            ({"quote": "holds", "occurrence": -1, "kind": "factual"}, "occurrence"),
            ({"quote": "Russia tests it often.", "kind": "factual", "tags": [999]}, "tags"),
            ({"quote": "Russia tests it often.", "kind": "factual", "sources": ["x"]}, "sources"),
        ],
    )
    def test_it_answers_400_with_the_forms_errors(self, editor_client, section, data, field):
        before, lock = counts(), Paper.objects.get(pk=section.paper_id).lock_version
        response = editor_client.post(mark_url(section), data)
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert field in errors and len(errors[field]) == 1
        assert counts() == before
        assert Paper.objects.get(pk=section.paper_id).lock_version == lock

    def test_words_too_common_to_quote_are_refused(self, editor_client, draft):
        section = SectionFactory(paper=draft, body=" ".join(["the end."] * 60))
        response = editor_client.post(
            mark_url(section), {"quote": "the end.", "occurrence": 3, "kind": "factual"}
        )
        assert response.status_code == 400
        assert "quote" in response.json()["errors"]

    def test_marking_is_post_only(self, editor_client, section):
        before = counts()
        assert editor_client.get(mark_url(section), {"quote": "x"}).status_code == 405
        assert counts() == before

    def test_an_unknown_section_is_404(self, editor_client, section):
        url = f"/admin/papers/section/{section.pk + 100}/marking/claims/"
        assert editor_client.post(url, {"quote": "x", "kind": "factual"}).status_code == 404


class TestChangingAClaim:
    def test_it_changes_kind_tags_note_and_sources_but_not_the_words(self, editor_client, draft):
        outlook = draft.sections.get(heading="Outlook")
        claim = outlook.claims.get()
        old_tag, new_tag, source = TagFactory(), TagFactory(), SourceFactory()
        claim.tags.add(old_tag)
        response = editor_client.post(
            claim_url(outlook, claim),
            {
                "kind": "normative",
                "tags": [new_tag.pk],
                "sources": [source.pk],
                "note": "Hedged.",
                "quote": "Other words",
            },
        )
        assert response.status_code == 200
        claim.refresh_from_db()
        assert (claim.kind, claim.note) == ("normative", "Hedged.")
        assert claim.quote == "Deterrence will hold for a decade"
        assert list(claim.tags.all()) == [new_tag] and list(claim.sources.all()) == [source]
        assert "claim--normative" in response.json()["html"]

    def test_an_orphaned_claim_can_still_be_tagged(self, editor_client, section):
        claim = ClaimFactory(section=section, quote="Words long gone.")
        Claim.objects.filter(pk=claim.pk).update(orphaned=True)
        tag = TagFactory()
        data = {"kind": "factual", "tags": [tag.pk]}
        response = editor_client.post(claim_url(section, claim), data)
        assert response.status_code == 200
        assert list(claim.tags.all()) == [tag]

    def test_a_claim_of_another_section_is_404_and_unchanged(self, editor_client, draft):
        background, outlook = draft.sections.order_by("position")
        claim = background.claims.get()
        response = editor_client.post(claim_url(outlook, claim), {"kind": "normative"})
        assert response.status_code == 404
        claim.refresh_from_db()
        assert claim.kind == "factual"

    def test_a_missing_kind_is_refused(self, editor_client, draft):
        outlook = draft.sections.get(heading="Outlook")
        claim = outlook.claims.get()
        response = editor_client.post(claim_url(outlook, claim), {"kind": "", "note": "New"})
        assert response.status_code == 400
        claim.refresh_from_db()
        assert (claim.kind, claim.note) == ("predictive", "")


class TestTags:
    def test_they_are_found_by_name_or_address(self, editor_client):
        TagFactory(name="NATO", slug="nato")
        TagFactory(name="Russia", slug="russia")
        TagFactory(name="Baltic defence", slug="baltic-nato-flank")
        response = editor_client.get(TAGS_URL, {"q": "nat"})
        assert [tag["label"] for tag in response.json()["results"]] == ["Baltic defence", "NATO"]

    def test_a_new_tag_gets_its_address_from_its_name(self, editor_client):
        response = editor_client.post(TAGS_URL, {"name": " Hybrid   warfare "})
        assert response.status_code == 201
        tag = Tag.objects.get(pk=response.json()["id"])
        assert (tag.name, tag.slug) == ("Hybrid warfare", "hybrid-warfare")

    @pytest.mark.parametrize("name", ["", "!!!", "NATO", "nato"])
    def test_a_tag_that_exists_or_has_no_address_is_refused(self, editor_client, name):
        TagFactory(name="NATO", slug="nato")
        before = counts()
        response = editor_client.post(TAGS_URL, {"name": name})
        assert response.status_code == 400
        assert "name" in response.json()["errors"]
        assert counts() == before


class TestSources:
    def test_they_are_found_by_title_or_url(self, editor_client):
        SourceFactory(title="Wales Summit Declaration", url="https://www.nato.int/wales")
        SourceFactory(title="Estonian statistics", url="https://stat.ee/")
        found = editor_client.get(SOURCES_URL, {"q": "wales"}).json()["results"]
        assert [s["label"] for s in found] == ["Wales Summit Declaration (NATO)"]
        found = editor_client.get(SOURCES_URL, {"q": "stat.ee"}).json()["results"]
        assert [s["url"] for s in found] == ["https://stat.ee/"]

    def test_a_new_source_is_added_with_https_assumed(self, editor_client):
        response = editor_client.post(
            SOURCES_URL, {"title": "ICDS report", "url": "icds.ee/report", "publisher": "ICDS"}
        )
        assert response.status_code == 201
        source = Source.objects.get(pk=response.json()["id"])
        assert (source.title, source.url, source.publisher) == (
            "ICDS report",
            "https://icds.ee/report",
            "ICDS",
        )

    @pytest.mark.parametrize(
        "data, field",
        [({"title": ""}, "title"), ({"title": "X", "url": "javascript:alert(1)"}, "url")],
    )
    def test_bad_input_is_refused(self, editor_client, data, field):
        before = counts()
        response = editor_client.post(SOURCES_URL, data)
        assert response.status_code == 400
        assert field in response.json()["errors"]
        assert counts() == before


class TestOnlyEditorsMark:
    @pytest.fixture
    def staff_not_editor(self, db):
        return UserFactory(username="staff", is_staff=True)

    @pytest.mark.parametrize("who", [None, "reviewer", "outsider", "staff_not_editor"])
    def test_everyone_else_is_sent_to_sign_in_and_nothing_is_written(self, request, section, who):
        client = Client()
        if who:
            client.force_login(request.getfixturevalue(who))
        claim = section.paper.claims.first()
        before = counts()
        answers = [
            client.post(mark_url(section), {"quote": "Russia tests it often.", "kind": "factual"}),
            client.post(claim_url(section, claim), {"kind": "normative"}),
            client.post(TAGS_URL, {"name": "Leak"}),
            client.post(SOURCES_URL, {"title": "Leak"}),
            client.get(TAGS_URL, {"q": ""}),
            client.get(SOURCES_URL, {"q": ""}),
        ]
        assert {answer.status_code for answer in answers} == {302}
        assert all("/admin/login/" in answer["Location"] for answer in answers)
        assert counts() == before

    def test_an_editor_without_the_permission_to_add_claims_gets_403(self, editor_client, section):
        editors = Group.objects.get(name=permissions.EDITORS)
        editors.permissions.remove(Permission.objects.get(codename="add_claim"))
        before = counts()
        response = editor_client.post(
            mark_url(section), {"quote": "Russia tests it often.", "kind": "factual"}
        )
        assert response.status_code == 403
        assert counts() == before

    def test_csrf_is_enforced(self, editor, section):
        client = Client(enforce_csrf_checks=True)
        client.force_login(editor)
        before = counts()
        for url, data in [
            (mark_url(section), {"quote": "Russia tests it often.", "kind": "factual"}),
            (TAGS_URL, {"name": "Forged"}),
            (SOURCES_URL, {"title": "Forged"}),
        ]:
            assert client.post(url, data).status_code == 403
        assert counts() == before
