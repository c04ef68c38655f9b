"""A section's own admin page (papers/admin/sections.py): adding one at the next position,
moving it, the Markdown editor, rendering once per save, re-anchoring its claims, the length
limit (also on the live preview), and the edit conflict between two editors (R28)."""

import time

import pytest

from papers import rendering
from papers.admin.forms import SectionForm
from papers.models import Claim, Event, Paper, Section
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db


def section_url(section):
    return f"/admin/papers/section/{section.pk}/change/"


def add_url(paper):
    return f"/admin/papers/section/add/?paper={paper.pk}"


def opened(client, section):
    """The form's fields as the editor's page has them when opened."""
    form = client.get(section_url(section)).context["adminform"].form
    fields = {name: form[name].value() for name in ["heading", "place", "body", "opened_version"]}
    return {**fields, "initial-place": form["place"].value()}


def save(client, section, **changes):
    return client.post(section_url(section), {**opened(client, section), **changes})


def headings(paper):
    return list(paper.sections.values_list("heading", flat=True))


class TestAdding:
    def test_a_new_section_is_offered_the_next_position(self, editor_client, draft):
        response = editor_client.get(add_url(draft))
        form = response.context["adminform"].form
        assert (form["paper"].value(), form["place"].value()) == (str(draft.pk), 3)
        html = response.content.decode()
        assert 'data-markdownx-urls-path="/admin/markdown-preview/"' in html
        assert f'href="/admin/papers/paper/{draft.pk}/change/"' in html  # breadcrumbs

    def test_saving_puts_it_at_the_end_and_returns_to_the_outline(self, editor_client, draft):
        response = editor_client.post(
            add_url(draft),
            {"paper": draft.pk, "heading": "Conclusion", "place": "", "body": "The *end*."},
        )
        assert response["Location"] == f"/admin/papers/paper/{draft.pk}/change/#outline"
        section = draft.sections.get(heading="Conclusion")
        assert (section.position, section.anchor) == (2, "conclusion")
        assert "<em>end</em>" in section.body_html
        assert headings(draft) == ["Background", "Outlook", "Conclusion"]
        assert Event.objects.get(action="edit").note == "section “Conclusion” added"

    def test_a_new_section_can_go_first(self, editor_client, draft):
        editor_client.post(
            add_url(draft), {"paper": draft.pk, "heading": "Summary", "place": "1", "body": "x"}
        )
        assert headings(draft) == ["Summary", "Background", "Outlook"]
        assert list(draft.sections.values_list("position", flat=True)) == [0, 1, 2]

    def test_save_and_add_another_adds_to_the_same_paper(self, editor_client, draft):
        response = editor_client.post(
            add_url(draft),
            {"paper": draft.pk, "heading": "Annex", "body": "", "_addanother": "1"},
        )
        assert response["Location"] == add_url(draft)

    def test_two_sections_with_one_heading_get_two_anchors(self, editor_client, draft):
        for _ in range(2):
            editor_client.post(add_url(draft), {"paper": draft.pk, "heading": "Background"})
        anchors = list(draft.sections.values_list("anchor", flat=True))
        assert anchors == ["background", "outlook", "background-2", "background-3"]


