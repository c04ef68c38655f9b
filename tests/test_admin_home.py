"""The admin's home page, the editors' desk: papers by stage, reviews awaiting a decision,
overdue reviews, orphaned claims, scheduled and recent publications, each linking to where to
act, in a constant number of queries."""

import datetime
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from papers import dashboard, workflow
from papers.models import Assessment, Paper, Review
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

Stage = Paper.Stage
TODAY = timezone.localdate


# --- Reading the desk ---------------------------------------------------------------------------


@dataclass
class Block:
    text: str = ""
    links: list = field(default_factory=list)  # (link text, href), in page order

    def href(self, text):
        """The address of the one link whose text starts with `text`."""
        found = [href for label, href in self.links if label.startswith(text)]
        assert len(found) == 1, f"{len(found)} links start with {text!r}: {self.links}"
        return found[0]


class _DeskParser(HTMLParser):
    """Collects the text and links of each <section id="desk-…"> on the page."""

    def __init__(self):
        super().__init__()
        self.blocks, self.current, self.depth, self.link = {}, None, 0, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.current is not None:
            self.current.text += " "  # cells' texts apart
        if tag == "section":
            if self.current is None and (attrs.get("id") or "").startswith("desk-"):
                self.current = self.blocks.setdefault(attrs["id"][5:], Block())
            elif self.current is not None:
                self.depth += 1
        elif tag == "a" and self.current is not None:
            self.link = [attrs.get("href"), ""]

    def handle_endtag(self, tag):
        if self.current is not None:
            self.current.text += " "
        if tag == "section" and self.current is not None:
            if self.depth:
                self.depth -= 1
            else:
                self.current = None
        elif tag == "a" and self.link is not None:
            self.current.links.append((" ".join(self.link[1].split()), self.link[0]))
            self.link = None

    def handle_data(self, data):
        if self.current is not None:
            self.current.text += data
            if self.link is not None:
                self.link[1] += data


