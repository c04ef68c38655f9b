"""The claims API under /api/v1/: what it shows (published content only, as published), how it
filters and pages, and its HTTP manners (400s in JSON, throttling, CORS, ETags, read-only)."""

from datetime import date, timedelta
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from papers import verdicts, workflow
from papers.api import reading
from papers.models import ClaimSource, Review, Version
from tests.factories import (
    ClaimFactory,
    PaperFactory,
    SectionFactory,
    SourceFactory,
    TagFactory,
    approved,
)
from tests.test_odd_input import ODD_VALUES

pytestmark = pytest.mark.django_db

DRAFT_WORDS = "unpublished-words-91c"
OUTLOOK = "Deterrence will hold for a decade. Allies ought to spend more on defence."


@pytest.fixture
def catalogue(editor, reviewer):
    """A paper reviewed and published twice (v2 a correction that rewords a claim), with
    typed sources; its working copy edited since; a second published paper; a withdrawn one;
    and a draft that was never published."""
    nato = TagFactory(slug="nato", name="NATO")
    baltics = TagFactory(slug="baltics", name="Baltic states")
    paper = PaperFactory(slug="forward-defence", title="Forward defence", byline="Ana Kask")
    paper.tags.set([nato])
    presence = SectionFactory(paper=paper, position=0, heading="Presence")
    outlook = SectionFactory(paper=paper, position=1, heading="Outlook", body=OUTLOOK)
    fact = ClaimFactory(section=presence, note="Counted in 2024.")
    fact.tags.set([nato, baltics])
    report, critique = SourceFactory(title="A report"), SourceFactory(title="A critique")
    ClaimSource.objects.create(claim=fact, source=report, use="supports")
    ClaimSource.objects.create(claim=fact, source=critique, use="qualifies")
    forecast = ClaimFactory(
        section=outlook,
        quote="Deterrence will hold for a decade.",
        kind="predictive",
        due=date(2026, 1, 31),
        resolves_when="No ally is attacked before the date.",
    )
    norm = ClaimFactory(
        section=outlook, quote="Allies ought to spend more on defence.", kind="normative"
    )
    workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    review = Review.objects.get(paper=paper, reviewer=reviewer)
    workflow.assess_claim(review, fact, by=reviewer, verdict="supported")
    workflow.assess_claim(review, forecast, by=reviewer, verdict="supported")
    workflow.submit_review(review, by=reviewer, recommendation="approve")
    workflow.publish_paper(approved(paper), by=editor, note="First edition.")
    norm.quote = "Allies ought to spend more on defence."
    outlook.body = OUTLOOK.replace("spend more", "spend more, and soon,")
    outlook.save()
    norm.quote = "Allies ought to spend more, and soon, on defence."
    norm.save()
    workflow.publish_correction(paper, by=editor, note="The spending claim made precise.")
    presence.body += f" {DRAFT_WORDS} in the working copy."
    presence.save()

    other = PaperFactory(slug="northern-flank", title="Northern flank")
    other.tags.set([baltics])
    ClaimFactory(
        section=SectionFactory(paper=other, body="Finland joined NATO in 2023."),
        quote="Finland joined NATO in 2023.",
        kind="historical",
    ).tags.set([baltics])
    workflow.publish_paper(approved(other), by=editor)

    gone = PaperFactory(slug="withdrawn-paper", title="Withdrawn paper")
    ClaimFactory(section=SectionFactory(paper=gone))
    workflow.publish_paper(approved(gone), by=editor)
    workflow.withdraw_paper(gone, by=editor, reason="Its data were wrong.")

    hidden = PaperFactory(slug="hidden-draft", title=f"Hidden {DRAFT_WORDS}")
    secret = ClaimFactory(
        section=SectionFactory(paper=hidden, body=f"Text {DRAFT_WORDS} here."),
        quote=f"Text {DRAFT_WORDS} here.",
    )
    secret.tags.set([nato])
    return {"paper": paper, "other": other, "gone": gone, "hidden": hidden, "fact": fact,
            "forecast": forecast, "norm": norm, "secret": secret}  # fmt: skip


