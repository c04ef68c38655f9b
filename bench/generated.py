"""Generated text for the benchmarks, the same on every run: words, sentences, the long paper
(60 sections of ~500 words, 10 claims in each, two tags per claim, a source on every third) and
a ~1 MB Markdown file. No Django here: bench/run.py, bench/lighthouse.py and bench/page_size.py
build their papers from it, each in its own database.
"""

import random

SLUG = "bench-large-paper"
SECTIONS, WORDS_PER_SECTION, CLAIMS_PER_SECTION = 60, 500, 10
KINDS = ["factual", "historical", "causal", "predictive", "normative"]

rng = random.Random(20261127)
VOCAB = sorted(
    {
        "".join(rng.choice("abcdefghijklmnoprstuvwy") for _ in range(rng.randint(3, 10)))
        for _ in range(4000)
    }
)
TAGS = ["defence", "economy", "energy", "health", "migration", "trade"]


def sentence(n):
    words = [rng.choice(VOCAB) for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def large_document(slug=SLUG):
    sections, claims = [], []
    for s in range(SECTIONS):
        heading = f"Section {s + 1}: {sentence(4)[:-1]}"
        anchor = f"section-{s + 1}"
        paragraphs, words = [], 0
        while words < WORDS_PER_SECTION:
            para = [sentence(rng.randint(12, 20)) for _ in range(5)]
            words += sum(len(x.split()) for x in para)
            paragraphs.append(para)
        sentences = [x for para in paragraphs for x in para]
        for c in rng.sample(range(len(sentences)), CLAIMS_PER_SECTION):
            claims.append(
                {
                    "section": anchor,
                    "quote": sentences[c],
                    "kind": rng.choice(KINDS),
                    "tags": rng.sample(TAGS, 2),
                    **(
                        {"sources": [{"title": "A source", "url": f"https://example.org/{s}/{c}"}]}
                        if c % 3 == 0
                        else {}
                    ),
                }
            )
        sections.append(
            {
                "heading": heading,
                "anchor": anchor,
                "body": "\n\n".join(" ".join(p) for p in paragraphs),
            }
        )
    return {
        "title": "A large benchmark paper",
        "slug": slug,
        "standfirst": sentence(30),
        "authors": ["Bench Author"],
        "tags": TAGS[:3],
        "taxonomy": [{"slug": t, "name": t.capitalize()} for t in TAGS],
        "sections": sections,
        "claims": claims,
    }


def megabyte_markdown(path):
    """~1 MB of Markdown: front matter with 100 claims, a title, 225 sections of ~4.5 KB."""
    bodies, claims = [], []
    for s in range(225):
        paras = [" ".join(sentence(rng.randint(12, 20)) for _ in range(6)) for _ in range(6)]
        quote = paras[2].split(". ")[1] + "."
        if s % 2 == 0:
            claims.append(f'  - {{section: part-{s + 1}, quote: "{quote}", kind: factual}}')
        bodies.append(f"## Part {s + 1} {{#part-{s + 1}}}\n\n" + "\n\n".join(paras))
    text = (
        "---\nslug: bench-one-megabyte\nclaims:\n" + "\n".join(claims) + "\n---\n"
        "# A one-megabyte paper\n\n" + sentence(25) + "\n\n" + "\n\n".join(bodies) + "\n"
    )
    path.write_text(text)
    return len(text.encode())