def desk(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    parser = _DeskParser()
    parser.feed(response.content.decode())
    for block in parser.blocks.values():
        block.text = " ".join(block.text.split())
    return parser.blocks


def changelist_titles(client, url):
    """The titles (or names) of the rows an admin list shows at `url`."""
    response = client.get(url)
    assert response.status_code == 200
    return {str(obj) for obj in response.context["cl"].result_list}


# --- Arranging papers and reviews ---------------------------------------------------------------


def paper_at(stage, title, **fields):
    return PaperFactory(title=title, stage=stage, **fields)


def published_paper(title):
    paper = PaperFactory(title=title)
    SectionFactory(paper=paper)
    workflow.publish_paper(paper, by=None, note="First edition.")
    paper.refresh_from_db()
    return paper


def in_review(title, *, claims=1, round=1):
    paper = paper_at(Stage.IN_REVIEW, title, round=round)
    section = SectionFactory(paper=paper, body="One. Two. Three. Four. Five. Six.")
    for n in range(claims):
        ClaimFactory(section=section, quote=["One.", "Two.", "Three.", "Four.", "Five."][n])
    return paper


def review(paper, reviewer, status=Review.Status.SUBMITTED, **fields):
    fields.setdefault("round", paper.round)
    if status == Review.Status.SUBMITTED:
        fields.setdefault("submitted_at", timezone.now())
    return Review.objects.create(paper=paper, reviewer=reviewer, status=status, **fields)


def assess(review, claim, *, carried_from=None):
    return Assessment.objects.create(
        review=review,
        claim=claim,
        verdict=Assessment.Verdict.SUPPORTED,
        claim_text=claim.quote,
        claim_hash=claim.text_hash,
        carried_from=carried_from,
    )


# --- Who may see it -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["anonymous", "outsider", "reviewer"])
def test_only_editors_reach_the_desk(request, persona):
    client = Client()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("persona", ["editor", "superuser"])
def test_editors_and_superusers_see_the_desk(request, persona):
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    assert set(desk(client)) == {
        "stages",
        "awaiting",
        "overdue",
        "orphans",
        "links",
        "forecasts",
        "scheduled",
        "recent",
    }


def test_the_admins_list_of_records_stays_beside_the_desk(editor_client):
    page = editor_client.get("/admin/").content.decode()
    assert "<h1>Editors’ desk</h1>" in page
    assert 'id="content-related"' in page
    for url in ["/admin/papers/paper/", "/admin/papers/claim/", "/admin/papers/source/"]:
        assert f'href="{url}"' in page


# --- Papers by stage ----------------------------------------------------------------------------


def test_an_empty_desk_says_so_in_every_block(editor_client):
    blocks = desk(editor_client)
    assert "Draft In review Changes requested Approved Published Withdrawn" in (
        blocks["stages"].text
    )
    assert [label for label, _ in blocks["stages"].links] == ["0 papers"] * 6
    assert "No submitted review is waiting for a decision." in blocks["awaiting"].text
    assert "No review is overdue." in blocks["overdue"].text
    assert "No claim is orphaned." in blocks["orphans"].text
    assert "No publication is scheduled." in blocks["scheduled"].text
    assert "Nothing has been published yet." in blocks["recent"].text


def test_each_paper_counts_once_and_each_count_links_to_exactly_its_papers(editor_client):
    expected = {
        "draft": {paper_at(Stage.DRAFT, "A draft").title},
        "in_review": {paper_at(Stage.IN_REVIEW, "Under review").title},
        "changes_requested": {paper_at(Stage.CHANGES_REQUESTED, "Back to the authors").title},
        "approved": {paper_at(Stage.APPROVED, "Ready 1").title, "Ready 2"},
        "published": {published_paper("Out there").title},
        "withdrawn": {"Taken back"},
    }
    paper_at(Stage.APPROVED, "Ready 2")
    workflow.withdraw_paper(published_paper("Taken back"), by=None, reason="Wrong figures.")
    # A published paper whose revision is in review counts under review, not as published.
    revised = published_paper("Being revised")
    Paper.objects.filter(pk=revised.pk).update(stage=Stage.IN_REVIEW)
    expected["in_review"].add("Being revised")

    links = desk(editor_client)["stages"].links
    assert [label for label, _ in links] == [
        f"{len(expected[key])} papers" for key, _, _ in dashboard.DESK_STAGES
    ]
    for (key, _, _), (_, href) in zip(dashboard.DESK_STAGES, links, strict=True):
        assert href.startswith("/admin/papers/paper/?")
        assert changelist_titles(editor_client, href.replace("&amp;", "&")) == expected[key]


# --- Reviews awaiting a decision ----------------------------------------------------------------


def test_a_submitted_review_shows_its_coverage_recommendation_and_round(editor_client, reviewer):
    paper = in_review("Baltic deterrence", claims=5)
    claims = list(paper.claims.order_by("pk"))
    mine = review(paper, reviewer, recommendation=Review.Recommendation.REVISE)
    assess(mine, claims[0])
    assess(mine, claims[1])
    assess(mine, claims[2], carried_from=0)  # carried from an earlier round, not yet confirmed
    review(paper, ReviewerFactory(username="second"), status=Review.Status.OPEN)
    review(paper, ReviewerFactory(username="gone"), status=Review.Status.CLOSED)

    block = desk(editor_client)["awaiting"]
    assert "Baltic deterrence reviewer Revise assessed 2 of 5 claims 1 of 2 (round 1)" in block.text
    assert block.href("Baltic deterrence") == f"/admin/papers/paper/{paper.pk}/change/"
    assert block.href("Open the review workspace") == f"/review/{paper.slug}/"


def test_only_submitted_reviews_of_the_open_round_of_papers_in_review_wait(editor_client, reviewer):
    waiting = in_review("Waiting", round=2)
    review(waiting, reviewer)
    review(waiting, ReviewerFactory(username="earlier"), round=1)  # an earlier round
    review(in_review("Still open"), reviewer, status=Review.Status.OPEN)
    decided = in_review("Decided")
    review(decided, reviewer)
    Paper.objects.filter(pk=decided.pk).update(stage=Stage.APPROVED)

    block = desk(editor_client)["awaiting"]
    assert [label for label, _ in block.links if not label.startswith("Open")] == ["Waiting"]
    assert "earlier" not in block.text


def test_reviews_wait_longest_first(editor_client, reviewer):
    now = timezone.now()
    review(in_review("Recent"), reviewer, submitted_at=now - datetime.timedelta(hours=1))
    review(in_review("Oldest"), reviewer, submitted_at=now - datetime.timedelta(days=3))
    block = desk(editor_client)["awaiting"]
    titles = [label for label, _ in block.links if not label.startswith("Open")]
    assert titles == ["Oldest", "Recent"]


# --- Overdue reviews ----------------------------------------------------------------------------


def test_an_open_review_past_its_due_date_shows_how_late_it_is(editor_client):
    late = ReviewerFactory(username="late", first_name="Lena", last_name="Late")
    paper = in_review("Sanctions")
    review(paper, late, status=Review.Status.OPEN, due_date=TODAY() - datetime.timedelta(days=3))

    block = desk(editor_client)["overdue"]
    assert "Lena Late Sanctions" in block.text
    assert "3 days" in block.text
    assert block.href("Sanctions") == f"/admin/papers/paper/{paper.pk}/change/"
    assert block.href("Email Lena Late") == "mailto:late@example.org"


def test_reviews_not_yet_due_submitted_or_outside_the_open_round_are_not_overdue(
    editor_client, reviewer
):
    past = TODAY() - datetime.timedelta(days=1)
    open_ = Review.Status.OPEN
    review(in_review("Due today"), reviewer, status=open_, due_date=TODAY())
    review(in_review("No due date"), reviewer, status=open_)
    review(in_review("Handed in"), reviewer, due_date=past)
    review(in_review("Old round", round=2), reviewer, status=open_, due_date=past, round=1)
    approved = in_review("Approved anyway")
    review(approved, reviewer, status=open_, due_date=past)
    Paper.objects.filter(pk=approved.pk).update(stage=Stage.APPROVED)

    assert "No review is overdue." in desk(editor_client)["overdue"].text


def test_overdue_reviews_come_most_overdue_first(editor_client, reviewer):
    for title, days in [("One day", 1), ("Ten days", 10), ("Two days", 2)]:
        due = TODAY() - datetime.timedelta(days=days)
        review(in_review(title), reviewer, status=Review.Status.OPEN, due_date=due)
    block = desk(editor_client)["overdue"]
    titles = [label for label, _ in block.links if not label.startswith("Email")]
    assert titles == ["Ten days", "Two days", "One day"]
    assert "10 days" in block.text
    assert "1 day " in block.text


# --- Orphaned claims ----------------------------------------------------------------------------


def test_orphaned_claims_are_counted_per_paper_and_link_to_them(editor_client):
    paper = PaperFactory(title="Orphans here")
    section = SectionFactory(paper=paper)
    ClaimFactory(section=section)  # still in its section
    ClaimFactory(section=section, quote="Russia has not attacked a NATO member.", orphaned=True)
    ClaimFactory(section=None, paper=paper, quote="Gone with its section.")
    ClaimFactory(section=SectionFactory(paper=PaperFactory(title="All anchored")))

    block = desk(editor_client)["orphans"]
    assert "Orphans here 2" in block.text
    assert "All anchored" not in block.text
    assert block.href("Orphans here") == f"/admin/papers/paper/{paper.pk}/change/"
    claims = changelist_titles(editor_client, block.href("2").replace("&amp;", "&"))
    assert claims == {"Russia has not attacked a NATO member.", "Gone with its section."}


def test_a_long_list_shows_its_first_rows_and_links_to_the_rest(editor_client, monkeypatch):
    monkeypatch.setattr(dashboard, "LIMIT", 2)
    for n, orphans in enumerate([1, 3, 2]):
        paper = PaperFactory(title=f"Paper {orphans}")
        for m in range(orphans):
            ClaimFactory(section=None, paper=paper, quote=f"Lost {n}.{m}")

    block = desk(editor_client)["orphans"]
    assert [label for label, _ in block.links][:4:2] == ["Paper 3", "Paper 2"]
    assert "Paper 1" not in block.text
    assert block.href("Every orphaned claim") == "/admin/papers/claim/?orphaned=yes"


# --- Scheduled and recent publications ----------------------------------------------------------


def test_scheduled_publications_come_soonest_first(editor_client):
    now = timezone.now()
    in_3_days = now + datetime.timedelta(days=3, minutes=30)
    later = paper_at(Stage.APPROVED, "Later", publish_at=in_3_days)
    paper_at(Stage.APPROVED, "Sooner", publish_at=now + datetime.timedelta(hours=5))
    paper_at(Stage.APPROVED, "By hand")
    paper_at(Stage.APPROVED, "Missed", publish_at=now - datetime.timedelta(hours=1))

    block = desk(editor_client)["scheduled"]
    assert [label for label, _ in block.links] == ["Missed", "Sooner", "Later"]
    assert "Past due" in block.text
    assert "in 3 days" in block.text
    assert block.href("Later") == f"/admin/papers/paper/{later.pk}/change/"


def test_the_last_five_versions_are_listed_newest_first(editor_client, editor):
    paper = published_paper("Many editions")
    for n in range(2, 7):
        workflow.publish_correction(paper, by=None, note=f"Correction {n}.")

    block = desk(editor_client)["recent"]
    versions = [label for label, _ in block.links if label.startswith("Many editions")]
    assert versions == [f"Many editions, v{n}" for n in range(6, 1, -1)]
    assert block.href("Many editions, v6") == "/papers/" + paper.slug + "/v6/"
    assert "Correction" in block.text


# --- Cost ---------------------------------------------------------------------------------------


def a_desk_of(size):
    """`size` papers of every kind the desk shows: in review with a submitted review and an
    overdue one, with orphaned claims, scheduled, and published (with its version)."""
    now, overdue = timezone.now(), TODAY() - datetime.timedelta(days=2)
    for n in range(size):
        paper = in_review(f"Reviewed {n}", claims=3)
        assess(review(paper, ReviewerFactory(username=f"done{n}")), paper.claims.first())
        review(paper, ReviewerFactory(username=f"late{n}"), status="open", due_date=overdue)
        ClaimFactory(section=None, paper=paper, quote=f"Lost {n}.")
        paper_at(Stage.APPROVED, f"Scheduled {n}", publish_at=now + datetime.timedelta(days=n + 1))
        published_paper(f"Published {n}")


def test_the_desk_costs_the_same_queries_for_few_papers_and_many(
    editor_client, django_assert_num_queries
):
    a_desk_of(1)
    # The session, the user, the editor check (twice), the user's and groups' permissions for
    # the list of records, and one query for each of the eight blocks.
    with django_assert_num_queries(14):
        blocks = desk(editor_client)
    assert "Reviewed 0" in blocks["awaiting"].text

    a_desk_of(dashboard.LIMIT + 5)  # more rows than a block shows
    with django_assert_num_queries(14):
        blocks = desk(editor_client)
    assert "Every orphaned claim" in blocks["orphans"].text
