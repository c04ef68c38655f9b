"""The one sanitising renderer (R15): Markdown, plain text, quote matching and claim marks."""

import re

import html5lib
import pytest
from django.utils.safestring import SafeString

from papers.claim_marks import mark_claims
from papers.rendering import (
    QuoteNotFound,
    find_quote,
    html_to_text,
    locate_quote,
    render_markdown,
    render_plain,
    sanitize,
)


def tree(markup):
    return html5lib.parse(markup, namespaceHTMLElements=False)


def claim(id_, quote, number=1, **extra):
    return {"id": id_, "number": number, "quote": quote, "kind": "factual", **extra}


# --- CommonMark output ------------------------------------------------------------------------


def test_emphasis_and_strong_render_as_em_and_strong():
    assert render_markdown("*soft* and **loud**") == (
        "<p><em>soft</em> and <strong>loud</strong></p>\n"
    )


def test_inline_link_keeps_href_and_title_and_gets_noopener_rel():
    assert render_markdown('[NATO](https://www.nato.int/ "Alliance")') == (
        '<p><a href="https://www.nato.int/" title="Alliance" rel="noopener noreferrer">'
        "NATO</a></p>\n"
    )


def test_bullet_and_numbered_lists_keep_their_start_number():
    html = render_markdown("- one\n- two\n\n3. three\n4. four")
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html
    assert '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>' in html


def test_pipe_tables_render_as_html_tables():
    html = render_markdown("| Year | Troops |\n|---|---|\n| 2024 | 800 |")
    assert "<thead>\n<tr>\n<th>Year</th>\n<th>Troops</th>" in html
    assert "<tbody>\n<tr>\n<td>2024</td>\n<td>800</td>" in html


def test_strikethrough_renders_as_struck_text():
    assert render_markdown("~~gone~~") == "<p><s>gone</s></p>\n"


def test_inline_and_fenced_code_escape_their_content_and_drop_the_language_class():
    html = render_markdown('`a < b`\n\n```python\nif x < 1 and y > "2":\n```')
    assert "<p><code>a &lt; b</code></p>" in html
    assert '<pre><code>if x &lt; 1 and y &gt; "2":\n</code></pre>' in html
    assert "class=" not in html


@pytest.mark.parametrize(
    "source",
    [
        "<b>bold</b>",
        "<div>block</div>",
        '<span class="x">inline</span>',
        "<!-- note -->",
    ],
)
def test_raw_html_is_shown_as_text_not_markup(source):
    html = render_markdown(source)
    assert html_to_text(html) == source
    assert [el.tag for el in tree(html).find("body").iter()] == ["body", "p"]


@pytest.mark.parametrize(
    "url",
    ["https://example.org/a?b=1", "http://example.org/", "mailto:desk@example.org"],
)
def test_http_https_and_mailto_links_survive(url):
    assert f'<a href="{url}" rel="noopener noreferrer">x</a>' in render_markdown(f"[x]({url})")


@pytest.mark.parametrize("url", ["/papers/other/", "#claims", "other/"])
def test_relative_links_and_fragments_survive(url):
    assert f'href="{url}"' in render_markdown(f"[x]({url})")


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,hi)",
        "[x](file:///etc/passwd)",
        "[x](ftp://example.org/file)",
        "[x](tel:+3725551234)",
        "![x](data:image/png;base64,iVBORw0KGgo=)",
        "![x](ftp://example.org/x.png)",
    ],
)
def test_other_url_schemes_lose_their_href_or_src(source):
    html = render_markdown(source)
    assert "href=" not in html
    assert "src=" not in html


def test_every_link_and_autolink_gets_noopener_noreferrer():
    html = render_markdown("[a](https://a.example) <https://b.example> <desk@example.org>")
    links = [el for el in tree(html).iter() if el.tag == "a"]
    assert len(links) == 3
    assert all(link.get("rel") == "noopener noreferrer" for link in links)


def test_sanitize_drops_attributes_outside_the_allowlist():
    assert sanitize('<p id="x" class="y"><a href="/z" target="_blank">z</a></p>') == (
        '<p><a href="/z" rel="noopener noreferrer">z</a></p>'
    )


def test_empty_and_missing_markdown_render_as_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


# --- Plain text -------------------------------------------------------------------------------


def test_render_plain_escapes_markup_and_quotes():
    html = render_plain("Tom & Jerry <b>said</b> \"hi\" 'there'")
    assert "<b>" not in html
    assert "Tom &amp; Jerry &lt;b&gt;said&lt;/b&gt;" in html
    assert html_to_text(html) == "Tom & Jerry <b>said</b> \"hi\" 'there'"


