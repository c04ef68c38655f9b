"""Write a document (see `papers.documents`) into the database as a paper, all or nothing."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import Count, Q
from django.utils.text import slugify

from papers import audit, documents, rendering, workflow
from papers.models import Claim, Event, Paper, Section, Source, Tag
from papers.models.sources import ClaimSource


class ImportRefused(Exception):
    """The document cannot become a paper; the message says why, in one line."""


@dataclass
class Imported:
    """What an import did: the paper; how many claims took fresh ids because the file's ids
    belong to another paper's claims (the file is a copy of that paper); whether the paper
    went back in review."""

    paper: Paper
    renewed: int = 0
    reopened: bool = False  # it was approved, and the import changed it: back in review


def import_file(path, **options):
    """Read a .txt, .md or .json file and save it; see `import_document` for the options."""
    try:
        document = documents.read_file(path)
    except documents.DocumentError as error:
        raise ImportRefused(str(error)) from None
    return import_document(document, **options)


def save_document(document, **options):
    """Save a document and return its paper; see `import_document`."""
    return import_document(document, **options).paper


@transaction.atomic
def import_document(document, *, slug=None, tags=(), replace=False, by=None):
    """Create the paper, or with replace=True overwrite the working copy of the paper with
    that slug (its published versions stay). Claims keep their ids, unless an id belongs to
    another paper: a copy's claims get fresh ones. Raises ImportRefused."""
    try:
        documents.validate_shape(document)
    except documents.DocumentError as error:
        raise ImportRefused(str(error)) from None
    slug = slug or document.get("slug") or slugify(document["title"])[:120]
    _check(validate_slug, slug, f"“{slug}” is not a valid slug (letters, digits, - and _ only).")

    paper = Paper.objects.select_for_update().filter(slug=slug).first()
    if paper is not None and not replace:
        raise ImportRefused(f"A paper with the slug “{slug}” exists already; use --replace.")
    if paper is not None:
        paper.lock_version += 1  # an editor's open admin form of this paper is now stale
    replacing = paper is not None
    paper = paper or Paper(slug=slug)
    paper.title = document["title"].strip()
    paper.standfirst = (document.get("standfirst") or "").strip()
    paper.byline = _byline(document.get("authors"))
    _full_clean(paper, "The paper")
    paper.save()

    tag_index = _TagIndex(document.get("taxonomy") or [])
    paper.tags.set(tag_index.resolve([*(document.get("tags") or []), *tags], "The paper"))
    sections = _save_sections(paper, document["sections"])
    imported = Imported(paper)
    _save_claims(imported, document.get("claims") or [], sections, tag_index)
    audit.record(Event.Action.IMPORT, by=by, paper=paper, note=renewed_note(imported.renewed))
    if replacing:
        stage = paper.stage
        imported.paper = workflow.record_edit(paper, by=by, what="import --replace")
        imported.reopened = stage != imported.paper.stage
    return imported


def renewed_note(renewed):
    """One line saying that a copy's claims took fresh ids, or nothing."""
    if not renewed:
        return ""
    claims = "1 claim's id belongs" if renewed == 1 else f"{renewed} claims' ids belong"
    return f"A copy: {claims} to another paper, so this paper has fresh ids for them."


def describe(paper):
    """What a paper holds, line by line: for a dry run to show before anything is saved."""
    sections = paper.sections.annotate(claim_count=Count("claims"))
    claims = paper.claims.select_related("section").order_by("section__position", "pk")
    lines = [f"Title: {paper.title}", f"Slug: {paper.slug}"]
    lines.append(f"Standfirst: {_words(paper.standfirst_html)}")
    lines.append("Sections:")
    for section in sections:
        lines.append(
            f"  {section.heading} (#{section.anchor}): {_words(section.body_html)}, "
            f"{_count(section.claim_count, 'claim')}"
        )
    lines.append("Claims:" if claims else "Claims: none")
    for n, claim in enumerate(claims, start=1):
        lines.append(
            f"  {n}. {claim.get_kind_display()} in “{claim.section.heading}”: "
            f"“{_shorten(claim.quote, 60)}”"
        )
    return lines


def _words(html):
    return _count(len(rendering.html_to_text(html).split()), "word")


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _byline(authors):
    if isinstance(authors, list):
        names = [str(name).strip() for name in authors if str(name).strip()]
        return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
    return (authors or "").strip()


def _save_sections(paper, entries):
    existing = {section.anchor: section for section in paper.sections.all()}
    by_anchor, by_heading = {}, {}
    for position, entry in enumerate(entries):
        heading = entry["heading"].strip()
        anchor = entry.get("anchor") or _free(slugify(heading)[:100] or "section", by_anchor)
        if anchor in by_anchor:
            raise ImportRefused(f"Two sections have the anchor “{anchor}”.")
        section = existing.pop(anchor, None) or Section(paper=paper, anchor=anchor)
        section.heading, section.body, section.position = heading, entry.get("body") or "", position
        _full_clean(section, f"Section “{heading}”", exclude=["paper"])
        section.save()
        by_anchor[anchor] = section
        by_heading.setdefault(heading.casefold(), section)
    for section in existing.values():
        section.delete()
    return {"anchor": by_anchor, "heading": by_heading}


def _free(anchor, taken):
    candidate, n = anchor, 2
    while candidate in taken:
        candidate, n = f"{anchor}-{n}", n + 1
    return candidate


