"""What the workspace page shows: independent assessment (who sees whose verdicts and
threads), orphaned claims, accessible markup with no inline script, a long paper in parts,
and query counts that do not grow with a paper."""

import re

import html5lib
import pytest

from papers import workflow
from papers.models import Claim
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    SectionFactory,
)
from tests.review.conftest import (
    PAGE,
    claim_url,
    client_for,
    factual,
    predictive,
    review_of,
    reword,
)

pytestmark = pytest.mark.django_db


# --- Independent assessment -------------------------------------------------------------------


class TestIndependence:
    @pytest.fixture
    def assessed_by_reviewer(self, in_review, reviewer):
        workflow.assess_claim(
            review_of(reviewer, in_review),
            factual(in_review),
            by=reviewer,
            verdict="disputed",
            note="A-CANARY: no brigade there.",
        )
        return in_review

    def test_a_reviewer_does_not_see_anothers_verdict_before_submitting(
        self, assessed_by_reviewer, as_other
    ):
        html = as_other.get(PAGE).content.decode()
        assert "A-CANARY" not in html  # neither the verdict nor the thread it opened
        assert "Reviewers’ verdicts" not in html
        assert "1 thread opened by other reviewers in this round is hidden" in html

    def test_after_submitting_they_see_it(self, assessed_by_reviewer, other_reviewer, as_other):
        as_other.post(claim_url(factual(assessed_by_reviewer), "assess"), {"verdict": "supported"})
        as_other.post(f"{PAGE}submit/", {"recommendation": "approve", "unassessed": "on"})
        html = as_other.get(PAGE).content.decode()
        assert "A-CANARY: no brigade there." in html
        assert '<span class="verdict verdict--disputed">Disputed</span>' in html
        assert "review not submitted yet" in html
        assert "<strong>Reviewers disagree</strong>" in html

    def test_editors_see_every_verdict_and_the_disagreement(
        self, assessed_by_reviewer, other_reviewer, as_editor
    ):
        workflow.assess_claim(
            review_of(other_reviewer, assessed_by_reviewer),
            factual(assessed_by_reviewer),
            by=other_reviewer,
            verdict="supported",
            note="B-CANARY",
        )
        html = as_editor.get(PAGE).content.decode()
        assert "A-CANARY" in html and "B-CANARY" in html
        assert "<strong>Reviewers disagree</strong>" in html
        assert "Otto Berg" in html

    def test_no_disagreement_flag_when_reviewers_agree(
        self, in_review, reviewer, other_reviewer, as_editor
    ):
        for person in (reviewer, other_reviewer):
            workflow.assess_claim(
                review_of(person, in_review), factual(in_review), by=person, verdict="supported"
            )
        assert "Reviewers disagree" not in as_editor.get(PAGE).content.decode()

    def test_a_reworded_claim_needs_a_re_check(self, assessed_by_reviewer, as_editor, as_reviewer):
        reword(factual(assessed_by_reviewer), "NATO troops are present in Estonia.")
        editor_html = as_editor.get(PAGE).content.decode()
        assert "Re-check needed:</strong> this verdict was given on the earlier wording" in (
            editor_html
        )
        assert "“NATO forces are present in Estonia.”" in editor_html
        reviewer_html = as_reviewer.get(PAGE).content.decode()
        assert "Re-check needed:</strong> you assessed the earlier wording" in reviewer_html

    def test_editors_comments_are_visible_to_every_reviewer(self, in_review, editor, as_other):
        workflow.add_comment(factual(in_review), by=editor, body="EDITOR-CANARY")
        assert "EDITOR-CANARY" in as_other.get(PAGE).content.decode()


class TestOrphans:
    def test_orphaned_claims_are_listed_with_their_old_words(self, in_review, as_reviewer):
        orphan, placed = factual(in_review), predictive(in_review)
        section = orphan.section
        section.body = "The paragraph was rewritten entirely."
        section.save()
        html = as_reviewer.get(PAGE).content.decode()
        assert "Orphaned claims" in html
        assert "Old wording:</span> “NATO forces are present in Estonia.”" in html
        assert f'<mark id="claim-{orphan.public_id}"' not in html
        assert f'<mark id="claim-{placed.public_id}"' in html
        assert "Claim 1" in html and "Claim 2" not in html


# --- Markup: accessible forms, no inline script or style -------------------------------------