def test_render_plain_turns_urls_into_nofollow_links():
    html = render_plain("See https://www.nato.int/ for details.")
    assert '<a href="https://www.nato.int/" rel="nofollow">https://www.nato.int/</a>' in html


def test_render_plain_leaves_javascript_urls_as_text():
    html = render_plain("javascript:alert(1)")
    assert "<a" not in html
    assert html == "<p>javascript:alert(1)</p>"


def test_render_plain_makes_paragraphs_of_blank_lines_and_breaks_of_newlines():
    assert render_plain("one\ntwo\n\nthree") == "<p>one<br>two</p>\n\n<p>three</p>"


def test_render_plain_output_is_marked_safe_for_templates():
    assert isinstance(render_plain("x"), SafeString)


# --- Text of HTML and quote matching ----------------------------------------------------------


def test_html_to_text_collapses_whitespace_and_decodes_entities():
    markup = "<p>  NATO\n\t forces &amp; <em>allies</em>  </p>\n<p>are   here</p>\n"
    assert html_to_text(markup) == "NATO forces & allies are here"


TEXT = "NATO is present. Russia is near. NATO is present. Estonia is calm."


def test_find_quote_returns_the_span_of_a_unique_quote():
    start, end = find_quote(TEXT, "Russia is near.")
    assert TEXT[start:end] == "Russia is near."


def test_find_quote_reports_words_that_are_absent():
    with pytest.raises(QuoteNotFound, match="do not appear in the section's text"):
        find_quote(TEXT, "Latvia is calm.")


def test_find_quote_reports_an_ambiguous_quote_without_prefix_or_suffix():
    with pytest.raises(QuoteNotFound, match=r"appears 2 times in the section; add a few words"):
        find_quote(TEXT, "NATO is present.")


def test_find_quote_reports_a_prefix_that_does_not_fit():
    with pytest.raises(QuoteNotFound, match="not with the given words before or after it"):
        find_quote(TEXT, "NATO is present.", prefix="Latvia is calm.")


def test_find_quote_reports_an_empty_quote():
    with pytest.raises(QuoteNotFound, match="The quote is empty."):
        find_quote(TEXT, "  \n ")


def test_find_quote_prefix_selects_the_second_occurrence():
    assert find_quote(TEXT, "NATO is present.", prefix="Russia is near.") == (33, 49)


def test_find_quote_suffix_selects_the_first_occurrence():
    assert find_quote(TEXT, "NATO is present.", suffix="Russia") == (0, 16)


def test_find_quote_ignores_whitespace_differences_in_quote_prefix_and_suffix():
    start, end = find_quote(TEXT, " NATO \n is\tpresent. ", prefix=" Russia  is\nnear. ")
    assert (start, end) == (33, 49)


def test_locate_quote_returns_none_instead_of_raising():
    assert locate_quote(TEXT, "NATO is present.") is None
    assert locate_quote(TEXT, "Estonia") == (50, 57)


# --- Claim marks ------------------------------------------------------------------------------


def marks_of(markup, claim_id):
    """A claim's marks: the first says its id, the others of a split claim data-claim."""
    root = markup if hasattr(markup, "iter") else tree(markup)
    own = (f"claim-{claim_id}", claim_id)
    marks = (el for el in root.iter() if el.tag == "mark")
    return [el for el in marks if el.get("id") in own[:1] or el.get("data-claim") in own[1:]]


def marked_text(markup, claim_id):
    return "".join("".join(mark.itertext()) for mark in marks_of(markup, claim_id))


def without_claims(markup):
    markup = re.sub(r'<a class="claim-ref" [^>]*>.*?</a>', "", markup)
    return re.sub(r"</?mark[^>]*>", "", markup)


SPANNING = render_markdown(
    "Deterrence will hold *for a decade* if [NATO forces](https://www.nato.int/) stay, they say."
)


def test_quote_spanning_emphasis_and_link_becomes_several_marks_with_the_id_on_the_first():
    html, placed = mark_claims(SPANNING, [claim("c1", "hold for a decade if NATO")])
    marks = marks_of(html, "c1")
    assert placed == ["c1"]
    assert [mark.get("id") for mark in marks] == ["claim-c1", None, None, None]
    assert [mark.get("data-claim") for mark in marks] == [None, "c1", "c1", "c1"]
    assert ["".join(mark.itertext()) for mark in marks] == ["hold ", "for a decade", " if ", "NATO"]
    assert html.count('id="claim-c1"') == 1