@pytest.fixture
def client():
    return Client()


def get(client, url, status=200, **extra):
    response = client.get(url, **extra)
    assert response.status_code == status, (url, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


# --- What it shows -----------------------------------------------------------------------------


def test_the_index_points_at_every_list_the_schema_and_the_docs(client):
    index = get(client, "/api/v1/")
    assert index == {
        "papers": "http://127.0.0.1:8000/api/v1/papers/",
        "claims": "http://127.0.0.1:8000/api/v1/claims/",
        "corrections": "http://127.0.0.1:8000/api/v1/corrections/",
        "openapi": "http://127.0.0.1:8000/api/v1/schema/",
        "docs": "http://127.0.0.1:8000/api/v1/docs/",
    }


def test_the_schema_is_openapi_3_and_names_every_operation(client):
    schema = get(client, "/api/v1/schema/")
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/",
        "/api/v1/papers/",
        "/api/v1/papers/{slug}/",
        "/api/v1/papers/{slug}/versions/{number}/",
        "/api/v1/claims/",
        "/api/v1/claims/{public_id}/",
        "/api/v1/corrections/",
    }
    assert all(set(methods) == {"get"} for methods in schema["paths"].values())


def test_claims_carry_their_kind_tags_typed_sources_and_review_as_published(client, catalogue):
    claims = {c["id"]: c for c in get(client, "/api/v1/claims/")["results"]}
    fact = claims[catalogue["fact"].public_id]
    assert fact["text"] == "NATO forces are present in Estonia."
    assert fact["kind"] == "factual"
    assert fact["paper"] == "forward-defence" and fact["version"] == 2 and fact["number"] == 1
    assert fact["url"] == f"http://127.0.0.1:8000/claims/{fact['id']}/"
    assert fact["tags"] == [
        {"slug": "baltics", "name": "Baltic states"},
        {"slug": "nato", "name": "NATO"},
    ]
    assert fact["note"] == "Counted in 2024."
    assert [(s["title"], s["use"], s["cito"]) for s in fact["sources"]] == [
        ("A critique", "qualifies", "http://purl.org/spar/cito/qualifies"),
        ("A report", "supports", "http://purl.org/spar/cito/supports"),
    ]
    assert fact["evidence"] == "1 source supports it, 1 qualifies it."
    assert fact["review"] == {
        "status": "supported",
        "label": "Checked by 1 reviewer: supported",
        "reviewers": 1,
        "rating": 5,
        "notes": [],
    }
    # A forecast's status is worded as readers read it (papers/verdicts.py), not generically.
    forecast = claims[catalogue["forecast"].public_id]
    assert forecast["review"]["label"] == verdicts.label("supported", "predictive", 1)
    assert forecast["review"]["label"] == "Judged plausible by 1 reviewer"
    unchecked = claims[catalogue["norm"].public_id]["review"]
    assert unchecked["status"] == "unchecked" and unchecked["rating"] is None


def test_a_forecast_says_when_it_is_due_and_how_it_turned_out(client, catalogue, editor):
    public_id = catalogue["forecast"].public_id
    forecast = get(client, f"/api/v1/claims/{public_id}/")["forecast"]
    assert forecast == {
        "due": "2026-01-31",
        "resolves_when": "No ally is attacked before the date.",
        "state": "due",
        "state_label": "Due, not yet resolved",
        "resolution": None,
    }
    sources = [{"title": "Annual report", "url": "https://example.org/report"}]
    workflow.resolve_forecast(
        catalogue["forecast"], by=editor, outcome="partly", note="Mostly held.", sources=sources
    )
    claims = {c["id"]: c for c in get(client, "/api/v1/claims/?kind=predictive")["results"]}
    resolved = claims[public_id]["forecast"]
    assert (resolved["state"], resolved["state_label"]) == ("partly", "Partly came true")
    assert resolved["resolution"]["note"] == "Mostly held." and resolved["resolution"]["sources"]
    assert resolved["resolution"]["resolved_by"] == "Eda"  # the editor, by name
    version = get(client, "/api/v1/papers/forward-defence/versions/1/")
    assert [c["forecast"]["state"] for c in version["claims"] if c["forecast"]] == ["partly"]
    # Claims of other kinds have no forecast.
    assert claims.keys() == {public_id}
    assert get(client, f"/api/v1/claims/{catalogue['fact'].public_id}/")["forecast"] is None


