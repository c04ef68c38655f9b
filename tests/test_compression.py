"""Readers' pages compressed in each coding once, when a client first asks for it, and sent in
the coding each client prefers (papers/compression.py, papers/fastpath.py)."""

import gzip
import json
import secrets

import brotli
import pytest
from django.http import HttpResponse
from django.test import Client

from papers import compression, pagecache, workflow
from tests.factories import ClaimFactory, PaperFactory, SectionFactory, approved

pytestmark = pytest.mark.django_db

PAGE = "/papers/harbours/"
BR = {"Accept-Encoding": "gzip, deflate, br, zstd"}  # what Chromium sends


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def harbours(editor):
    paper = PaperFactory(slug="harbours", title="Harbours of the Baltic")
    body = " ".join(f"Harbour {n} is deep and ice-free in winter." for n in range(200))
    section = SectionFactory(paper=paper, body=body)
    ClaimFactory(section=section, quote="Harbour 7 is deep and ice-free in winter.")
    workflow.publish_paper(approved(paper), by=editor)
    return paper


def decoded(response):
    coding = response.get("Content-Encoding")
    if coding == "br":
        return brotli.decompress(response.content)
    if coding == "gzip":
        return gzip.decompress(response.content)
    assert coding is None
    return response.content


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("BR;Q=0, GZIP", "gzip"),
        ("gzip;q=0.9, br;q=0.5", "gzip"),
        ("gzip;q=0.5, br;q=0.5", "br"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("br;q=nonsense, gzip", "gzip"),
        ("gzip;q=0.2, identity", None),
        ("deflate", None),
        ("", None),
        ("identity;q=0, *;q=0", None),  # refuses everything: a page it can read beats a 406
    ],
)
def test_each_client_gets_the_coding_it_prefers(anonymous, harbours, accept_encoding, coding):
    identity = anonymous.get(PAGE).content
    response = anonymous.get(PAGE, headers={"Accept-Encoding": accept_encoding})
    assert response.get("Content-Encoding") == coding
    assert decoded(response) == identity
    assert response["Content-Length"] == str(len(response.content))


def test_a_client_without_accept_encoding_gets_the_page_as_it_is(anonymous, harbours):
    response = anonymous.get(PAGE)
    assert not response.has_header("Content-Encoding")
    assert response["Content-Length"] == str(len(response.content))
    assert b"Harbour 7 is deep" in response.content


def test_the_page_is_much_smaller_on_the_wire(anonymous, harbours):
    identity = len(anonymous.get(PAGE).content)
    assert len(anonymous.get(PAGE, headers=BR).content) < identity / 3
    assert len(anonymous.get(PAGE, headers={"Accept-Encoding": "gzip"}).content) < identity / 2


def test_every_response_says_it_varies_by_coding_and_cookie(anonymous, harbours):
    for headers in ({}, BR, {"Accept-Encoding": "gzip"}):
        vary = {part.strip() for part in anonymous.get(PAGE, headers=headers)["Vary"].split(",")}
        assert {"Accept-Encoding", "Cookie"} <= vary


def test_each_coding_is_made_once_when_a_client_first_asks_for_it(anonymous, harbours, monkeypatch):
    made = []
    real = compression.compress
    monkeypatch.setattr(
        compression, "compress", lambda body, coding: made.append(coding) or real(body, coding)
    )
    anonymous.get(PAGE)
    assert made == []  # nobody asked for a compressed page yet
    first = anonymous.get(PAGE, headers=BR)
    for headers in (BR, {"Accept-Encoding": "gzip"}, {}, BR, {"Accept-Encoding": "gzip"}):
        anonymous.get(PAGE, headers=headers)
    assert made == ["br", "gzip"]

    def refuse(*args, **kwargs):
        raise AssertionError("compressed at a request")

    monkeypatch.setattr(brotli, "compress", refuse)
    monkeypatch.setattr(gzip, "compress", refuse)
    again = anonymous.get(PAGE, headers=BR)
    assert again.content == first.content  # the first answer was the kept bytes already


def test_a_coding_nobody_asks_for_costs_no_memory(anonymous, harbours):
    identity = anonymous.get(PAGE).content
    ((page, _),) = pagecache.memory.entries.values()
    assert set(page.variants) == {"identity"}
    assert pagecache.memory.size == len(identity)


