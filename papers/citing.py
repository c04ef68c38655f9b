"""How to cite a published version or one of its claims: CSL-JSON, BibTeX, RIS, and the
reference formatted in common styles by citeproc-py with the official CSL style files.

A reference is built once (`of_version`, `of_claim`) from a version's immutable facts, so every
format says the same thing: the think tank's report (the site is its publisher and institution),
its authors from the version's byline, issued on the day the version was published, its version
number, and the version's own address (a claim: the claim's permanent address, with the
version's in a note).

No format carries an access date. The files and pages are rendered once and served to every
reader from the readers' page cache, so "accessed today" would be the day of the first reader;
and the address names an unchanging version, so the day matters less than usual. A reader whose
style asks for one adds the day they read it.
"""

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from types import SimpleNamespace

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc.model import Name
from citeproc.source.json import CiteProcJSON
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from papers.templatetags.metadata import _authors

STYLE_DIR = Path(__file__).resolve().parent / "citation_styles"

# (key, name readers know, CSL file). The files are the citation-style-language/styles
# repository's own, unchanged (CC BY-SA 3.0; see citation_styles/NOTICE).
STYLES = [
    ("apa", "APA (7th edition)", "apa.csl"),
    ("chicago", "Chicago (notes and bibliography)", "chicago-notes-bibliography.csl"),
    ("mla", "MLA (9th edition)", "modern-language-association.csl"),
    ("harvard", "Harvard (Cite Them Right)", "harvard-cite-them-right.csl"),
]

# Each download: its media type (CSL-JSON's is registered with IANA) and what writes it.
FORMATS = {
    "bib": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "json": "application/vnd.citationstyles.csl+json; charset=utf-8",
}

# The longest claim quoted as a reference's title, in words: the address pins the exact text.
TITLE_WORDS = 40


@dataclass(frozen=True)
class Reference:
    key: str  # the citation key, and the downloads' file name
    title: str
    authors: list = field(default_factory=list)  # CSL names: {family, given, …} or {literal}
    issued: date | None = None
    version: int = 1
    url: str = ""
    container: str = ""  # a claim's paper
    note: str = ""
    publisher: str = ""


def of_version(version, paper):
    """The reference of one published version of `paper`."""
    return Reference(
        key=f"{paper.slug}-v{version.number}",
        title=clean(version.title),
        authors=names(version.byline),
        issued=timezone.localdate(version.published_at),
        version=version.number,
        url=settings.SITE_URL + reverse("papers:version", args=[paper.slug, version.number]),
        note=_withdrawal(paper),
        publisher=clean(settings.SITE_NAME),
    )


def of_claim(claim, paper):
    """The reference of a claim (a VersionClaim with its version) as published in that version:
    the claim's words in the paper, at the claim's permanent address."""
    version = claim.version
    version_url = settings.SITE_URL + reverse("papers:version", args=[paper.slug, version.number])
    # Styles put their own full stop after a title ("… in 2004.”." otherwise).
    words = clean(claim.quote).rstrip(".;,: ").split(" ")
    title = " ".join(words[:TITLE_WORDS]) + (" …" if len(words) > TITLE_WORDS else "")
    address = f"{version_url}#claim-{claim.public_id}"
    pinned = f"Claim {claim.public_id} in version {version.number}: {address}"
    return Reference(
        key=f"{paper.slug}-v{version.number}-{claim.public_id}",
        title=title,
        authors=names(version.byline),
        issued=timezone.localdate(version.published_at),
        version=version.number,
        url=settings.SITE_URL + reverse("papers:claim", args=[claim.public_id]),
        container=clean(version.title),
        note=" ".join(filter(None, [pinned + ".", _withdrawal(paper)])),
        publisher=clean(settings.SITE_NAME),
    )


def _withdrawal(paper):
    if not paper.withdrawn_at:
        return ""
    return f"Withdrawn on {timezone.localdate(paper.withdrawn_at).isoformat()}."


# --- User text and names --------------------------------------------------------------------

# Control characters, and the private-use characters `formatted` uses as markers.
_UNWANTED = re.compile(r"[\x00-\x1f\x7f-\x9f\ue000-\uf8ff]")


def clean(text):
    """User text on one line: every run of whitespace (newlines too) one space, control and
    private-use characters gone. Line-based formats (RIS) then cannot be broken into."""
    return " ".join(_UNWANTED.sub(" ", text or "").split())