def test_only_published_words_appear_never_a_draft_or_a_withdrawn_paper(client, catalogue):
    claims = get(client, "/api/v1/claims/")["results"]
    assert {c["paper"] for c in claims} == {"forward-defence", "northern-flank"}
    assert catalogue["secret"].public_id not in {c["id"] for c in claims}
    for url in ["/api/v1/claims/", "/api/v1/papers/", "/api/v1/papers/forward-defence/"]:
        assert DRAFT_WORDS not in client.get(url).content.decode()
    get(client, f"/api/v1/claims/{catalogue['secret'].public_id}/", 404)
    get(client, "/api/v1/papers/hidden-draft/", 404)
    get(client, "/api/v1/papers/hidden-draft/versions/1/", 404)


def test_papers_list_the_listed_ones_newest_first(client, catalogue):
    papers = get(client, "/api/v1/papers/")["results"]
    assert [p["slug"] for p in papers] == ["northern-flank", "forward-defence"]
    defence = papers[1]
    assert defence["title"] == "Forward defence" and defence["version"] == 2
    assert defence["standfirst"] == "A short *lede* for the paper."
    assert defence["tags"] == [{"slug": "nato", "name": "NATO"}]
    assert defence["claim_count"] == 3 and defence["withdrawn_at"] is None


def test_a_paper_lists_its_versions_and_a_withdrawn_one_says_why(client, catalogue):
    paper = get(client, "/api/v1/papers/forward-defence/")
    assert [(v["number"], v["is_correction"], v["note"]) for v in paper["versions"]] == [
        (1, False, "First edition."),
        (2, True, "The spending claim made precise."),
    ]
    assert paper["versions"][1]["sha256"] == Version.objects.get(number=2).fingerprint
    gone = get(client, "/api/v1/papers/withdrawn-paper/")
    assert gone["withdrawn_at"] and gone["withdrawal_reason"] == "Its data were wrong."


def test_a_version_is_shown_as_it_was_published(client, catalogue):
    first = get(client, "/api/v1/papers/forward-defence/versions/1/")
    assert first["latest"] is False and first["is_correction"] is False
    assert [s["heading"] for s in first["sections"]] == ["Presence", "Outlook"]
    assert first["sections"][1]["body"] == OUTLOOK
    assert [c["text"] for c in first["claims"]][2] == "Allies ought to spend more on defence."
    assert all(c["version"] == 1 for c in first["claims"])
    second = get(client, "/api/v1/papers/forward-defence/versions/2/")
    assert second["latest"] is True
    assert DRAFT_WORDS not in str(second)
    for number in ("3", "0", "2147483648"):
        get(client, f"/api/v1/papers/forward-defence/versions/{number}/", 404)


def test_a_claim_tells_its_history_across_corrections(client, catalogue):
    norm = get(client, f"/api/v1/claims/{catalogue['norm'].public_id}/")
    assert norm["text"] == "Allies ought to spend more, and soon, on defence."
    assert [(h["version"], h["is_correction"], h["changes"]) for h in norm["history"]] == [
        (1, False, ["First published"]),
        (2, True, ["Reworded"]),
    ]
    assert norm["removed_in"] is None
    get(client, "/api/v1/claims/nosuchclaim/", 404)