def test_a_page_that_compression_would_enlarge_is_sent_as_it_is(rf):
    response = HttpResponse(secrets.token_bytes(4096), content_type="text/plain")
    page = pagecache.keep("page:noise", rf.get("/noise/"), response)
    assert page.codings == ("br", "gzip", "identity")
    for coding in ("br", "gzip"):
        assert pagecache.variant("page:noise", page, coding) is page.variants["identity"]
    assert page.codings == ("identity",) and set(page.variants) == {"identity"}
    assert compression.choose("br, gzip", page.codings) == "identity"


def test_a_compressed_page_from_the_cache_costs_one_query(
    anonymous, harbours, django_assert_num_queries
):
    anonymous.get(PAGE, headers=BR)
    with django_assert_num_queries(1):
        response = anonymous.get(PAGE, headers={"Accept-Encoding": "gzip"})
    assert response["Content-Encoding"] == "gzip"


def test_head_gets_the_headers_of_the_same_get_and_no_body(anonymous, harbours):
    get = anonymous.get(PAGE, headers=BR)
    head = anonymous.head(PAGE, headers=BR)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("Content-Encoding", "Content-Length", "ETag", "Content-Type", "Vary"):
        assert head[name] == get[name]


def test_a_weak_etag_matches_in_every_coding(anonymous, harbours):
    etag = anonymous.get(PAGE, headers=BR)["ETag"]
    assert etag.startswith('W/"')
    assert anonymous.get(PAGE)["ETag"] == etag
    for headers in ({}, BR, {"Accept-Encoding": "gzip"}):
        response = anonymous.get(PAGE, headers={**headers, "If-None-Match": etag})
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == etag
        assert not response.has_header("Content-Encoding")
        assert "Accept-Encoding" in response["Vary"]


def test_a_strong_etag_is_weakened_for_the_compressed_bytes(anonymous, harbours):
    """The JSON export's ETag is the SHA-256 of its bytes: the compressed bytes are not those,
    so they carry its weak form, which revalidates the same way."""
    url = "/papers/harbours/export.json"
    plain = anonymous.get(url)
    strong = plain["ETag"]
    assert strong.startswith('"sha256-')
    compressed = anonymous.get(url, headers=BR)
    assert compressed["Content-Encoding"] == "br"
    assert compressed["ETag"] == "W/" + strong
    assert json.loads(decoded(compressed)) == json.loads(plain.content)
    not_modified = anonymous.get(url, headers={**BR, "If-None-Match": strong})
    assert not_modified.status_code == 304
    assert not_modified["ETag"] == "W/" + strong
    assert anonymous.get(url, headers={"If-None-Match": "W/" + strong}).status_code == 304


@pytest.mark.parametrize(
    "url", ["/", "/papers/", "/claims/", "/feed/", "/sitemap.xml", "/papers/harbours/export.md"]
)
def test_listings_feeds_and_exports_are_compressed_too(anonymous, harbours, url):
    plain = anonymous.get(url).content
    response = anonymous.get(url, headers=BR)
    assert response["Content-Encoding"] == "br"
    assert decoded(response) == plain


def test_signed_in_users_pages_are_not_compressed(editor_client, harbours):
    """Their pages hold a CSRF token next to what the visitor typed: compressing them would
    open them to BREACH, and each is rendered for one request anyway."""
    response = editor_client.get(PAGE, headers=BR)
    assert not response.has_header("Content-Encoding")
    assert b"Sign out" in response.content


def test_a_missing_page_is_neither_kept_nor_compressed(anonymous, db):
    response = anonymous.get("/papers/nowhere/", headers=BR)
    assert response.status_code == 404
    assert not response.has_header("Content-Encoding")
    assert pagecache.memory.size == 0


def test_a_head_request_first_does_not_fill_the_cache_with_an_empty_page(anonymous, harbours):
    assert anonymous.head(PAGE).status_code == 200
    assert b"Harbour 7 is deep" in anonymous.get(PAGE).content


def test_small_bodies_and_binary_types_stay_as_they_are():
    assert compression.codings(b"<p>short</p>", "text/html; charset=utf-8") == ("identity",)
    assert compression.codings(b"\x89PNG" * 200, "image/png") == ("identity",)
    assert compression.codings(b"<p>long</p>" * 100, "text/html") == ("br", "gzip", "identity")