class TestEditing:
    def test_the_page_links_back_to_the_paper_and_to_its_neighbours(self, editor_client, draft):
        first, second = draft.sections.all()
        html = editor_client.get(section_url(first)).content.decode()
        assert f'href="/admin/papers/paper/{draft.pk}/change/#outline">Back to the paper' in html
        assert f'href="{section_url(second)}" rel="next"' in html and 'rel="prev"' not in html
        html = editor_client.get(section_url(second)).content.decode()
        assert f'href="{section_url(first)}" rel="prev"' in html and 'rel="next"' not in html

    def test_a_heading_change_keeps_the_anchor(self, editor_client, draft):
        section = draft.sections.first()
        response = save(editor_client, section, heading="Context")
        assert response["Location"] == f"/admin/papers/paper/{draft.pk}/change/#outline"
        section.refresh_from_db()
        assert (section.heading, section.anchor) == ("Context", "background")

    def test_a_new_position_moves_the_section(self, editor_client, draft):
        save(editor_client, draft.sections.first(), place="2")
        assert headings(draft) == ["Outlook", "Background"]

    def test_a_section_stays_in_its_paper(self, editor_client, draft):
        other = PaperFactory()
        section = draft.sections.first()
        save(editor_client, section, paper=other.pk, heading="Moved?")
        assert Section.objects.get(pk=section.pk).paper_id == draft.pk

    def test_saving_an_approved_paper_section_puts_the_paper_back_in_review(
        self, editor_client, draft
    ):
        paper = approved(draft)
        Paper.objects.filter(pk=paper.pk).update(approved_fingerprint="as approved before")
        save(editor_client, paper.sections.first(), body="New words.")
        paper.refresh_from_db()
        assert paper.stage == Paper.Stage.IN_REVIEW
        assert paper.events.filter(action="reopen").exists()

    def test_deleting_a_section_returns_to_the_paper_and_orphans_its_claims(
        self, editor_client, draft
    ):
        section = draft.sections.first()
        response = editor_client.post(f"/admin/papers/section/{section.pk}/delete/", {"post": "1"})
        assert response["Location"] == f"/admin/papers/paper/{draft.pk}/change/#outline"
        claim = Claim.objects.get(quote="NATO forces are present in Estonia.")
        assert claim.section is None and claim.is_orphaned
        assert Event.objects.get(action="edit").note == "section “Background” deleted"


class TestRenderingOncePerSave:
    def test_a_save_renders_the_section_once_whatever_its_claims(self, editor_client, monkeypatch):
        body = " ".join(f"Sentence number {n} of the section." for n in range(50))
        section = SectionFactory(body=body)
        for n in range(50):
            ClaimFactory(section=section, quote=f"Sentence number {n} of the section.")
        form = opened(editor_client, section)
        calls = []
        render = rendering.render_markdown
        monkeypatch.setattr(
            rendering, "render_markdown", lambda text, **kw: calls.append(1) or render(text, **kw)
        )
        response = editor_client.post(section_url(section), {**form, "body": body + " More."})
        assert response.status_code == 302
        assert len(calls) == 1

    def test_a_megabyte_section_with_50_claims_saves_in_under_3_seconds(
        self, editor_client, settings
    ):
        settings.STANDPOINT_MAX_SECTION_CHARS = 2_000_000
        sentences = [
            f"Part {n // 7} says in sentence {n} that fact {n} holds." for n in range(20_000)
        ]
        body = " ".join(sentences)
        assert len(body) > 1_000_000
        section = SectionFactory(body=body)
        Claim.objects.bulk_create(
            Claim(paper=section.paper, section=section, quote=sentences[n * 400], kind="factual")
            for n in range(50)
        )
        form = opened(editor_client, section)
        edited = "An opening line.\n\n" + body.replace(
            sentences[400], "Reworded: " + sentences[400]
        )
        started = time.perf_counter()
        response = editor_client.post(section_url(section), {**form, "body": edited})
        elapsed = time.perf_counter() - started
        assert response.status_code == 302
        assert elapsed < 3, f"{elapsed:.2f} s"
        assert not section.claims.filter(orphaned=True).exists()


class TestLength:
    def test_a_section_longer_than_the_maximum_is_refused_and_its_text_kept(
        self, editor_client, draft, settings
    ):
        settings.STANDPOINT_MAX_SECTION_CHARS = 100
        section = draft.sections.first()
        long_text = "Words kept in the form." * 10
        response = save(editor_client, section, body=long_text)
        assert response.status_code == 200
        html = response.content.decode()
        assert "230 characters; a section may have at most 100" in html
        assert f"{long_text}</textarea>" in html
        section.refresh_from_db()
        assert "Words kept" not in section.body

    def test_the_maximum_is_200000_characters_by_default(self, settings):
        assert settings.STANDPOINT_MAX_SECTION_CHARS == 200_000

    def test_the_preview_refuses_longer_text_at_once(self, editor_client):
        started = time.perf_counter()
        response = editor_client.post("/admin/markdown-preview/", {"content": "*a" * 500_000})
        assert time.perf_counter() - started < 1
        assert response.status_code == 400
        assert "1,000,000 characters; a section may have at most 200,000" in response.text

    def test_the_preview_takes_text_up_to_the_maximum(self, editor_client, settings):
        settings.STANDPOINT_MAX_SECTION_CHARS = 10
        taken = editor_client.post("/admin/markdown-preview/", {"content": "*a*" * 3})
        assert taken.status_code == 200
        refused = editor_client.post("/admin/markdown-preview/", {"content": "*a*" * 4})
        assert refused.status_code == 400


