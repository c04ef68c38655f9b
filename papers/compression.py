"""Compressed readers' pages: which coding a client takes, and the page's bytes in each.

A page kept in the page cache (papers/pagecache.py) is compressed in a coding once, the first
time a client asks for that coding, and kept compressed: every later request only picks the bytes
of the coding its `Accept-Encoding` prefers. A coding no client asks for costs nothing (a new
search page read by one browser is compressed once, in Brotli).
Brotli (`brotli`, Google's own binding to its C library) at quality 5 takes some 45 ms for a
1.4 MB page and is within a few per cent of the size quality 9 reaches; quality 11 would cost
seconds of a worker's time per page. gzip at level 6, zlib's default, serves clients without
Brotli.

Only pages every anonymous reader shares are compressed: they hold no secret (no CSRF token,
no session), so compressing them next to text a visitor sent (a search query) reveals nothing
(the BREACH attack needs a secret in the same response).
"""

import functools
import gzip

import brotli

BROTLI_QUALITY = 5
GZIP_LEVEL = 6
# Below this, the headers weigh more than what compression saves.
MIN_BYTES = 200
COMPRESSIBLE_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/atom+xml",
    "application/ld+json",
)
# When a client weighs codings alike, the smallest wins.
PREFERENCE = ("br", "gzip", "identity")


def codings(body, content_type):
    """The codings a page can be sent in, best first: identity alone for a small page or one
    of a type that does not compress."""
    if len(body) < MIN_BYTES or not content_type.lower().startswith(COMPRESSIBLE_TYPES):
        return ("identity",)
    return PREFERENCE


def compress(body, coding):
    """`body` in `coding` ("br" or "gzip")."""
    if coding == "br":
        return brotli.compress(body, quality=BROTLI_QUALITY, mode=brotli.MODE_TEXT)
    # mtime=0: the same page gives the same bytes on every server (and the same length).
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


@functools.lru_cache(maxsize=256)  # browsers send a handful of distinct headers
def preferred(accept_encoding):
    """The codings the client accepts, most wanted first (RFC 9110, 12.5.3).

    `br;q=0` refuses Brotli; `*` stands for every coding not named; identity is acceptable
    unless refused (`identity;q=0`, or `*;q=0` without naming it) and comes last among equals.
    A client that refuses everything gets identity anyway: a page it can read beats a 406.
    """
    weights = {}
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip()
        if not coding:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    weight = 0.0  # a malformed weight accepts nothing
        weights[coding] = weight
    wildcard = weights.get("*")
    accepted = []
    for rank, coding in enumerate(PREFERENCE):
        weight = weights.get(coding, wildcard)
        if weight is None:
            weight = 0.001 if coding == "identity" else 0.0
        if weight > 0:
            accepted.append((-weight, rank, coding))
    return tuple(coding for _, _, coding in sorted(accepted)) or ("identity",)


def choose(accept_encoding, available):
    """The coding to send: the client's most wanted among those the page has."""
    for coding in preferred(accept_encoding or ""):
        if coding in available:
            return coding
    return "identity"