def test_the_corrections_log_lists_the_claims_each_correction_changed(client, catalogue):
    log = get(client, "/api/v1/corrections/")["results"]
    assert [(e["kind"], e["paper"]) for e in log] == [
        ("withdrawal", "withdrawn-paper"),
        ("correction", "forward-defence"),
    ]
    correction = log[1]
    assert correction["version"] == 2 and correction["note"] == "The spending claim made precise."
    assert correction["diff_url"] == "http://127.0.0.1:8000/papers/forward-defence/diff/1/2/"
    assert correction["claims"] == [
        {"id": catalogue["norm"].public_id, "section_heading": "Outlook", "changes": ["reworded"]}
    ]
    only = get(client, "/api/v1/corrections/?paper=forward-defence")["results"]
    assert [e["kind"] for e in only] == ["correction"]
    assert get(client, "/api/v1/corrections/?paper=hidden-draft", 404)["detail"]
    get(client, "/api/v1/corrections/?tag=no-such-tag", 404)


# --- Filters and pages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tag=baltics", {"fact", "finland"}),
        ("tag=nato", {"fact"}),
        ("kind=predictive", {"forecast"}),
        ("status=supported", {"fact", "forecast"}),
        ("status=unchecked&paper=forward-defence", {"norm"}),
        ("paper=northern-flank", {"finland"}),
        ("tag=baltics&kind=historical", {"finland"}),
        ("tag=no-such-tag", set()),
        ("status=disputed", set()),
    ],
)
def test_claims_filter_like_the_claims_page(client, catalogue, query, expected):
    names = {catalogue[k].public_id: k for k in ("fact", "forecast", "norm")}
    found = get(client, f"/api/v1/claims/?{query}")["results"]
    assert {names.get(c["id"], "finland") for c in found} == expected


def test_updated_since_keeps_what_was_published_at_or_after_it(client, catalogue):
    later = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert get(client, "/api/v1/claims/", data={"updated_since": later})["count"] == 0
    assert get(client, "/api/v1/papers/", data={"updated_since": later})["count"] == 0
    assert get(client, "/api/v1/claims/?updated_since=2000-01-01")["count"] == 4
    assert get(client, "/api/v1/papers/?updated_since=2000-01-01T00:00:00")["count"] == 2
    # Any offset ISO 8601 allows, those PostgreSQL refuses (beyond ±15:59) included.
    far_west = quote("2000-01-01T00:00:00-19:37")
    assert get(client, f"/api/v1/papers/?updated_since={far_west}")["count"] == 2


def test_pages_are_stable_link_each_other_and_cap_their_size(client, catalogue):
    everything = get(client, "/api/v1/claims/")
    assert everything["count"] == 4 and everything["pages"] == 1
    first = get(client, "/api/v1/claims/?limit=3")
    assert (first["count"], first["pages"], first["previous"]) == (4, 2, None)
    assert first["next"] == "http://127.0.0.1:8000/api/v1/claims/?page=2&limit=3"
    second = get(client, first["next"].removeprefix("http://127.0.0.1:8000"))
    assert second["next"] is None and second["previous"].endswith("?page=1&limit=3")
    ids = [c["id"] for c in first["results"] + second["results"]]
    assert ids == [c["id"] for c in everything["results"]]
    assert get(client, "/api/v1/claims/?limit=5000")["limit"] == 200
    missing = get(client, "/api/v1/claims/?limit=3&page=3", 404)
    assert missing == {"detail": "There is no page 3: the last is 2."}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("kind=opinion", "kind"),
        ("status=true", "status"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("page=2147483648", "page"),
        ("limit=0", "limit"),
        ("limit=-5", "limit"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=" + quote("9999-12-31T23:59:59-15:00"), "updated_since"),
        ("tag=not a slug", "tag"),
        ("paper=%C3%A9t%C3%A9", "paper"),
        ("tag=" + "x" * 81, "tag"),
    ],
)
def test_a_bad_parameter_is_a_400_that_names_it(client, catalogue, query, parameter):
    error = get(client, f"/api/v1/claims/?{query}", 400)
    assert [e["parameter"] for e in error["errors"]] == [parameter]
    assert error["detail"].startswith(f"{parameter}: ")