class TestReanchoringOnSave:
    def test_a_small_edit_moves_the_claim_to_the_new_words(self, editor_client, draft):
        section = draft.sections.first()
        body = section.body.replace("are present in", "are stationed in")
        response = save(editor_client, section, body=body, _continue="1")
        claim = draft.claims.get(section=section)
        assert claim.quote == "NATO forces are stationed in Estonia." and not claim.orphaned
        messages = [str(m) for m in editor_client.get(response["Location"]).context["messages"]]
        assert any("now quotes them as they read" in m for m in messages)

    def test_a_rewrite_orphans_the_claim_warns_and_offers_a_reattachment(
        self, editor_client, draft
    ):
        section = draft.sections.first()
        body = "NATO has forces in Estonia, it is said. Russia has not attacked a NATO member."
        response = save(editor_client, section, body=body, _continue="1")
        claim = draft.claims.get(section=section)
        assert claim.orphaned and claim.quote == "NATO forces are present in Estonia."
        page = editor_client.get(response["Location"])
        assert any("is marked orphaned" in str(m) for m in page.context["messages"])
        html = page.content.decode()
        assert "Claim 2's words changed: attach to “<ins>NATO has forces in Estonia" in html
        assert f'action="/admin/papers/claim/{claim.pk}/reattach/"' in html


class TestEditConflict:
    """R28 on a section's page: editors A and B open the same section; A saves; B's save of
    the page as they opened it is refused, with what differs, and B's input kept."""

    def test_a_stale_save_is_refused_and_keeps_the_input(self, draft, editor, other_editor):
        from django.test import Client

        a, b = Client(), Client()
        a.force_login(editor)
        b.force_login(other_editor)
        section = draft.sections.first()
        form_a, form_b = opened(a, section), opened(b, section)
        assert a.post(section_url(section), {**form_a, "body": "A's text."}).status_code == 302

        response = b.post(section_url(section), {**form_b, "body": "B's text."})

        assert response.status_code == 200
        html = response.content.decode()
        assert "Someone else saved this section since you opened it" in html
        assert "-A&#x27;s text." in html and "+B&#x27;s text." in html
        assert "B&#x27;s text.</textarea>" in html
        assert Section.objects.get(pk=section.pk).body == "A's text."
        again = response.context["adminform"].form["opened_version"].value()
        assert (
            b.post(
                section_url(section), {**form_b, "body": "B's text.", "opened_version": again}
            ).status_code
            == 302
        )
        assert Section.objects.get(pk=section.pk).body == "B's text."

    def test_a_form_without_its_version_is_refused(self, editor_client, draft):
        section = draft.sections.first()
        response = save(editor_client, section, body="Unversioned.", opened_version="")
        assert "did not say which version" in response.content.decode()
        assert Section.objects.get(pk=section.pk).body != "Unversioned."

    def test_a_reorder_meanwhile_neither_refuses_the_save_nor_is_undone(self, editor_client, draft):
        first, second = draft.sections.all()
        form = opened(editor_client, second)
        editor_client.post(
            f"/admin/papers/paper/{draft.pk}/sections/order/", {"move": f"{second.pk}:up"}
        )
        response = editor_client.post(section_url(second), {**form, "body": "Later words."})
        assert response.status_code == 302
        assert headings(draft) == ["Outlook", "Background"]
        assert Section.objects.get(pk=second.pk).body == "Later words."

    def test_the_token_is_the_saved_heading_and_text(self, draft):
        section = draft.sections.first()
        token = SectionForm.saved_token(section)
        section.body += " More."
        assert SectionForm.saved_token(section) != token
