"""The WSGI application answers stored readers' pages before Django's request cycle, with the
bytes and headers the stack gives them, and leaves everything else to the stack
(papers/fastpath.py, StoredPages)."""

import gzip
import io
from wsgiref.util import setup_testing_defaults

import brotli
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client

from config.wsgi import application
from papers import pagecache
from papers.models import PublicRevision
from tests.test_pagecache import publish

pytestmark = pytest.mark.django_db

PAGE = "/papers/harbours/"


class Answer:
    def __init__(self, status, headers, body, cycles):
        self.status = status
        self.headers = dict(headers)
        self.body = body
        self.cycles = cycles  # how many of Django's request cycles it took (0 or 1)


@pytest.fixture
def wsgi():
    """Calls the WSGI application as a server would; like Django's test client, it keeps the
    request cycle from closing the test's database connection."""
    cycles = []

    def started(**kwargs):
        cycles.append(1)

    def call(path, method="GET", query="", **headers):
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query}
        environ.update(
            {f"HTTP_{name.upper()}": value for name, value in headers.items()},
            **{"wsgi.input": io.BytesIO(b"")},
        )
        setup_testing_defaults(environ)  # SERVER_NAME 127.0.0.1, HTTP_HOST, wsgi.* keys
        replies = []
        before = len(cycles)
        chunks = application(environ, lambda status, headers: replies.append((status, headers)))
        body = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        return Answer(*replies[0], body, len(cycles) - before)

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.connect(started)
    try:
        yield call
    finally:
        request_started.disconnect(started)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def window(settings):
    settings.STANDPOINT_PAGE_REVISION_MS = 60_000
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]


@pytest.fixture
def harbours(editor):
    return publish(editor, "harbours", "Harbours of the Baltic")


@pytest.fixture
def stored(harbours, wsgi):
    """The page as the stack answered it, having kept it."""
    first = wsgi(PAGE)
    assert first.status == "200 OK" and first.cycles == 1
    return first


def test_a_stored_page_is_answered_without_a_request_cycle_or_a_query(
    stored, wsgi, django_assert_num_queries
):
    with django_assert_num_queries(0):
        again = wsgi(PAGE)
    assert again.cycles == 0
    assert again.status == "200 OK"
    assert again.body == stored.body
    assert again.headers == stored.headers


def test_it_sends_what_the_test_client_gets_from_the_middleware(stored, wsgi):
    """One page, whichever path answers it: the middleware's replay under ASGI and the test
    client, the WSGI application's in front of Django."""
    reader = Client()
    reader.get(PAGE)
    through_the_stack = reader.get(PAGE)
    again = wsgi(PAGE)
    assert again.body == through_the_stack.content
    assert again.headers == dict(through_the_stack.items())


@pytest.mark.parametrize(
    ("accept", "coding", "decode"),
    [("br", "br", brotli.decompress), ("gzip", "gzip", gzip.decompress)],
)
def test_each_client_gets_its_coding(stored, wsgi, accept, coding, decode):
    again = wsgi(PAGE, accept_encoding=accept)
    assert again.cycles == 0
    assert again.headers["Content-Encoding"] == coding
    assert int(again.headers["Content-Length"]) == len(again.body)
    assert decode(again.body) == stored.body
    assert "Accept-Encoding" in again.headers["Vary"]


def test_a_head_request_gets_the_headers_alone(stored, wsgi):
    head = wsgi(PAGE, method="HEAD")
    assert (head.status, head.body, head.cycles) == ("200 OK", b"", 0)
    assert head.headers["Content-Length"] == str(len(stored.body))


def test_a_matching_etag_gets_a_304_without_a_request_cycle(stored, wsgi):
    revalidated = wsgi(PAGE, if_none_match=stored.headers["ETag"])
    assert (revalidated.status, revalidated.body, revalidated.cycles) == (
        "304 Not Modified",
        b"",
        0,
    )
    assert "Content-Length" not in revalidated.headers


def test_security_headers_go_with_every_stored_answer(stored, wsgi, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = wsgi(PAGE)
    for name in ("Content-Security-Policy", "X-Frame-Options", "Permissions-Policy"):
        assert plain.headers[name] == stored.headers[name]
    assert "Strict-Transport-Security" not in plain.headers
    secure = wsgi(PAGE, x_forwarded_proto="https")
    assert secure.cycles == 0
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("request_kwargs", "status"),
    [
        ({"cookie": "sessionid=abc"}, "200 OK"),  # a session: a page of its own
        ({"method": "POST"}, "403 Forbidden"),  # no CSRF token
        ({"host": "elsewhere.example"}, "400 Bad Request"),  # not in ALLOWED_HOSTS
        ({"query": "x=%00"}, "400 Bad Request"),  # a NUL, refused for every view
        ({"if_match": '"not-this-page"'}, "412 Precondition Failed"),
    ],
)
def test_what_the_stack_must_answer_goes_through_it(stored, wsgi, request_kwargs, status):
    answer = wsgi(PAGE, **request_kwargs)
    assert answer.cycles == 1
    assert answer.status == status


def test_a_page_is_never_answered_once_the_revision_moves(stored, wsgi, editor):
    publish(editor, "bridges", "Bridges of the Baltic")  # this process: at once
    assert wsgi(PAGE).cycles == 1
    assert b"Bridges of the Baltic" in wsgi("/papers/").body


def test_another_servers_change_waits_for_the_window_to_pass(stored, wsgi, settings):
    PublicRevision.objects.update(token="from-another-server")
    assert wsgi(PAGE).cycles == 0  # the revision this process read is still fresh
    settings.STANDPOINT_PAGE_REVISION_MS = 0  # the window has passed
    assert wsgi(PAGE).cycles == 1
    assert pagecache.last_read.token == "from-another-server"


def test_an_answer_from_the_store_is_counted(stored, wsgi, settings):
    settings.STANDPOINT_METRICS_TOKEN = "a-metrics-token-for-tests-only"

    def hits():
        authorization = {"Authorization": f"Bearer {settings.STANDPOINT_METRICS_TOKEN}"}
        exposition = Client().get("/metrics", headers=authorization).content.decode()
        for line in exposition.splitlines():
            if line.startswith('standpoint_page_cache_lookups_total{result="hit"}'):
                return float(line.split()[-1])
        return 0.0

    before = hits()
    wsgi(PAGE)
    assert hits() == before + 1


def test_a_request_the_stack_must_redirect_to_https_is_left_to_it(stored, wsgi, settings):
    settings.SECURE_SSL_REDIRECT = True  # the stack's SecurityMiddleware read it at start-up
    assert wsgi(PAGE).cycles == 1
    assert wsgi(PAGE, x_forwarded_proto="https").cycles == 1  # no proxy header is trusted
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert wsgi(PAGE, x_forwarded_proto="https").cycles == 0
