"""A site whose every user-written field holds the XSS corpus of tests/xss.py made live,
for tests/browser/test_xss_browser.py: each payload's `alert(…)` becomes code that, if it ever ran,
would open a dialog, request a marker URL, mark the document with `data-xss` and set
`window.__xss`, all carrying a token that names the payload and the field it was stored in."""

import base64
import re

from django.apps import apps
from django.core.cache import caches

from papers import pagecache, workflow
from papers.models import Claim, Review
from tests.factories import (
    ClaimFactory,
    EditorFactory,
    PaperFactory,
    ReviewerFactory,
    SectionFactory,
    SourceFactory,
    TagFactory,
    approved,
)
from tests.xss import CORPUS

PAYLOADS = [(param.id, param.values[0]) for param in CORPUS]
IDS = [name for name, _ in PAYLOADS]
PASSWORD = "a long enough test passphrase"  # the factories' password
EVERY_APP = [config.name for config in apps.get_app_configs()]  # see test_review_flow.py

# --- Live payloads ----------------------------------------------------------------------------

# Where a payload is stored; a token is 77FFPPP: field FF, payload PPP.
FIELDS = [
    *("title", "title_v1", "standfirst", "byline", "heading", "body", "body_v1", "note"),
    *("source_title", "source_publisher", "source_quote", "source_url", "tag_name"),
    *("tag_description", "comment", "reply", "assessment_note", "review_summary"),
    *("first_name", "last_name", "withdrawal_reason", "version_note", "correction_note"),
    *("search", "filter", "next", "path", "preview", "admin_search"),
]
# Richest first; a field too short for one gets the next, or no payload. No space, quote, "<",
# ">", "&", "%" or "|": the code must run wherever `alert(1)` would (unquoted attributes,
# javascript: URLs, Markdown link destinations and table cells). The marker is requested
# relative to the page (a "/" would need quotes). A frame alerts once only, or a focus handler
# would loop on its own dialog. The top window's global is set last: that throws in a
# cross-origin frame.
LIVE_CODE = [
    "self.__xss?0:alert({n}),fetch(/xss-marker/.source+{n}),document.all[0].dataset.xss={n},"
    "self.__xss={n},top.__xss={n}",
    "self.__xss?0:alert({n}),self.__xss={n}",
]
CALL = re.compile(r"alert\([^()]*\)")
BASE64 = re.compile(r"(?<=base64,)[A-Za-z0-9+/]+=*")
TOKEN = re.compile(r"77\d{5}")
# Payloads for fields that must hold a URL, outside the corpus. Django's URLValidator accepts
# quotes and angle brackets after the host (as in test_xss_pages.py); `next` is a script URL.
EXTRA = {
    "hostile-url": 'https://example.org/?q="onmouseover="alert(1)"><script>alert(1)</script>',
    "script-url": "javascript:alert(1)",
}
EXTRA_START = 800  # extra payload k, copy j: index 800 + 100 k + j


def token(field, index):
    return 7_700_000 + FIELDS.index(field) * 1000 + index


ARMED = set()  # every token put in a payload