def test_bad_parameters_on_every_list_are_400s(client, catalogue):
    for url in ["/api/v1/papers/?page=x", "/api/v1/corrections/?limit=x"]:
        assert get(client, url, 400)["errors"]
    assert get(client, "/api/v1/papers/forward-defence/versions/v1/", 400)["errors"]


def test_an_address_that_names_nothing_is_a_json_404(client):
    assert get(client, "/api/v1/nothing-here/", 404) == {
        "detail": "Nothing is published at this address."
    }


@pytest.mark.parametrize("papers", [1, 4])
def test_a_page_of_claims_costs_the_same_queries_for_any_number_of_papers(
    client, editor, django_assert_num_queries, papers
):
    for n in range(papers):
        paper = PaperFactory(slug=f"paper-{n}")
        section = SectionFactory(paper=paper)
        ClaimFactory(section=section).tags.set([TagFactory(slug=f"tag-{n}")])
        workflow.publish_paper(approved(paper), by=editor)
    # The count, the claims with their versions and papers, and their versions' snapshot claims.
    with django_assert_num_queries(3):
        assert get(client, "/api/v1/claims/")["count"] == papers
    # The count, the papers with their live versions, and their tags.
    with django_assert_num_queries(3):
        assert get(client, "/api/v1/papers/")["count"] == papers


def test_other_pages_cost_a_fixed_number_of_queries(client, catalogue, django_assert_num_queries):
    public_id = catalogue["norm"].public_id
    for url, queries in [
        ("/api/v1/papers/forward-defence/", 3),
        # With a forecast among the claims: its standing resolution, in one more query.
        ("/api/v1/papers/forward-defence/versions/2/", 4),
        (f"/api/v1/claims/{public_id}/", 3),
        (f"/api/v1/claims/{catalogue['forecast'].public_id}/", 4),
        ("/api/v1/claims/", 4),
        ("/api/v1/corrections/", 8),
    ]:
        reading.published_claims.clear()  # each measured as if it came first
        with django_assert_num_queries(queries):
            get(client, url)


def test_a_versions_claims_are_decoded_once_per_process(
    client, catalogue, django_assert_num_queries
):
    """A version never changes: the second page that shows its claims reads the claims and
    the count alone (and the forecasts' resolutions, which can change, every time)."""
    reading.published_claims.clear()
    with django_assert_num_queries(4):
        first = get(client, "/api/v1/claims/")
    with django_assert_num_queries(3):
        assert get(client, "/api/v1/claims/") == first


# --- HTTP manners ------------------------------------------------------------------------------


