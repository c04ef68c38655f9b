"""Model rules: section anchors, claim ids and quotes, and derived fields."""

import pytest
from django.core.exceptions import ValidationError

from papers import workflow
from papers.models import PUBLIC_ID_ALPHABET, Claim, Paper
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db


class TestSectionAnchors:
    def test_an_anchor_is_the_slug_of_the_heading(self):
        assert SectionFactory(heading="Why Estonia Stays").anchor == "why-estonia-stays"

    def test_two_sections_with_one_heading_get_distinct_anchors(self):
        paper = PaperFactory()
        anchors = [SectionFactory(paper=paper, heading="Background").anchor for _ in range(3)]
        assert anchors == ["background", "background-2", "background-3"]

    def test_the_same_heading_in_another_paper_is_no_conflict(self):
        assert SectionFactory(heading="Background").anchor == "background"
        assert SectionFactory(heading="Background").anchor == "background"

    def test_an_anchor_survives_a_new_heading(self):
        section = SectionFactory(heading="Background")
        section.heading = "Context"
        section.save()
        section.refresh_from_db()
        assert section.anchor == "background"

    def test_a_heading_without_letters_still_gets_an_anchor(self):
        assert SectionFactory(heading="“—”").anchor == "section"

    def test_saving_renders_the_body_once(self):
        section = SectionFactory(body="Some *emphasis* and a [link](https://example.org).")
        assert "<em>emphasis</em>" in section.body_html
        assert section.body_text == "Some emphasis and a link."


class TestClaims:
    def test_a_claim_gets_a_public_id_that_is_not_its_key(self):
        claim = ClaimFactory()
        assert len(claim.public_id) == 10
        assert set(claim.public_id) <= set(PUBLIC_ID_ALPHABET)
        assert claim.public_id != str(claim.pk)

    def test_a_quote_missing_from_its_section_is_refused_with_a_clear_message(self):
        claim = ClaimFactory.build(section=SectionFactory(), quote="Not in the text.")
        with pytest.raises(ValidationError) as error:
            claim.full_clean()
        assert "do not appear in the section" in error.value.message_dict["quote"][0]

    def test_a_repeated_quote_needs_a_prefix_or_suffix(self):
        section = SectionFactory(body="Russia waits. Then Russia acts.")
        claim = ClaimFactory.build(section=section, quote="Russia")
        with pytest.raises(ValidationError, match="appears 2 times"):
            claim.full_clean()
        claim.prefix = "Then"
        claim.full_clean()
        assert claim.locate() == (19, 25)

    def test_a_quote_may_span_emphasis_and_line_breaks(self):
        section = SectionFactory(body="The *real*\nthreat is near.")
        ClaimFactory.build(section=section, quote="The real threat").full_clean()

    def test_a_section_of_another_paper_is_refused(self):
        claim = ClaimFactory.build(section=SectionFactory(), paper=PaperFactory())
        with pytest.raises(ValidationError, match="another paper"):
            claim.full_clean()

    def test_an_edit_that_removes_the_quote_orphans_the_claim_but_keeps_it(self):
        claim = ClaimFactory()
        claim.section.body = "Entirely new words."
        claim.section.save()
        claim = Claim.objects.get(pk=claim.pk)
        assert claim.is_orphaned


class TestPaperSave:
    def test_saving_a_copy_loaded_before_publishing_keeps_the_publication(self, draft, editor):
        stale = Paper.objects.get(pk=draft.pk)
        workflow.publish_paper(approved(draft), by=editor)
        stale.title = "Renamed"
        stale.save()
        fresh = Paper.objects.get(pk=draft.pk)
        assert fresh.title == "Renamed"
        assert (fresh.live_version.number, fresh.stage) == (1, "draft")
