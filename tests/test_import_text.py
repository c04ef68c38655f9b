"""import_paper keeps the structure a file carries: lists, quotations and headings of plain text,
a Markdown lede as the standfirst."""

import json
import re

import pytest

from papers import documents
from papers.models import Paper
from tests.test_importing import DATA, DEMO, run

pytestmark = pytest.mark.django_db


def imported(path, *extra):
    run("import_paper", str(path), *extra)
    return Paper.objects.get()


def write(tmp_path, text, name="paper.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def items(html, tag):
    """The text of each item of each <tag> list, list by list."""
    return [
        [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", body, re.S)]
        for body in re.findall(rf"<{tag}[^>]*>(.*?)</{tag}>", html, re.S)
    ]


def quotes(html):
    return [
        " ".join(re.sub(r"<[^>]+>", "", quote).split())
        for quote in re.findall(r"<blockquote>(.*?)</blockquote>", html, re.S)
    ]


class TestMessyText:
    @pytest.fixture
    def paper(self):
        return imported(DATA / "messy.txt")

    def test_headings_plain_numbered_roman_caps_and_underlined_are_found(self, paper):
        assert paper.title == "Baltic Ports After 2030"
        assert paper.standfirst_html.count("<p>") == 1
        assert [s.heading for s in paper.sections.all()] == [
            "1. Introduction",
            "2 Background",
            "II. Scope",
            "WHAT THE PLANNERS SAY",
            "Outlook",
        ]

    def test_bullets_of_every_kind_make_one_list_with_wrapped_items_whole(self, paper):
        introduction = paper.sections.get(anchor="1-introduction")
        assert items(introduction.body_html, "ul") == [
            [
                "they are ice-free all year round;",
                "they connect to the Rail Baltica line,\nwhich opens in 2030;",
                "they sit close to the border.",
                "A bullet written with a round dot.",
            ]
        ]
        assert "\\" not in introduction.body_text and "•" not in introduction.body_text

    def test_numbered_sentences_stay_a_list_and_quotations_stay_quotations(self, paper):
        background = paper.sections.get(anchor="2-background")
        assert items(background.body_html, "ol") == [
            ["Klaipėda handled 40 million tonnes in 2023.", "Riga and Tallinn handled less."]
        ]
        assert quotes(background.body_html) == [
            "“An indented quotation from the port authority, wrapped over two lines.”",
            "A quoted line with a marker. And a second quoted line.",
        ]
        assert ">" not in background.body_text

    def test_short_numbered_items_side_by_side_are_a_list_not_headings(self, paper):
        scope = paper.sections.get(anchor="ii-scope")
        assert items(scope.body_html, "ol") == [["Estonia", "Latvia", "Lithuania"]]

    def test_markdown_characters_in_prose_still_render_as_written(self, paper):
        planners = paper.sections.get(anchor="what-the-planners-say")
        assert planners.body_text == (
            "Their plans assume *open* sea lanes and 1. numbers mid-line."
        )
        assert "<em>" not in planners.body_html

    def test_a_file_without_blank_lines_keeps_the_same_structure(self):
        paper = imported(DATA / "messy-one-a-line.txt")
        assert paper.standfirst == "A short note for the board on the three ports."
        introduction, background, outlook = paper.sections.all()
        assert [introduction.heading, background.heading, outlook.heading] == [
            "1. Introduction",
            "2. Background",
            "Outlook",
        ]
        assert len(items(introduction.body_html, "ul")[0]) == 3
        assert items(background.body_html, "ol") == [
            ["Klaipėda handled 40 million tonnes in 2023.", "Riga and Tallinn handled less."],
            ["Estonia", "Latvia", "Lithuania"],
        ]
        assert quotes(background.body_html) == [
            "“Our quays are open in every season.” A quoted line with a marker."
        ]


class TestHeadingsOrList:
    @pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["blank lines", "one a line"])
    def test_numbered_lines_between_paragraphs_are_headings(self, tmp_path, gap):
        text = gap.join(["Title", "Lede.", "1. Introduction", "Text.", "2. Background", "More."])
        paper = imported(write(tmp_path, text))
        assert [s.heading for s in paper.sections.all()] == ["1. Introduction", "2. Background"]

    @pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["blank lines", "one a line"])
    def test_numbered_lines_next_to_each_other_are_a_list(self, tmp_path, gap):
        text = gap.join(["Title", "Lede.", "Members", "1. Estonia", "2. Latvia"])
        section = imported(write(tmp_path, text)).sections.get()
        assert section.heading == "Members"
        assert items(section.body_html, "ol") == [["Estonia", "Latvia"]]

    def test_a_numbered_line_after_its_lead_in_is_an_item(self, tmp_path):
        text = "Title\n\nLede.\n\nBackground\n\nThe one step left:\n1. Ratify the treaty\n"
        section = imported(write(tmp_path, text)).sections.get()
        assert items(section.body_html, "ol") == [["Ratify the treaty"]]

    def test_an_all_caps_heading_may_sit_right_above_its_paragraph(self, tmp_path):
        text = "Title\n\nLede.\n\nBACKGROUND\nThe text of the section.\n"
        section = imported(write(tmp_path, text)).sections.get()
        assert (section.heading, section.body_text) == ("BACKGROUND", "The text of the section.")

    def test_a_short_first_line_of_a_wrapped_paragraph_is_not_a_heading(self, tmp_path):
        text = "Title\n\nLede.\n\nBackground\n\nIts text spans\ntwo lines.\n"
        section = imported(write(tmp_path, text)).sections.get()
        assert section.body_text == "Its text spans two lines."

    def test_underlined_headings_lose_their_underlines(self, tmp_path):
        text = (
            "Title\n=====\n\nLede.\n\nWhy it matters, briefly.\n------------------------\n\nText.\n"
        )
        paper = imported(write(tmp_path, text))
        assert paper.title == "Title"
        section = paper.sections.get()
        assert (section.heading, section.body_text) == ("Why it matters, briefly.", "Text.")


class TestDemoUnchanged:
    def test_the_demo_paper_reads_exactly_as_before(self):
        expected = json.loads((DATA / "baltic-states-nato.expected.json").read_text("utf-8"))
        assert documents.read_file(DEMO) == expected


class TestMarkdownLede:
    def test_the_lede_becomes_the_standfirst_not_an_introduction(self, tmp_path):
        text = "# Title\n\nThe lede, in *Markdown*.\n\n## Background\n\nText.\n"
        paper = imported(write(tmp_path, text, "paper.md"))
        assert paper.standfirst == "The lede, in *Markdown*."
        assert [s.heading for s in paper.sections.all()] == ["Background"]

    def test_the_lede_under_front_matter_without_a_standfirst_is_the_standfirst(self, tmp_path):
        text = "---\nslug: ported\nauthors: [Ana Kask]\n---\n# Title\n\nThe lede.\n\n## One\n\nA.\n"
        paper = imported(write(tmp_path, text, "paper.md"))
        assert (paper.slug, paper.standfirst) == ("ported", "The lede.")
        assert [s.heading for s in paper.sections.all()] == ["One"]

    def test_a_file_whose_sections_are_level_three_keeps_them(self, tmp_path):
        text = "# Title\n\nThe lede.\n\n### One\n\nA.\n\n### Two\n\nB.\n\n#### Detail\n\nC.\n"
        paper = imported(write(tmp_path, text, "paper.md"))
        one, two = paper.sections.all()
        assert (one.heading, two.heading, paper.standfirst) == ("One", "Two", "The lede.")
        assert "<h4>Detail</h4>" in two.body_html