def test_anonymous_clients_are_throttled_with_retry_after(client, catalogue, settings):
    settings.STANDPOINT_API_RATE = "3/min"
    for _ in range(3):
        get(client, "/api/v1/claims/")
    refused = client.get("/api/v1/claims/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json() == {"detail": "Too many requests."}
    # Another client address has its own count; the site's pages are not throttled.
    assert client.get("/api/v1/claims/", REMOTE_ADDR="10.0.0.2").status_code == 200
    assert client.get("/claims/").status_code == 200


def test_a_header_a_client_sends_does_not_give_it_a_new_count(client, settings):
    settings.STANDPOINT_API_RATE = "2/min"
    for n in range(2):
        get(client, "/api/v1/", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert client.get("/api/v1/", HTTP_X_FORWARDED_FOR="192.0.2.9").status_code == 429


def test_any_origin_may_read_without_credentials(client, catalogue):
    response = client.get("/api/v1/claims/", HTTP_ORIGIN="https://elsewhere.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert not response.has_header("Access-Control-Allow-Credentials")
    preflight = client.options(
        "/api/v1/claims/",
        HTTP_ORIGIN="https://elsewhere.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    # The rest of the site stays same-origin.
    assert not client.get("/claims/").has_header("Access-Control-Allow-Origin")


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_is_read_only(catalogue, method):
    """405, even from a client that sends no CSRF token (there is no write to forge)."""
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/api/v1/claims/", {})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"
    assert response.json()["detail"] == f"The API is read-only: {method.upper()} is not allowed."


def test_an_unchanged_answer_is_a_304_and_a_new_publication_changes_it(client, catalogue, editor):
    response = client.get("/api/v1/claims/")
    etag = response["ETag"]
    assert etag.startswith('W/"') and "max-age=60" in response["Cache-Control"]
    not_modified = client.get("/api/v1/claims/", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag
    workflow.publish_correction(catalogue["paper"], by=editor, note="Again.")
    assert client.get("/api/v1/claims/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_head_answers_the_headers_of_get(client, catalogue):
    get_response, head = client.get("/api/v1/papers/"), client.head("/api/v1/papers/")
    assert head.status_code == 200 and head.content == b""
    assert head["ETag"] == get_response["ETag"]


def test_the_docs_page_explains_use_and_every_operation_without_scripts(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    for words in ["No account or key", "Retry-After", "?limit=", "If-None-Match"]:
        assert words in page
    for path in ["/api/v1/claims/", "/api/v1/papers/{slug}/versions/{number}/"]:
        assert f"<code>{path}</code>" in page
    assert "<script" not in page
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


# --- Odd input (as tests/test_odd_input.py sends to every page) ---------------------------------

API_PARAMETERS = {
    "/api/v1/papers/": ["page", "limit", "tag", "updated_since"],
    "/api/v1/claims/": ["page", "limit", "tag", "kind", "status", "paper", "updated_since"],
    "/api/v1/corrections/": ["page", "limit", "tag", "paper"],
}


def test_odd_values_in_api_parameters_are_400s_or_404s_in_json(client, catalogue, settings):
    settings.STANDPOINT_API_RATE = "100000/min"
    schema = get(client, "/api/v1/schema/")
    for url, names in API_PARAMETERS.items():
        documented = {p["name"] for p in schema["paths"][url]["get"]["parameters"]}
        assert documented == set(names), url
        for name in names:
            for odd in [v for v in ODD_VALUES if v != "\x00"] + ["1e3", "", " 2", "2026-13-45"]:
                response = client.get(url, {name: odd})
                assert response.status_code in (200, 400, 404), (url, name, odd[:20])
                assert response["Content-Type"].startswith("application/json")
    for odd in ODD_VALUES[:4] + ["x" * 10_000, "..", "v1"]:
        for url in [f"/api/v1/papers/{odd}/", f"/api/v1/papers/forward-defence/versions/{odd}/"]:
            assert client.get(url).status_code in (400, 404), url[:60]
        assert client.get(f"/api/v1/claims/{odd}/").status_code == 404


def test_a_nul_anywhere_in_an_api_address_is_a_400(client):
    assert client.get("/api/v1/claims/?tag=%00").status_code == 400
    assert client.get("/api/v1/claims/a%00b/").status_code == 400


@pytest.mark.parametrize("odd", ["%0A", "a%20b", "%0D%0Aset-cookie:x"])
def test_a_control_character_or_space_in_an_id_is_a_plain_404(client, odd):
    """Found by the contract test: the id went into a cache-tag header and broke it (a 500)."""
    assert get(client, f"/api/v1/claims/{odd}/", 404)["detail"]
    assert client.get(f"/claims/{odd}/").status_code == 404
    assert client.get(f"/api/v1/papers/{odd}/").status_code == 404