def _save_claims(imported, entries, sections, tag_index):
    paper, kept = imported.paper, set()
    for n, entry in enumerate(entries, start=1):
        where = f"Claim {n} (“{_shorten(entry['quote'])}”)"
        ref = str(entry.get("section") or "")
        section = sections["anchor"].get(ref) or sections["heading"].get(ref.strip().casefold())
        if section is None:
            raise ImportRefused(f"{where}: the paper has no section “{ref}”.")
        if entry.get("kind") not in Claim.Kind.values:
            raise ImportRefused(
                f"{where}: kind must be one of {', '.join(Claim.Kind.values)}, "
                f"not “{entry.get('kind')}”."
            )
        claim = _claim_for(paper, entry.get("id"))
        imported.renewed += bool(entry.get("id")) and claim.public_id != entry["id"]
        claim.section = section
        claim.quote = entry["quote"]
        claim.prefix = entry.get("prefix") or ""
        claim.suffix = entry.get("suffix") or ""
        claim.kind = entry["kind"]
        claim.note = entry.get("note") or ""
        claim.due = _due(entry.get("due"), where)
        claim.resolves_when = _plain(entry.get("resolves_when"), where, "resolves_when")
        _full_clean(claim, where, exclude=["paper"])
        claim.save()
        claim.tags.set(tag_index.resolve(entry.get("tags") or [], where))
        _cite(claim, entry.get("sources") or [], where)
        kept.add(claim.pk)
    paper.claims.exclude(pk__in=kept).delete()


def _due(value, where):
    """A forecast's due date: a YAML date (`due: 2027-06-30`) or the same as text (JSON)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ImportRefused(f"{where}: due must be a date written YYYY-MM-DD, not “{value}”.")


def _plain(value, where, key):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImportRefused(f"{where}: {key} must be text.")
    return value.strip()


def _claim_for(paper, public_id):
    if not public_id:
        return Claim(paper=paper)
    claim = Claim.objects.filter(public_id=public_id).first()
    if claim is None:
        return Claim(paper=paper, public_id=public_id)
    if claim.paper_id != paper.pk:
        return Claim(paper=paper)  # the original keeps its id; the copy's claim gets a new one
    return claim


def _cite(claim, entries, where):
    """The claim's sources, each with its use; a source listed twice counts once."""
    uses = {}
    for entry in entries:
        source = _source(entry, where)
        use = entry.get("use") or ClaimSource.Use.SUPPORTS
        if use not in ClaimSource.Use.values:
            raise ImportRefused(
                f"{where}, source “{source.title}”: use must be one of "
                f"{', '.join(ClaimSource.Use.values)}, not “{use}”."
            )
        uses.setdefault(source.pk, use)
    claim.claimsource_set.exclude(source__in=uses).delete()
    for source_id, use in uses.items():
        ClaimSource.objects.update_or_create(
            claim=claim, source_id=source_id, defaults={"use": use}
        )


def _source(entry, where):
    if not isinstance(entry, dict) or not str(entry.get("title") or "").strip():
        raise ImportRefused(f"{where}: every source needs a title.")
    date = entry.get("date") or None
    if isinstance(date, str):
        try:
            date = datetime.date.fromisoformat(date)
        except ValueError:
            raise ImportRefused(f"{where}: the source date “{date}” is not YYYY-MM-DD.") from None
    fields = {
        "title": str(entry["title"]).strip(),
        "url": str(entry.get("url") or "").strip(),
        "publisher": str(entry.get("publisher") or "").strip(),
        "date": date,
        "quote": str(entry.get("quote") or "").strip(),
    }
    source = Source.objects.filter(**fields).first()
    if source is None:
        source = Source(**fields)
        _full_clean(source, f"{where}, source “{fields['title']}”")
        source.save()
    return source


class _TagIndex:
    """Tags by slug or name; `taxonomy` entries are created when missing, never altered."""

    def __init__(self, taxonomy):
        for entry in taxonomy:
            if not isinstance(entry, dict) or not entry.get("slug"):
                raise ImportRefused("Every taxonomy entry needs a slug and a name.")
            if not Tag.objects.filter(slug=entry["slug"]).exists():
                tag = Tag(
                    slug=entry["slug"],
                    name=entry.get("name") or entry["slug"],
                    description=entry.get("description") or "",
                )
                _full_clean(tag, f"Tag “{entry['slug']}”")
                tag.save()

    def resolve(self, names, where):
        tags = []
        for name in names:
            name = str(name).strip()
            tag = Tag.objects.filter(Q(slug=name) | Q(name__iexact=name)).first()
            if tag is None:
                raise ImportRefused(
                    f"{where}: unknown tag “{name}” (create it first, or define it under "
                    "'taxonomy')."
                )
            tags.append(tag)
        return tags


def _full_clean(instance, where, exclude=None):
    try:
        instance.full_clean(exclude=exclude, validate_unique=True)
    except ValidationError as error:
        raise ImportRefused(f"{where}: {_one_line(error)}") from None


def _check(validator, value, message):
    try:
        validator(value)
    except ValidationError:
        raise ImportRefused(message) from None


def _one_line(error):
    if hasattr(error, "message_dict"):
        return " ".join(
            f"{'' if field == '__all__' else field + ': '}{' '.join(messages)}"
            for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def _shorten(text, limit=40):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
