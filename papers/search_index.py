"""The search index: what papers.search finds published papers in, rewritten when a version is
published and dropped when the paper is withdrawn.

Each paper has one SearchDocument (its live version's title, standfirst, claims and sections;
on PostgreSQL also their weighted tsvector) and the passages its snippets are cut from: a
sentence or two each, at most PASSAGE_CHARS, since highlighting reads every word it is given.
"""

import re

from django.contrib.postgres.search import SearchVector
from django.db import connection
from django.db.models import Value

from papers import rendering
from papers.models import SearchDocument
from papers.models.search import SearchPassage
from papers.search import CONFIG, START, STOP

# ts_headline takes some 50 µs for 600 characters; a snippet shows at most 35 words.
PASSAGE_CHARS = 320
# The snippets' markers cannot come from an author: indexed text is cleared of them.
_NO_MARKERS = {ord(START): None, ord(STOP): None}
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def index(version, document):
    """Make the paper's search entry the text of this version (called when it is published)."""
    standfirst = rendering.html_to_text(version.standfirst_html)
    sections = [
        (section["heading"], rendering.html_to_text(rendering.render_markdown(section["body"])))
        for section in document["sections"]
    ]
    fields = {
        "title": version.title,
        "standfirst": standfirst,
        "claims": "\n".join(claim["quote"] for claim in document.get("claims", [])),
        "body": "\n".join(f"{heading}\n{text}" for heading, text in sections),
    }
    fields = {name: text.translate(_NO_MARKERS) for name, text in fields.items()}
    entry, _ = SearchDocument.objects.update_or_create(paper=version.paper, defaults=fields)
    entry.passages.all().delete()
    texts = [standfirst, *(text for _, text in sections)]
    SearchPassage.objects.bulk_create(
        SearchPassage(document=entry, position=n, text=text.translate(_NO_MARKERS))
        for n, text in enumerate(passage for text in texts for passage in passages(text))
    )
    if connection.vendor == "postgresql":
        SearchDocument.objects.filter(pk=entry.pk).update(
            vector=SearchVector(Value(fields["title"]), weight="A", config=CONFIG)
            + SearchVector(Value(fields["standfirst"]), weight="B", config=CONFIG)
            + SearchVector(Value(fields["claims"]), weight="B", config=CONFIG)
            + SearchVector(Value(fields["body"]), weight="C", config=CONFIG)
        )
        entry.passages.update(vector=SearchVector("text", config=CONFIG))
    return entry


def passages(text):
    """The text in passages of at most PASSAGE_CHARS, cut between sentences (between words in
    a sentence longer than that)."""
    found, current = [], ""
    for sentence in _SENTENCE_END.split(" ".join(text.split())):
        while len(sentence) > PASSAGE_CHARS:
            cut = sentence.rfind(" ", 0, PASSAGE_CHARS + 1)
            cut = cut if cut > 0 else PASSAGE_CHARS
            found += [current] if current else []
            found.append(sentence[:cut].rstrip())
            current, sentence = "", sentence[cut:].lstrip()
        if current and len(current) + 1 + len(sentence) > PASSAGE_CHARS:
            found.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    return found + ([current] if current else [])


def unindex(paper):
    """Withdrawn papers leave search."""
    SearchDocument.objects.filter(paper=paper).delete()