def test_a_mark_says_its_claim_and_kind_once():
    html, _ = mark_claims(SPANNING, [claim("c1", "Deterrence", tags=["baltic", "nato"])])
    assert '<mark id="claim-c1" class="claim claim--factual">Deterrence</mark>' in html
    assert "baltic" not in html  # tags are in the claim's note, not on every mark


def test_reference_ending_inside_a_link_lands_after_the_closing_anchor():
    html, _ = mark_claims(SPANNING, [claim("c1", "if NATO", number=7)])
    link_end = html.index("</a>")
    ref = html.index('<a class="claim-ref"')
    assert ref == link_end + len("</a>")
    assert '<a class="claim-ref" href="#claim-note-c1">7</a>' in html


def test_reference_is_never_inside_a_link():
    source = render_markdown("We trust [*NATO* forces](https://n.example) and [allies](/a) here.")
    claims = [claim("c1", "NATO", 1), claim("c2", "We trust NATO forces and allies", 2)]
    html, _ = mark_claims(source, claims)
    for link in (el for el in tree(html).iter() if el.tag == "a"):
        assert [el.tag for el in link.iter("a")] == ["a"], html
    assert html.count('<a class="claim-ref"') == 2


def test_reference_follows_the_claim_outside_links():
    html, _ = mark_claims(SPANNING, [claim("c1", "Deterrence will hold")])
    assert html.startswith(
        '<p><mark id="claim-c1" class="claim claim--factual">Deterrence will hold</mark>'
        '<a class="claim-ref" href="#claim-note-c1">1</a> <em>for'
    )


def test_nested_claims_put_the_inner_marks_inside_the_outer_ones():
    outer = claim("out", "Deterrence will hold for a decade if NATO forces stay", 1)
    inner = claim("in", "for a decade", 2)
    html, placed = mark_claims(SPANNING, [inner, outer])
    assert sorted(placed) == ["in", "out"]
    assert marked_text(html, "out") == "Deterrence will hold for a decade if NATO forces stay"
    assert marked_text(html, "in") == "for a decade"
    root = tree(html)
    parents = {child: parent for parent in root.iter() for child in parent}
    (inner_mark,) = marks_of(root, "in")
    assert parents[inner_mark] in marks_of(root, "out")
    assert html.count('id="claim-out"') == html.count('id="claim-in"') == 1


def test_overlapping_claims_each_cover_exactly_their_own_words():
    claims = [claim("a", "will hold for a", 1), claim("b", "a decade if NATO", 2)]
    html, placed = mark_claims(SPANNING, claims)
    assert placed == ["a", "b"]
    assert marked_text(html, "a") == "will hold for a"
    assert marked_text(html, "b") == "a decade if NATO"
    assert html.count('<a class="claim-ref"') == 2


def test_claims_not_found_are_not_placed_and_change_nothing():
    html, placed = mark_claims(SPANNING, [claim("gone", "Latvia will hold")])
    assert placed == []
    assert html == SPANNING


def test_ambiguous_claims_are_not_placed():
    source = render_markdown("NATO stays. NATO stays.")
    html, placed = mark_claims(source, [claim("twice", "NATO stays.")])
    assert (html, placed) == (source, [])


def test_text_outside_claims_is_unchanged():
    claims = [claim("c1", "hold for a decade", 1), claim("c2", "they say", 2)]
    html, _ = mark_claims(SPANNING, claims)
    assert without_claims(html) == SPANNING
    assert html_to_text(html) == html_to_text(SPANNING).replace("decade", "decade1").replace(
        "they say", "they say2"
    )


def test_marked_text_is_escaped_again():
    source = render_markdown("Tom &amp; <Jerry> & co")
    html, _ = mark_claims(source, [claim("c1", "Tom & <Jerry>")])
    assert 'claim--factual">Tom &amp; &lt;Jerry&gt;</mark>' in html
    assert "<Jerry>" not in html


# --- Pathological input (denial of service guard; speed itself is not asserted) -------------


def test_ten_kilobytes_of_brackets_render_as_text():
    html = render_markdown("[" * 10_240)
    assert html_to_text(html) == "[" * 10_240


def test_ten_kilobytes_of_emphasis_markers_render_as_text_and_emphasis():
    html = render_markdown("*a" * 5_120)
    assert html_to_text(html).replace("*", "") == "a" * 5_120
    assert {el.tag for el in tree(html).find("body").iter()} <= {"body", "p", "em", "strong"}


def test_deeply_nested_quotes_are_capped_not_recursed():
    html = render_markdown(">" * 10_240 + " deep")
    depth = sum(1 for el in tree(html).iter() if el.tag == "blockquote")
    assert 1 <= depth <= 50
    assert len(html) < 2_000
