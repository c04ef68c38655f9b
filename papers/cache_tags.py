"""What shared caches (Varnish, a CDN) may keep of readers' pages, and the tags they keep them by.

A page's tags come from its address alone: the paper, claim or tag the address names, and the
lists it belongs to. No query is needed to name them, so they cost nothing on a page that is
rendered, and a 404 at a paper's address (a paper not out yet) carries the tag its publication
purges. The other direction (which pages show a paper, a claim or a tag) is worked out when
something changes, by papers/purging.py, with the same names defined here.

Shared caches keep readers' pages long (STANDPOINT_SHARED_MAX_AGE) because every change readers
can see purges the pages it touches; browsers, which nothing can purge, keep them a minute, and
a 404 is kept a minute everywhere. A version's own address (/papers/<slug>/v<n>/ and what hangs
under it) shows an immutable version, but its notices still change: "not the latest" when a
newer version is out, the withdrawal notice, the tags' names. Shared caches keep it a year and
are told of each of those changes; browsers keep it no longer than any other page, or a
withdrawal would reach readers a year late.
"""

import re

from django.conf import settings
from django.utils.cache import patch_cache_control

YEAR = 365 * 24 * 60 * 60

# Every readers' page: purging it empties the shared cache (after a release that changes how
# pages look).
ALL = "all"
# Lists: pages that show many papers, claims or tags, purged whenever one of those changes.
PAPERS = "list:papers"
CLAIMS = "list:claims"
TAGS = "list:tags"
CORRECTIONS = "list:corrections"
FORECASTS = "list:forecasts"
LISTS = (PAPERS, CLAIMS, TAGS, CORRECTIONS, FORECASTS)

# The lists each readers' route belongs to, by view name (the one definition of a page's tags,
# with `page_tags` below). Routes not named here are not readers' pages.
ROUTE_LISTS = {
    "papers:home": (PAPERS, TAGS),
    "papers:list": (PAPERS, TAGS),
    "feed": (PAPERS,),
    "sitemap": (PAPERS, CLAIMS, TAGS),
    "papers:claims": (CLAIMS, TAGS),
    "papers:tags": (TAGS,),
    "papers:tag": (),
    "papers:corrections": (CORRECTIONS, TAGS),
    "corrections-feed": (CORRECTIONS,),
    "papers:detail": (),
    "papers:version": (),
    "papers:pdf": (),
    "papers:versions": (),
    "papers:diff": (),
    "papers:export": (),
    "papers:cite": (),
    "papers:cite-file": (),
    "papers:version-cite": (),
    "papers:version-cite-file": (),
    "papers:claim": (),
    "papers:claim-cite": (),
    "papers:claim-cite-file": (),
    "papers:forecasts": (FORECASTS, TAGS),
    # The read-only API (papers/api): the same papers, versions and claims as JSON.
    "api:index": (),
    "api:docs": (),
    "api:openapi-json": (),
    "api:papers": (PAPERS, TAGS),
    "api:paper": (),
    "api:version": (),
    "api:claims": (CLAIMS, TAGS),
    "api:claim": (),
    "api:corrections": (CORRECTIONS, TAGS),
}
# Pages of one version: what they show changes only through a purge (see the module's doc).
VERSION_ROUTES = {
    "papers:version",
    "papers:pdf",
    "papers:version-cite",
    "papers:version-cite-file",
    "api:version",
}
# Pages that change with the date alone (a forecast falls due): shared caches keep them no
# longer than browsers do.
DATED_ROUTES = {"papers:forecasts"}
# Statuses a shared cache may keep: a 404 is kept too (the paper's publication purges it).
KEPT_STATUSES = {200, 301, 304, 404}


def paper(slug):
    return f"paper:{slug}"


def claim(public_id):
    return f"claim:{public_id}"


def tag(slug):
    return f"tag:{slug}"


