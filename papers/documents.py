"""The interchange format of a paper: read from plain text, Markdown or JSON, written back out.

A *document* is a plain dict, the same in every direction:

    title, slug, standfirst (Markdown), authors (the byline), tags (slugs),
    taxonomy ([{slug, name, description}] for every tag used),
    sections ([{heading, anchor, body}]),
    claims ([{id, section (anchor or heading), quote, prefix, suffix, kind, tags, note,
              due, resolves_when, sources: [{title, url, publisher, date, quote, use}]}])

A source's `use` is how the claim uses it: supports, disputes, qualifies or background (the
CiTO terms, see papers.evidence); without one it supports the claim, as before uses existed.
A predictive claim's `due` (a date, `due: 2027-06-30`) and `resolves_when` (what will settle it)
make it a forecast (see papers.forecasts).

Exports of a published version add `version` ({number, published_at, note, is_correction}).
Readers here only parse; `importing.save_document` validates against the database and writes.
"""

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from django.utils.text import slugify
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from papers.rendering import escape_markdown

DOCUMENT_KEYS = ("title", "slug", "standfirst", "authors", "tags", "taxonomy", "claims")
# Footnotes as the renderer reads them: "[^1]: note" over a "---" line is a note, not a heading.
_blocks = MarkdownIt("commonmark", {"html": False}).use(footnote_plugin, inline=False)
_ANCHOR_SUFFIX = re.compile(r"\s*\{#([A-Za-z0-9_-]+)\}\s*$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_TERMINAL_PUNCTUATION = tuple(".!?:;,…")


class DocumentError(ValueError):
    """The file cannot be read as a paper; the message says why, in one line."""


# --- Reading ----------------------------------------------------------------------------------


def read_file(path):
    """Read a paper from a .txt, .md or .json file (detected by extension, else by content)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DocumentError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise DocumentError(f"{path} is a directory, not a file.") from None
    except OSError as error:
        raise DocumentError(f"Cannot read {path}: {error.strerror}.") from None
    text = decode(data, name=path.name)
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix not in {".md", ".markdown", ".txt"} and text.startswith("{")):
        return from_json(text)
    if suffix in {".md", ".markdown"} or (suffix != ".txt" and _looks_like_markdown(text)):
        return from_markdown(text)
    return from_text(text)


def decode(data, *, name="input"):
    """UTF-8 (with or without BOM) to text with LF line ends; refuses binary and other encodings."""
    if b"\x00" in data:
        raise DocumentError(f"{name} is binary data, not a text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(
            f"{name} is not UTF-8 text (undecodable byte at position {error.start})."
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if not text.strip():
        raise DocumentError(f"{name} is empty.")
    return text


def _looks_like_markdown(text):
    return text.startswith("---\n") or any(
        token.type == "heading_open" for token in _blocks.parse(text)
    )


# --- Plain text -------------------------------------------------------------------------------
# A text file carries its structure in conventions rather than markup. Those conventions become
# Markdown; every other character is escaped, so the text renders exactly as written.

_BULLET = re.compile(r"[-*+•◦▪]\s+(?=\S)")
_NUMBER = re.compile(r"(\d{1,3})[.)]\s+(?=\S)")
_QUOTE = re.compile(r">\s?")
_RULE = re.compile(r"([-=*_~])(?:\s*\1){2,}")  # ---, ===, * * *
_LISTS = ("bullets", "numbers")


def from_text(text):
    """Plain text in the demo paper's shape: title line, lede paragraph, short unpunctuated
    lines as section headings. Paragraphs are blank-line separated, or one a line if the file
    has no blank lines at all. Lists, quotations and other headings: see `_text_blocks`."""
    lines = [line.rstrip() for line in text.split("\n")]
    joined = any(not line.strip() for line in lines[: _last_nonblank(lines)])
    if joined:
        groups = [b.strip("\n").split("\n") for b in "\n".join(lines).split("\n\n") if b.strip()]
    else:
        groups = [[line for line in lines if line.strip()]]
    title, *rest = groups[0]
    if rest and _is_underline(rest[0]):
        rest.pop(0)
    if joined and rest:
        raise DocumentError("The first line of a text file must be the title, on its own line.")
    blocks = _text_blocks([rest, *groups[1:]], joined, base=_usual_indent(lines))
    standfirst = blocks.pop(0).markdown() if blocks and blocks[0].kind == "paragraph" else ""
    sections = []
    for block in blocks:
        if block.kind == "heading":
            sections.append({"heading": block.lines[0], "blocks": []})
        else:
            if not sections:
                sections.append({"heading": "Introduction", "blocks": []})
            sections[-1]["blocks"].append(block.markdown())
    return _document(
        title=title.strip(),
        standfirst=standfirst,
        sections=[{"heading": s["heading"], "body": "\n\n".join(s["blocks"])} for s in sections],
    )


@dataclass
class _Block:
    """Paragraph, heading, quote (lines of text) or list (items of (marker, lines))."""

    kind: str
    lines: list = field(default_factory=list)
    may_head: bool = False  # it starts its paragraph, so it may be a heading
    source: str = ""  # a list's first line as written: "1. Introduction" may be a heading

    def markdown(self):
        if self.kind in _LISTS:
            return "\n".join(
                f"{marker} " + f"\n{' ' * (len(marker) + 1)}".join(map(escape_markdown, lines))
                for marker, lines in self.lines
            )
        prefix = "> " if self.kind == "quote" else ""
        return "\n".join(prefix + escape_markdown(line) for line in self.lines)


def _text_blocks(groups, joined, base):
    """The blocks of the paragraphs (`joined`: a paragraph's lines form one block; else every
    line is a paragraph). Bullets (-, *, +, •) and numbered items make lists, a hanging indent
    or a lowercase start continuing an item; lines starting with ">", and paragraphs indented
    deeper than the file's usual indent, are quotations. Headings: see `_mark_headings`."""
    blocks = []
    for group in groups:
        deeper = [_indent(line) > base for line in group]
        if joined and group and all(deeper) and not any(_item(line) for line in group):
            blocks.append(_Block("quote", [line.strip() for line in group]))
            continue
        start = len(blocks)
        for line, indented in zip(group, deeper, strict=True):
            _add_line(blocks, start, line.strip(), indented, joined)
        if not joined or len(blocks) == start + 1:
            for block in blocks[start:]:
                block.may_head = block.may_head or block.kind != "quote"
    _mark_headings(blocks)
    return blocks


def _add_line(blocks, start, text, indented, joined):
    last = blocks[-1] if len(blocks) > start else None
    kind, marker, content = _item(text) or ("", "", text)
    if _RULE.fullmatch(text):  # an underlined heading, or decoration that is dropped
        if last and last.kind == "paragraph" and len(last.lines) == 1 and _is_underline(text):
            last.kind = "heading"
    elif kind:
        if not (last and last.kind == kind):
            blocks.append(_Block(kind, source=text, may_head=last is None))
        blocks[-1].lines.append((marker, [content]))
    elif last and last.kind in _LISTS and (indented or text[0].islower()):
        last.lines[-1][1].append(text)
    elif text.startswith(">") or (indented and not joined):
        text = _QUOTE.sub("", text, count=1) if text.startswith(">") else text
        if last and last.kind == "quote":
            last.lines.append(text)
        else:
            blocks.append(_Block("quote", [text]))
    elif joined and last and (last.kind == "quote" or _continues(last, text)):
        last.lines.append(text)  # the paragraph goes on; a quotation too, lazily, as in Markdown
    else:
        if joined and last and last.kind == "paragraph":
            last.may_head = True  # an ALL CAPS heading right above its paragraph
        blocks.append(_Block("paragraph", [text]))


def _item(text):
    if match := _BULLET.match(text):
        return "bullets", "-", text[match.end() :]
    if match := _NUMBER.match(text):
        return "numbers", f"{match[1]}.", text[match.end() :]
    return None


def _continues(last, text):
    """The line goes on the paragraph, unless that is one ALL CAPS heading line."""
    if last.kind != "paragraph":
        return False
    line = last.lines[0]
    caps = sum(c.isalpha() for c in line) >= 3 and line.upper() == line
    return not (len(last.lines) == 1 and caps and _is_heading_line(line) and not text[0].islower())


def _mark_headings(blocks):
    """Short lines without final punctuation that stand alone are headings, in ALL CAPS too;
    so is a numbered one ("1. Introduction") unless numbered items stand next to it: then it is
    an item of a list."""
    kinds = [block.kind for block in blocks]
    for n, block in enumerate(blocks):
        if not block.may_head:
            continue
        if block.kind == "paragraph" and len(block.lines) == 1:
            if _is_heading_line(block.lines[0]):
                block.kind = "heading"
        elif block.kind == "numbers" and len(block.lines) == 1 and len(block.lines[0][1]) == 1:
            neighbours = kinds[max(n - 1, 0) : n] + kinds[n + 1 : n + 2]
            if _is_heading_line(block.source) and "numbers" not in neighbours:
                block.kind, block.lines = "heading", [block.source]


def _is_heading_line(line):
    return (
        len(line) <= 100
        and not line.endswith(_TERMINAL_PUNCTUATION)
        and any(c.isalpha() for c in line)
    )


def _is_underline(line):
    return bool(_RULE.fullmatch(line.strip())) and line.strip()[0] in "=-"


def _indent(line):
    return len(line[: len(line) - len(line.lstrip())].expandtabs(4))


def _usual_indent(lines):
    counts = Counter(_indent(line) for line in lines if line.strip())
    return max(counts, key=lambda indent: (counts[indent], -indent))


def _last_nonblank(lines):
    return max((i for i, line in enumerate(lines) if line.strip()), default=0)


def from_markdown(text):
    """Markdown: optional YAML front matter, `#` title, `##` sections (ATX or setext; in a
    file without `##` headings, its highest level of headings). The text between the title and
    the first section is the standfirst, unless the front matter gives one."""
    meta, body = _split_front_matter(text)
    lines = body.split("\n")
    tokens = _blocks.parse(body)
    headings = [
        (token.tag, token.map, tokens[i + 1].content)
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.level == 0
    ]
    title = meta.get("title")
    cursor = 0
    if headings and headings[0][0] == "h1":
        _, (start, end), content = headings.pop(0)
        title = title or _ANCHOR_SUFFIX.sub("", content).strip()
        cursor = end
    top = min((tag for tag, _, _ in headings), default="h2")
    levels = {"h1", "h2"} if top <= "h2" else {top}
    headings = [heading for heading in headings if heading[0] in levels]
    if not isinstance(title, str) or not title.strip():
        raise DocumentError("The Markdown file has no title: start it with a '# Title' line.")
    first_section = headings[0][1][0] if headings else len(lines)
    intro = _lines(lines, cursor, first_section)
    sections = []
    if intro and meta.get("standfirst"):
        sections.append({"heading": "Introduction", "body": intro})
    for n, (_, (_start, end), content) in enumerate(headings):
        stop = headings[n + 1][1][0] if n + 1 < len(headings) else len(lines)
        section = {
            "heading": _ANCHOR_SUFFIX.sub("", content).strip(),
            "body": _lines(lines, end, stop),
        }
        if anchor := _ANCHOR_SUFFIX.search(content):
            section["anchor"] = anchor.group(1)
        sections.append(section)
    document = _document(
        title=title.strip(), standfirst=meta.get("standfirst") or intro, sections=sections
    )
    for key in DOCUMENT_KEYS:
        if key not in {"title", "standfirst"} and key in meta:
            document[key] = meta[key]
    return validate_shape(document)


def _split_front_matter(text):
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 2}" if where else ""
        raise DocumentError(f"The front matter is not valid YAML{line}.") from None
    except ValueError as error:
        # A YAML date that no calendar has (due: 2027-13-01) fails in the constructor.
        raise DocumentError(f"The front matter holds an impossible value: {error}.") from None
    if not isinstance(meta, dict):
        raise DocumentError("The front matter must be a YAML mapping (key: value lines).")
    return meta, text[match.end() :]