# Words that start a family name after a given name ("Ludwig van Beethoven", "Charles De Gaulle").
PARTICLES = {
    "al", "bin", "da", "das", "de", "del", "della", "der", "des", "di", "do", "dos", "du", "el",
    "ibn", "la", "le", "st", "ten", "ter", "van", "von", "zu",
}  # fmt: skip
SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def names(byline):
    """CSL names from a printed byline. Which byline names a body and how a list of people
    splits ("A, B and C", "A & B") is `metadata._authors`'s rule, the one the JSON-LD follows;
    a body, or no byline (the publication itself), is one literal name."""
    site = {"@type": "Organization", "name": settings.SITE_NAME}
    return [
        person(clean(author["name"]))
        if author["@type"] == "Person"
        else {"literal": clean(author["name"])}
        for author in _authors(clean(byline), site)
    ]


def person(name):
    """A person's printed name ("Ana Kask", "Ludwig van Beethoven", "Martin Luther King Jr.")
    split into CSL's parts; a single word stays one literal name."""
    words = name.split(" ")
    suffix = ""
    if len(words) > 2 and words[-1].rstrip(".").casefold() in SUFFIXES:
        suffix = words.pop()
        words[-1] = words[-1].rstrip(",")
    if len(words) < 2:
        return {"literal": name}
    start = len(words) - 1
    for i in range(1, len(words) - 1):
        if words[i].casefold() in PARTICLES:
            start = i
            break
    parts = {"given": " ".join(words[:start]), "family": words[-1]}
    if start < len(words) - 1:
        parts["non-dropping-particle"] = " ".join(words[start:-1])
    if suffix:
        parts["suffix"] = suffix
    return parts


def family_first(name):
    """A name family first, "van Beethoven, Ludwig" (BibTeX, RIS, Highwire tags); a literal
    name as it is."""
    if "literal" in name:
        return name["literal"]
    family = " ".join(filter(None, [name.get("non-dropping-particle"), name["family"]]))
    return ", ".join(filter(None, [family, name.get("suffix"), name["given"]]))


# --- CSL-JSON and the formatted styles --------------------------------------------------------


def csl_item(reference):
    """The reference as one CSL-JSON item (type report, or a chapter of one for a claim)."""
    item = {
        "id": reference.key,
        "type": "chapter" if reference.container else "report",
        "title": reference.title,
        "author": reference.authors,
        "publisher": reference.publisher,
        "version": str(reference.version),
        "URL": reference.url,
    }
    if reference.issued:
        day = reference.issued
        item["issued"] = {"date-parts": [[day.year, day.month, day.day]]}
    if reference.container:
        item["container-title"] = reference.container
    if reference.note:
        item["note"] = reference.note
    return item


def csl_json(reference):
    return json.dumps([csl_item(reference)], ensure_ascii=False, indent=2) + "\n"


def _initialize_as_told(initialize):
    """citeproc-py 0.11 ignores CSL 1.0.1's `initialize="false"` and shortens given names the
    style wants in full (Chicago's and MLA's "Kask, Ana" became "Kask, A."). A name element
    that says false keeps given names as written."""

    def initialize_unless_told_not_to(self, given, mark, context):
        if self.get("initialize") == "false":
            return given
        return initialize(self, given, mark, context)

    return initialize_unless_told_not_to


if not getattr(Name.initialize, "honours_initialize_false", False):
    Name.initialize = _initialize_as_told(Name.initialize)
    Name.initialize.honours_initialize_false = True


# citeproc-py's output formats are modules of callables; this one passes text through untouched
# and wraps emphasis in private-use characters (which `clean` removes from user text), so that
# `_html` can escape everything and put the tags back. citeproc-py's own HTML format leaves the
# item's text unescaped.
_OPEN = {"i": "\ue000", "b": "\ue002", "sup": "\ue004", "sub": "\ue006"}
_CLOSE = {tag: chr(ord(marker) + 1) for tag, marker in _OPEN.items()}


def _wrap(tag):
    return lambda text: f"{_OPEN[tag]}{text}{_CLOSE[tag]}"


_MARKERS = SimpleNamespace(
    preformat=str,
    Italic=_wrap("i"),
    Oblique=_wrap("i"),
    Bold=_wrap("b"),
    Superscript=_wrap("sup"),
    Subscript=_wrap("sub"),
    Light=str,
    Underline=str,
    SmallCaps=str,
)
_TAGS = {
    **{marker: format_html("<{}>", tag) for tag, marker in _OPEN.items()},
    **{marker: format_html("</{}>", tag) for tag, marker in _CLOSE.items()},
}
_SPLIT = re.compile("([" + "".join(_TAGS) + "])")