def parsed(response):
    return html5lib.parse(response.content.decode(), namespaceHTMLElements=False)


@pytest.mark.parametrize("persona", ["reviewer", "editor", "superuser"])
def test_every_field_has_a_label_and_radio_groups_have_a_legend(
    in_review, persona, request, reviewer
):
    workflow.add_comment(factual(in_review), by=reviewer, body="A thread.")
    client = client_for(request.getfixturevalue(persona))
    for url in (PAGE, f"{PAGE}submit/"):
        document = parsed(client.get(url))
        labelled = {label.get("for") for label in document.iter("label")}
        fields = [
            field
            for tag in ("input", "textarea", "select")
            for field in document.iter(tag)
            if field.get("type") not in {"hidden", "submit"}
        ]
        for field in fields:
            assert field.get("id") in labelled, (url, field.attrib)
        for fieldset in document.iter("fieldset"):
            assert fieldset.find("legend") is not None
        radios = [f for f in fields if f.get("type") == "radio"]
        in_fieldsets = [r for fs in document.iter("fieldset") for r in fs.iter("input")]
        assert all(radio in in_fieldsets for radio in radios)
        ids = [element.get("id") for element in document.iter() if element.get("id")]
        assert len(ids) == len(set(ids)), url


def test_headings_do_not_skip_levels(in_review, reviewer, as_editor):
    workflow.add_comment(factual(in_review), by=reviewer, body="A thread.")
    document = parsed(as_editor.get(PAGE))
    main = document.find(".//main")
    levels = [int(el.tag[1]) for el in main.iter() if el.tag in {"h1", "h2", "h3", "h4"}]
    assert levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))


def test_the_page_loads_its_own_script_and_style_and_nothing_inline(in_review, as_reviewer):
    html = as_reviewer.get(PAGE).content.decode()
    assert '<script src="/static/js/review.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/css/review.css">' in html
    assert html.count("<script") == 1
    assert "<style" not in html and " style=" not in html and " on" + "click=" not in html


# --- Query counts -----------------------------------------------------------------------------