def page_tags(match):
    """The tags of the readers' page at a resolved address, or None for any other address."""
    if match is None or match.view_name not in ROUTE_LISTS:
        return None
    names = [ALL, *ROUTE_LISTS[match.view_name]]
    # Only an id or slug of ASCII letters, digits, - and _ names an object: anything else in the
    # address (a space, a newline) would split or break the header, and names nothing anyway.
    kwargs = {k: v for k, v in match.kwargs.items() if re.fullmatch(r"[-\w]+", str(v), re.ASCII)}
    if "public_id" in kwargs:
        names.append(claim(kwargs["public_id"]))
    elif "slug" in kwargs and match.view_name == "papers:tag":
        names.append(tag(kwargs["slug"]))
    elif "slug" in kwargs:
        names.append(paper(kwargs["slug"]))
    return names


def mark_shared(response, match):
    """Give a readers' response for every anonymous reader its Cache-Control and its tags, in
    each header the configured shared cache reads. Responses that are private already, set a
    cookie, or have a status no cache should keep are left as they are."""
    names = page_tags(match)
    cache_control = response.get("Cache-Control", "")
    if (
        names is None
        or response.status_code not in KEPT_STATUSES
        or "private" in cache_control
        or "no-store" in cache_control
        or response.cookies
    ):
        return
    shared = YEAR if match.view_name in VERSION_ROUTES else settings.STANDPOINT_SHARED_MAX_AGE
    if response.status_code == 404 or match.view_name in DATED_ROUTES:
        shared = settings.STANDPOINT_BROWSER_MAX_AGE
    patch_cache_control(
        response,
        public=True,
        max_age=_max_age(cache_control),
        s_maxage=shared,
        stale_while_revalidate=settings.STANDPOINT_STALE_WHILE_REVALIDATE,
    )
    for header, separator in tag_headers():
        response.headers[header] = separator.join(names)


def _max_age(cache_control):
    """The max-age the view chose itself (a PDF's day), else the browsers' default."""
    for directive in cache_control.split(","):
        name, _, value = directive.strip().partition("=")
        if name.lower() == "max-age" and value.isdigit():
            return int(value)
    return settings.STANDPOINT_BROWSER_MAX_AGE


def tag_headers():
    """(header, separator) of each header that carries a page's tags: always `xkey` (Varnish's
    xkey module), and those of the configured purge backend (papers/purging.py)."""
    from papers import purging  # which imports this module

    return (("xkey", " "), *purging.backend_class().tag_headers)


# The addresses each kind of tag names, for caches that purge by address (CloudFront). A list's
# pages take query strings (?page=, ?tag=), so it is purged with a wildcard, which also covers
# the pages under it; all of a paper's claims go as one wildcard rather than a path each.
LIST_PATHS = {
    ALL: ["/*"],
    PAPERS: ["/", "/papers/*", "/feed/", "/sitemap.xml", "/api/v1/papers/*"],
    CLAIMS: ["/claims/*", "/sitemap.xml", "/api/v1/claims/*"],
    TAGS: [
        "/",
        "/papers/*",
        "/claims/*",
        "/tags/*",
        "/corrections/*",
        "/forecasts/*",
        "/sitemap.xml",
        "/api/v1/*",
    ],
    CORRECTIONS: ["/corrections/*", "/api/v1/corrections/*"],
    FORECASTS: ["/forecasts/*"],
}


def paths(keys):
    """The addresses that hold the pages tagged with `keys`, each once, in a stable order."""
    found = []
    for key in sorted(keys):
        kind, _, name = key.partition(":")
        if key in LIST_PATHS:
            found.extend(LIST_PATHS[key])
        elif kind == "paper":
            found += [f"/papers/{name}/*", f"/api/v1/papers/{name}/*"]
        elif kind == "tag":
            found.append(f"/tags/{name}/*")
        elif kind == "claim":
            found += ["/claims/*", "/api/v1/claims/*"]
    return list(dict.fromkeys(found))