# Parsed styles are shared by a process's threads; rendering sets state on them, so one at a time.
_rendering = threading.Lock()


@cache
def _style(filename):
    return CitationStylesStyle(str(STYLE_DIR / filename), validate=False)


def formatted(reference):
    """[(style key, style name, the reference as safe HTML)] in each of STYLES."""
    item = csl_item(reference)
    results = []
    for key, label, filename in STYLES:
        with _rendering:
            bibliography = CitationStylesBibliography(
                _style(filename), CiteProcJSON([item]), _MARKERS
            )
            bibliography.register(Citation([CitationItem(reference.key)]))
            text = str(bibliography.bibliography()[0])
        results.append((key, label, _html(text)))
    return results


def _html(text):
    """citeproc-py's output with its markers as tags and everything else escaped."""
    pieces = ((_TAGS.get(piece, piece),) for piece in _SPLIT.split(text) if piece)
    return format_html_join("", "{}", pieces)


# --- BibTeX -----------------------------------------------------------------------------------

# TeX's special characters, each as text: a title cannot end its field, open a group or a
# comment, or run a command. Braces become commands, not \{ and \}: BibTeX counts braces with
# or without a backslash, so a lone escaped one would still end the field.
_TEX = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}
_TEX_SPECIAL = re.compile("|".join(re.escape(character) for character in _TEX))


def tex(text):
    return _TEX_SPECIAL.sub(lambda match: _TEX[match.group()], clean(text))


MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


def bibtex(reference):
    """A @techreport (a claim: an @incollection in it), UTF-8, for BibTeX and biblatex. Titles
    are braced twice so styles keep their capitals (NATO); a body's name is braced so it is not
    read as a family name."""
    authors = " and ".join(
        f"{{{tex(name['literal'])}}}" if "literal" in name else tex(family_first(name))
        for name in reference.authors
    )
    fields = [("author", authors), ("title", f"{{{tex(reference.title)}}}")]
    if reference.container:
        fields += [("booktitle", f"{{{tex(reference.container)}}}")]
        fields += [("publisher", tex(reference.publisher))]
    else:
        fields += [("institution", tex(reference.publisher)), ("type", "Report")]
    if reference.issued:
        fields += [("year", str(reference.issued.year)), ("date", reference.issued.isoformat())]
    fields += [("version", str(reference.version)), ("url", tex_url(reference.url))]
    if reference.note:
        fields += [("note", tex(reference.note))]
    kind = "incollection" if reference.container else "techreport"
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    month = f",\n  month = {MONTHS[reference.issued.month - 1]}" if reference.issued else ""
    return f"@{kind}{{{reference.key},\n{body}{month}\n}}\n"


def tex_url(url):
    """URLs are the site's own and a slug or public id: no TeX specials but % and #, which
    the url field takes escaped."""
    return clean(url).replace("\\", "").replace("{", "").replace("}", "").replace("%", r"\%")


# --- RIS --------------------------------------------------------------------------------------


def ris(reference):
    """An RIS record (RPRT, a claim: CHAP), CRLF line ends as the format asks; every value is
    on one line, so no text can start a tag of its own."""
    lines = [("TY", "CHAP" if reference.container else "RPRT"), ("TI", reference.title)]
    lines += [("AU", family_first(name)) for name in reference.authors]
    if reference.container:
        lines += [("T2", reference.container)]
    lines += [("PB", reference.publisher)]
    if reference.issued:
        day = reference.issued
        lines += [("PY", str(day.year)), ("DA", f"{day.year:04}/{day.month:02}/{day.day:02}/")]
    lines += [("ET", f"Version {reference.version}"), ("UR", reference.url)]
    if reference.note:
        lines += [("N1", reference.note)]
    lines += [("ID", reference.key), ("ER", "")]
    return "".join(f"{tag}  - {clean(value)}\r\n" for tag, value in lines)


WRITERS = {"bib": bibtex, "ris": ris, "json": csl_json}


def pdf_url(paper, version):
    """The version typeset for print: its named URL once that view exists, else its address."""
    try:
        path = reverse("papers:pdf", args=[paper.slug, version.number])
    except NoReverseMatch:
        path = f"/papers/{paper.slug}/v{version.number}/paper.pdf"
    return settings.SITE_URL + path