def paper_with(editor, reviewers, *, claims, comments, slug):
    """A paper in review with `claims` claims (three a section) and `comments` comments: threads
    opened by each reviewer and the editor, with replies, and verdicts from the first reviewer."""
    paper = PaperFactory(slug=slug)
    for s in range(claims // 3):
        body = " ".join(f"Point {s}-{i} is made." for i in range(3))
        section = SectionFactory(paper=paper, position=s, heading=f"Part {s}", body=body)
        for i in range(3):
            ClaimFactory(section=section, quote=f"Point {s}-{i} is made.")
    for person in reviewers:
        workflow.assign_reviewer(paper, person, by=editor)
    workflow.submit_paper(paper, by=editor)
    paper.refresh_from_db()
    all_claims = list(paper.claims.all())
    first = reviewers[0]
    for n, claim in enumerate(all_claims):
        verdict = ["supported", "disputed", "needs-source"][n % 3]
        workflow.assess_claim(review_of(first, paper), claim, by=first, verdict=verdict)
    people = [editor, *reviewers]
    roots = {}
    for n in range(comments):
        claim = all_claims[n % len(all_claims)]
        author = people[n % len(people)]
        parent = roots.get(claim.pk) if n % 2 else None
        comment = workflow.add_comment(claim, by=author, body=f"Comment {n}", parent=parent)
        roots.setdefault(claim.pk, comment)
    return paper


@pytest.mark.parametrize("persona", ["reviewer", "other_reviewer", "editor"])
def test_paper_page_queries_are_the_same_for_3_and_90_claims_on_every_part(
    persona, request, editor, reviewer, other_reviewer, django_assert_num_queries
):
    reviewers = [reviewer, other_reviewer]
    paper_with(editor, reviewers, claims=3, comments=5, slug="small")
    paper_with(editor, reviewers, claims=90, comments=450, slug="large")
    client = client_for(request.getfixturevalue(persona))
    # An editor's page also asks which workflow actions are theirs (papers/actions.py): their
    # role and the publish permission. Similar published claims cost the public revision and,
    # the first time a part is shown, one query for all its claims; then none (the cache).
    queries = {"reviewer": 18, "other_reviewer": 18, "editor": 23}[persona]
    with django_assert_num_queries(queries):
        assert client.get("/review/small/").status_code == 200
    for part, first, last in [(1, 1, 30), (2, 31, 60), (3, 61, 90)]:
        with django_assert_num_queries(queries):
            response = client.get(f"/review/large/?part={part}")
        headings = re.findall(r"Claim (\d+)\s*<span class=\"claim-kind", response.text)
        assert [int(n) for n in headings] == list(range(first, last + 1))
        with django_assert_num_queries(queries - 1):
            again = client.get(f"/review/large/?part={part}")
        assert re.findall(r"Claim (\d+)\s*<span class=\"claim-kind", again.text) == headings


# --- A long paper in parts --------------------------------------------------------------------


class TestParts:
    """A long paper's workspace comes in parts of whole sections (about 30 claims each)."""

    @pytest.fixture
    def long_paper(self, editor, reviewer, other_reviewer):
        return paper_with(editor, [reviewer, other_reviewer], claims=66, comments=0, slug="long")

    def test_a_short_paper_is_one_page_without_parts(self, as_reviewer, in_review):
        page = as_reviewer.get(f"/review/{in_review.slug}/").content.decode()
        assert "review-parts" not in page

    def test_every_part_lists_the_parts_with_their_sections_and_claims(
        self, as_reviewer, long_paper
    ):
        page = as_reviewer.get("/review/long/?part=2").content.decode()
        assert "This paper in 3 parts" in page
        assert '<a href="?part=1">Part 1: Part 0 to Part 9</a>' in page
        assert '<strong aria-current="page">Part 2: Part 10 to Part 19</strong>' in page
        assert "(claims 31–60)" in page
        assert '<a href="?part=3">Part 3: Part 20 to Part 21</a>' in page
        assert 'rel="prev"' in page and 'rel="next"' in page
        assert "Point 10-0 is made." in page and "Point 9-2 is made." not in page

    @pytest.mark.parametrize(("asked", "shown"), [("0", 1), ("abc", 1), ("99", 3), ("3", 3)])
    def test_a_part_out_of_range_shows_the_nearest(self, as_reviewer, long_paper, asked, shown):
        page = as_reviewer.get(f"/review/long/?part={asked}").content.decode()
        assert f'<strong aria-current="page">Part {shown}:' in page

    def test_an_action_returns_to_the_part_that_shows_the_claim(self, as_reviewer, long_paper):
        claim = long_paper.claims.get(quote="Point 12-1 is made.")
        response = as_reviewer.post(
            f"/review/long/claims/{claim.public_id}/comment/", {"body": "Which year?"}
        )
        assert response.status_code == 302
        assert response["Location"] == f"/review/long/?part=2#claim-note-{claim.public_id}"
        assert as_reviewer.get("/review/long/").content.decode().count("Which year?") == 0
        assert "Which year?" in as_reviewer.get("/review/long/?part=2").content.decode()

    def test_orphaned_claims_are_on_the_last_part_and_announced_on_the_others(
        self, as_reviewer, long_paper
    ):
        section = long_paper.sections.get(heading="Part 0")
        section.body = "Everything was rewritten."
        section.save()
        Claim.objects.filter(section=section).update(orphaned=True)
        first = as_reviewer.get("/review/long/").content.decode()
        assert '3 orphaned claims are listed at the end of <a href="?part=3' in first
        last = as_reviewer.get("/review/long/?part=3").content.decode()
        assert 'id="review-orphans-title"' in last
        assert last.count("review-claim--orphan") == 3
        assert as_reviewer.get("/review/long/?part=3").status_code == 200

    def test_the_submission_page_links_each_claim_to_its_part_in_constant_queries(
        self, editor, reviewer, other_reviewer, django_assert_num_queries
    ):
        reviewers = [reviewer, other_reviewer]
        paper_with(editor, reviewers, claims=3, comments=0, slug="short")
        long_paper = paper_with(editor, reviewers, claims=66, comments=0, slug="long")
        client = client_for(reviewer)
        with django_assert_num_queries(9):
            client.get("/review/short/submit/")
        with django_assert_num_queries(9):
            page = client.get("/review/long/submit/").content.decode()
        claim = long_paper.claims.get(quote="Point 12-1 is made.")
        assert f'href="/review/long/?part=2#claim-note-{claim.public_id}"' in page
        first = long_paper.claims.get(quote="Point 0-0 is made.")
        assert f'href="/review/long/#claim-note-{first.public_id}"' in page