def _lines(lines, start, stop):
    return "\n".join(lines[start:stop]).strip("\n").rstrip()


def from_json(text):
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DocumentError(f"The JSON is malformed: {error.msg} at line {error.lineno}.") from None
    if not isinstance(document, dict):
        raise DocumentError("The JSON must be an object with a title and sections.")
    return validate_shape(document)


def _document(*, title, standfirst="", sections=()):
    return {"title": title, "standfirst": standfirst, "sections": list(sections), "claims": []}


def validate_shape(document):
    """Types and required keys, so later steps can trust the structure."""
    title = document.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DocumentError("The paper has no title.")
    for key in ("slug", "standfirst", "authors"):
        if document.get(key) is not None and not isinstance(document[key], str | list):
            raise DocumentError(f"'{key}' must be text.")
    sections = document.get("sections")
    if not isinstance(sections, list) or not all(
        isinstance(s, dict) and isinstance(s.get("heading"), str) for s in sections
    ):
        raise DocumentError("'sections' must be a list of {heading, body} entries.")
    for key in ("tags", "claims", "taxonomy"):
        if not isinstance(document.get(key) or [], list):
            raise DocumentError(f"'{key}' must be a list.")
    for n, claim in enumerate(document.get("claims") or [], start=1):
        if not isinstance(claim, dict) or not isinstance(claim.get("quote"), str):
            raise DocumentError(f"Claim {n} must have a 'quote'.")
        if not isinstance(claim.get("sources") or [], list):
            raise DocumentError(f"Claim {n}: 'sources' must be a list.")
    return document


# --- Writing ----------------------------------------------------------------------------------


def to_json(document):
    """Canonical JSON: sorted keys, so the same document always gives the same bytes."""
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def to_markdown(document):
    meta = {key: document[key] for key in ("slug", "standfirst", "authors") if document.get(key)}
    for key in ("tags", "taxonomy", "claims", "version", "resolutions"):
        if document.get(key):
            meta[key] = document[key]
    if meta.get("claims"):
        meta["claims"] = [_dated(claim) for claim in meta["claims"]]
    parts = []
    if meta:
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=100)
        parts.append(f"---\n{front}---\n")
    parts.append(f"# {document['title']}\n")
    for section in document["sections"]:
        heading = section["heading"]
        if section.get("anchor") and section["anchor"] != slugify(heading):
            heading += f" {{#{section['anchor']}}}"
        parts.append(f"## {heading}\n")
        if section.get("body"):
            parts.append(section["body"].rstrip() + "\n")
    return "\n".join(parts)


def _dated(claim):
    """A forecast's due date as YAML writes a date (`due: 2027-06-30`), not a quoted string."""
    try:
        return {**claim, "due": date.fromisoformat(claim["due"])}
    except (KeyError, TypeError, ValueError):
        return claim
