"""XSS end to end (R15, R16): a published paper with the payload corpus of tests/xss.py in every
user-written field, and every page, export, feed, API answer and admin list that shows it,
parsed with html5lib as a browser would and judged by `violations`.
"""

from xml.etree import ElementTree

import html5lib
import pytest
from django.core.exceptions import ValidationError

from papers import workflow
from papers.models import Paper, VersionClaim
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    SectionFactory,
    SourceFactory,
    TagFactory,
    approved,
)
from tests.xss import CORPUS, violations

# --- End to end: every user-written field on every public page -------------------------------


def squash(text):
    return " ".join(text.split())


def text_of(root, tag, cls=None):
    for element in root.iter():
        if element.tag == tag and (cls is None or cls in element.get("class", "").split()):
            return squash("".join(element.itertext()))
    raise AssertionError(f"no <{tag} class={cls!r}> on the page")


# Django's URLValidator accepts quotes and angle brackets after the host.
HOSTILE_URL = 'https://example.org/?q="onmouseover="alert(1)"><script>alert(1)</script>'


@pytest.fixture
def hostile_paper(request, editor):
    payload = request.param
    tag = TagFactory(slug="hostile", name=payload[:80], description=payload)
    paper = PaperFactory(
        slug="hostile", title=payload[:300], standfirst=payload, byline=payload[:300]
    )
    paper.tags.add(tag)
    section = SectionFactory(paper=paper, heading=payload[:300], body=f"Claim text.\n\n{payload}")
    source = SourceFactory(title=payload[:300], publisher=payload[:200], quote=payload)
    source.url = HOSTILE_URL
    source.full_clean()
    source.save()
    claim = ClaimFactory(section=section, quote=section.body_text, note=payload)
    claim.full_clean()
    claim.tags.add(tag)
    claim.sources.add(source)
    workflow.publish_paper(approved(paper), by=editor)
    return payload


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_fields_reach_no_public_page_as_markup(client, hostile_paper):
    """R15, R16: a published paper full of payloads shows them only as inert text."""
    payload = hostile_paper
    pages = ["/papers/hostile/", "/papers/hostile/v1/", "/papers/", "/papers/?tag=hostile", "/"]
    pages += ["/tags/"]
    for url in [*pages, "/tags/hostile/", "/papers/hostile/cite/", "/papers/hostile/v1/cite/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert violations(response.content.decode(), page=True) == [], url
    root = html5lib.parse(client.get("/papers/hostile/").content, namespaceHTMLElements=False)
    assert text_of(root, "h1", "paper__title") == squash(payload[:300])
    assert text_of(root, "title") == squash(f"{payload[:300]} · Standpoint")
    assert text_of(root, "span", "paper__byline") == squash(f"By {payload[:300]}")
    assert text_of(root, "a", "tag") == squash(payload[:80])
    note = text_of(root, "div", "claim-note__note")
    assert note.replace(" ", "") == "".join(payload.split())
    (claim_note,) = [el for el in root.iter("li") if el.get("id", "").startswith("claim-note-")]
    links = [el.get("href") for el in claim_note.findall("a")]  # not those of the editor's note
    assert [href for href in links if not href.startswith(("/", "#"))] == [HOSTILE_URL]


@pytest.mark.parametrize("hostile_paper", [CORPUS[0], CORPUS[-2]], indirect=True)
def test_exports_are_not_served_as_html(client, hostile_paper):
    """R15: exports carry raw Markdown, so browsers must not render them as a page."""
    markdown = client.get("/papers/hostile/export.md")
    assert markdown["Content-Type"] == "text/markdown; charset=utf-8"
    data = client.get("/papers/hostile/export.json")
    assert data["Content-Type"] == "application/json"
    assert data.json()["title"] == hostile_paper
    for response in (markdown, data):
        assert response.status_code == 200
        assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_the_api_carries_hostile_fields_as_inert_json(client, hostile_paper):
    """R15, R16: the claims API gives every field back exactly, as JSON that holds no markup
    (<, > and & escaped), served as JSON and never sniffed; its docs page shows none of it."""
    payload = hostile_paper
    claim_id = Paper.objects.get(slug="hostile").claims.get().public_id
    urls = ["/api/v1/papers/", "/api/v1/papers/hostile/", "/api/v1/papers/hostile/versions/1/"]
    urls += ["/api/v1/claims/?tag=hostile", f"/api/v1/claims/{claim_id}/"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/json; charset=utf-8", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert not {"<", ">"} & set(response.content.decode()), url
    paper = client.get("/api/v1/papers/hostile/").json()
    assert (paper["title"], paper["byline"], paper["standfirst"]) == (
        payload[:300],
        payload[:300],
        payload,
    )
    claim = client.get(f"/api/v1/claims/{claim_id}/").json()
    assert claim["note"] == payload and claim["tags"][0]["name"] == payload[:80]
    assert claim["sources"][0]["title"] == payload[:300]
    assert claim["sources"][0]["url"] == HOSTILE_URL
    docs = client.get("/api/v1/docs/").content.decode()
    assert violations(docs, page=True) == []


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_corrections_reach_the_log_and_its_feed_only_as_text(client, editor, hostile_paper):
    """R15, R16: the corrections log and its feed show notes, titles and claims as text."""
    paper = Paper.objects.get(slug="hostile")
    claim = paper.claims.get()
    claim.kind = "normative"  # a changed claim, so the log lists its words
    claim.save()
    workflow.publish_correction(paper, by=editor, note=hostile_paper)
    workflow.withdraw_paper(paper, by=editor, reason=hostile_paper)
    html = client.get("/corrections/").content.decode()
    # <ins> is the log's own markup for inserted words, as on the diff page.
    assert [v for v in violations(html, page=True) if v != "<ins> element"] == []
    root = html5lib.parse(html, namespaceHTMLElements=False)
    notes = [squash("".join(el.itertext())) for el in root.iter("div")]
    expected = "".join(hostile_paper.split())
    assert sum(expected in note.replace(" ", "") for note in notes) == 2  # note and reason
    feed = ElementTree.fromstring(client.get("/corrections/feed/").content)
    atom = "{http://www.w3.org/2005/Atom}"
    for element in [*feed.iter(f"{atom}summary"), *feed.iter(f"{atom}content")]:
        assert [v for v in violations(element.text) if v != "<ins> element"] == []


# The forecasts page's own markup: its chart (inline SVG, no script) and its filter form.
FORECAST_PAGE_MARKUP = {
    f"<{tag}> element"
    for tag in ("svg", "g", "rect", "text", "title", "desc", "form", "label", "select", "option")
}
FORECAST_PAGE_MARKUP |= {"<button> element", "<caption> element"}


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_forecasts_and_resolutions_reach_pages_only_as_text(client, editor, hostile_paper):
    """R15, R16: a forecast's criteria, and its resolution's note and sources, show as text on
    the versions, the claim's page and /forecasts/ (whose chart draws the figures, not words)."""
    paper = Paper.objects.get(slug="hostile")
    claim = paper.claims.get()
    claim.kind, claim.due, claim.resolves_when = "predictive", "2020-01-01", hostile_paper
    claim.save()
    workflow.publish_correction(paper, by=editor, note="Now a forecast.")
    forecast = VersionClaim.objects.get(version__number=2, public_id=claim.public_id)
    source = {"title": hostile_paper[:300], "url": HOSTILE_URL}
    workflow.resolve_forecast(
        forecast, by=editor, outcome="partly", note=hostile_paper, sources=[source]
    )
    for url in ["/papers/hostile/", "/papers/hostile/v2/", f"/claims/{claim.public_id}/"]:
        html = client.get(url).content.decode()
        assert violations(html, page=True) == [], url
        assert 'href="https://example.org/?q=&quot;onmouseover' in html, url
    for url in ["/forecasts/", "/forecasts/?paper=hostile&tag=hostile"]:
        html = client.get(url).content.decode()
        assert [v for v in violations(html, page=True) if v not in FORECAST_PAGE_MARKUP] == []
    markdown = client.get("/papers/hostile/export.md").content.decode()
    assert "resolutions:" in markdown


def test_sources_refuse_non_web_urls(db):
    """R15: a source link is http(s) only, so `href="{{ source.url }}"` cannot run script."""
    source = SourceFactory.build(url="javascript:alert(1)")
    with pytest.raises(ValidationError):
        source.full_clean()


@pytest.mark.parametrize("hostile_paper", CORPUS, indirect=True)
def test_hostile_titles_reach_the_pdf_pending_page_and_the_task_admin_only_as_text(
    client, editor_client, task_queue, hostile_paper
):
    """R15, R16: the page saying a PDF is being typeset, and a failed task's arguments and
    error in the editors' admin, show user-written text only as text."""
    from django.utils.html import escape
    from django_tasks_db.models import DBTaskResult, get_date_max

    response = client.get("/papers/hostile/v1/paper.pdf")
    assert response.status_code == 503
    assert violations(response.content.decode(), page=True) == []
    failed = DBTaskResult.objects.create(
        task_path="papers.notifications.send_email",
        args_kwargs={"args": [hostile_paper[:300], hostile_paper, "a@example.org"], "kwargs": {}},
        backend_name="default",
        run_after=get_date_max(),
        status="FAILED",
        exception_class_path="smtplib.SMTPDataError",
        traceback=f"smtplib.SMTPDataError: (554, {hostile_paper!r})",
    )
    admin = "/admin/django_tasks_database/dbtaskresult/"
    for url in [admin, f"{admin}?status__exact=FAILED", f"{admin}{failed.pk}/change/"]:
        html = editor_client.get(url).content.decode()
        assert "<" not in hostile_paper or hostile_paper not in html, url
    assert escape(f"(554, {hostile_paper!r})") in html