def field_of(n):
    return FIELDS[(int(n) - 7_700_000) // 1000]


def decode(n):
    """What a token names: the field and the corpus id of the payload."""
    field, index = divmod(int(n) - 7_700_000, 1000)
    if index >= EXTRA_START:
        return f"{FIELDS[field]} × {list(EXTRA)[(index - EXTRA_START) // 100]}"
    return f"{FIELDS[field]} × {IDS[index]}"


def live(index, field, limit=None):
    """Payload `index` instrumented for `field`, or None if even its shortest form is too long."""
    return arm(PAYLOADS[index][1], token(field, index), limit)


def arm(payload, n, limit=None):
    """`payload` with each alert(…) turned into the richest live code that fits `limit`."""
    ARMED.add(n)
    for template in LIVE_CODE:
        code = template.format(n=n)

        def swap(text, code=code):
            return CALL.sub(lambda _: code, text)

        text = swap(payload).replace("//evil.example/x.js", f"xss-marker/{n}.js")
        text = BASE64.sub(lambda m, swap=swap: _rebase64(m.group(), swap), text)
        if limit is None or len(text) <= limit:
            return text
    return None


def _rebase64(encoded, swap):
    decoded = base64.b64decode(encoded).decode("latin-1")  # a PNG's bytes come back unchanged
    return base64.b64encode(swap(decoded).encode("latin-1")).decode()


def joined(indices, field, *, limit=None):
    """The payloads as paragraphs, as many whole ones as fit `limit` characters."""
    text = ""
    for i in indices:
        more = f"{text}\n\n{live(i, field)}" if text else live(i, field)
        if limit is not None and len(more) > limit:
            break
        text = more
    return text


def first_fitting(ids, field, limit, used):
    """The first payload of `ids` not used yet in `field` whose live form fits `limit`."""
    for name in ids:
        index = IDS.index(name)
        if (field, index) not in used and (text := live(index, field, limit)):
            used.add((field, index))
            return text
    raise AssertionError(f"no payload fits {field}")


# Payloads aimed at one-line fields that land in <title>, attributes, JSON-LD and option lists.
BREAKERS = [
    *("polyglot-closers", "attr-breakout-svg", "textarea-close", "script", "img-onerror"),
    *("svg-onload", "input-onfocus", "details-ontoggle", "iframe-srcdoc", "noscript-mxss"),
    *("img-backticks", "a-slashes", "body-onload", "xmp", "comment-bang-close", "split-script"),
    *("double-open", "cdata", "img-broken-quotes", "svg-script", "math-mxss", "template"),
    *("p-onclick", "marquee", "isindex", "img-eval-src", "video-source", "style-attr"),
]
SECTIONS = 12  # payloads spread over 12 sections: a small paper that the workspace shows whole


# --- The hostile content ----------------------------------------------------------------------


def hostile_person(factory, username, used):
    return factory(
        username=username,
        first_name=first_fitting(BREAKERS, "first_name", 150, used),
        last_name=first_fitting(BREAKERS, "last_name", 150, used),
    )


def build_site():
    """Live payloads in every user-written field of a paper in review with two published
    versions, of its people, and of a withdrawn paper and four more on the listings. Returns
    what the tour needs: claim ids, primary keys and the people who sign in."""
    used = set()  # (field, payload index) pairs given to one-line fields
    groups = [list(range(len(PAYLOADS)))[s::SECTIONS] for s in range(SECTIONS)]
    people = {
        "editor": hostile_person(EditorFactory, "eda", used),
        "ria": hostile_person(ReviewerFactory, "ria", used),  # submits her review
        "rob": hostile_person(ReviewerFactory, "rob", used),  # his review stays open
    }
    commenters = [hostile_person(ReviewerFactory, f"c{k}", used) for k in range(4)]
    hostile_person(ReviewerFactory, "una", used)  # not assigned: in the editor's "assign" list
    tags = {}  # payload index -> its tag, for the payloads short enough for a tag's name
    for index in range(len(PAYLOADS)):
        if name := live(index, "tag_name", 80):
            description = live(index, "tag_description")
            tags[index] = TagFactory(slug=f"xss-{index}", name=name, description=description)

    paper, claims = hostile_paper(groups, tags, used, by=people["editor"])
    review(paper, claims, groups, people, commenters)
    other_papers(groups, tags, used, by=people["editor"])
    pagecache.memory.clear()  # no page that an earlier test rendered
    for cache in caches.all():
        cache.clear()
    return {
        "tags": [tag.slug for tag in tags.values()],
        "claims": [claim.public_id for claim in claims],
        "claim_pk": claims[1].pk,
        "section_pk": claims[1].section_id,
        "paper_pk": paper.pk,
        "users": people,
    }


def hostile_paper(groups, tags, used, *, by):
    """The paper, published twice: version 2 changes its title and every section's text, so
    that the diff shows payloads on both sides. One claim per section quotes all its text."""
    paper = PaperFactory(
        slug="hostile",
        title=first_fitting(BREAKERS, "title_v1", 300, used),
        # The search word opens the first payload's passage, so a snippet shows payloads too.
        standfirst="Zanzibar " + joined(range(len(PAYLOADS)), "standfirst"),
        byline=first_fitting(BREAKERS, "byline", 300, used),
    )
    paper.tags.add(*tags.values())
    claims = []
    for s, group in enumerate(groups):
        ids = [IDS[i] for i in group] + BREAKERS
        section = SectionFactory(
            paper=paper,
            position=s,
            heading=first_fitting(ids, "heading", 300, used),
            body=joined(group, "body_v1"),
        )
        source = SourceFactory(
            title=first_fitting(ids, "source_title", 300, used),
            publisher=first_fitting(BREAKERS, "source_publisher", 200, used),
            quote=joined(group, "source_quote"),
            url=arm(EXTRA["hostile-url"], token("source_url", EXTRA_START + s)),
        )
        source.full_clean()
        # Markdown's raw HTML is off, so the section's text holds the raw payloads verbatim.
        claim = ClaimFactory(
            paper=paper,
            section=section,
            quote=section.body_text,
            note=joined(group, "note"),
            kind=Claim.Kind.values[s % len(Claim.Kind.values)],
        )
        claim.full_clean()
        claim.sources.add(source)
        claim.tags.add(*(tags[i] for i in group if i in tags))
        claims.append(claim)
    workflow.publish_paper(approved(paper), by=by, note=joined(groups[0], "version_note"))

    paper.title = first_fitting(BREAKERS, "title", 300, used)
    paper.save()
    for claim, group in zip(claims, groups, strict=True):
        claim.section.body = joined(group, "body")
        claim.section.save()
        claim.quote = claim.section.body_text
        claim.save()
    workflow.publish_correction(paper, by=by, note=joined(groups[1], "correction_note"))
    return paper, claims


def review(paper, claims, groups, people, commenters):
    """Round 1: Ria comments on and disputes every claim (a concern opens a thread too) and
    submits a summary; the editor replies and resolves a thread; Rob's review stays open."""
    editor, ria, rob = people["editor"], people["ria"], people["rob"]
    for reviewer in [ria, rob, *commenters]:
        workflow.assign_reviewer(paper, reviewer, by=editor)
    workflow.submit_paper(paper, by=editor)
    hers = Review.objects.get(paper=paper, reviewer=ria)
    for claim, group in zip(claims, groups, strict=True):
        thread = workflow.add_comment(claim, by=ria, body=joined(group, "comment"))
        workflow.add_comment(claim, by=editor, body=joined(group, "reply"), parent=thread)
        note = joined(group, "assessment_note")
        workflow.assess_claim(hers, claim, by=ria, verdict="disputed", note=note)
    workflow.resolve_thread(thread, by=editor)
    for claim, group, commenter in zip(claims[:4], groups[:4], commenters, strict=True):
        workflow.add_comment(claim, by=commenter, body=joined(group, "comment"))
    his = Review.objects.get(paper=paper, reviewer=rob)
    note = joined(groups[2], "assessment_note")
    workflow.assess_claim(his, claims[0], by=rob, verdict="supported", note=note)
    summary = joined(groups[3], "review_summary")
    workflow.submit_review(hers, by=ria, recommendation="revise", summary=summary)


def other_papers(groups, tags, used, *, by):
    """A withdrawn paper, with every payload that fits in its reason, and four more papers
    with other payloads in their titles, standfirsts and bylines."""
    withdrawn = PaperFactory(slug="withdrawn", title=first_fitting(BREAKERS, "title", 300, used))
    SectionFactory(paper=withdrawn)
    workflow.publish_paper(approved(withdrawn), by=by)
    reason = joined(range(len(PAYLOADS)), "withdrawal_reason", limit=workflow.MAX_TEXT)
    workflow.withdraw_paper(withdrawn, by=by, reason=reason)
    for k in range(4):
        listed = PaperFactory(
            slug=f"listed-{k}",
            title=first_fitting(BREAKERS, "title", 300, used),
            standfirst=joined(groups[k + 4], "standfirst"),
            byline=first_fitting(BREAKERS, "byline", 300, used),
        )
        listed.tags.add(next(iter(tags.values())))
        SectionFactory(paper=listed)
        workflow.publish_paper(approved(listed), by=by)


# --- Detectors --------------------------------------------------------------------------------

# Long enough for image errors, autofocus, toggle events and the fetch they start; the positive
# control shows that it is. A frame that is not rendered gets no animation frames: a timer
# stands in.
