"""The readers' pages on the wire, a measurement of its own for bench/run.py: the demo paper and
the long paper in each coding (identity, br, gzip) against the bare project serving as many bytes.

`BENCH_ONLY=wire .venv/bin/python bench/run.py` builds the data, runs only this measurement and
prints its tables (bench/RESULTS.md is left as it is).
"""

import os

import report
from generated import SLUG

# Pages on the wire: rounds of a few seconds each, the bare project and ours alternating.
# Seven: a worker that restarts (max_requests) costs a round a second of one CPU, so a round
# of 3 s can read a third low; the median of seven stands against two such rounds.
WIRE_ROUNDS = int(os.environ.get("BENCH_WIRE_ROUNDS", "7"))
WIRE_DURATION = int(os.environ.get("BENCH_WIRE_DURATION", "3"))

CODINGS = [
    ("identity", {}),
    ("br", {"Accept-Encoding": "br"}),
    ("gzip", {"Accept-Encoding": "gzip"}),
]
DEMO_SLUG = "baltic-states-nato"


def measure_wire(base, bare, *, get, wrk):
    """The demo paper and the long paper from the page cache in each coding, against the bare
    project serving the page's uncompressed size and the number of bytes sent: WIRE_ROUNDS
    rounds, the bare project first in one and ours first in the next, so that neither always
    runs in the other's wake or in the same moment of a neighbour's load; each ratio is the
    median of the rounds' ratios."""
    wire = []
    for page, path in [("demo paper", f"/papers/{DEMO_SLUG}/"), ("long paper", f"/papers/{SLUG}/")]:
        sizes = {coding: len(get(base + path, headers=h)[1]) for coding, h in CODINGS}
        print(f"wrk {page} ({path}): " + ", ".join(f"{c} {n} bytes" for c, n in sizes.items()))
        for _, headers in CODINGS:  # every worker renders (or reads) the page first
            wrk(base + path, headers=[f"{k}: {v}" for k, v in headers.items()], duration=1)
        for coding, headers in CODINGS:
            header_lines = [f"{k}: {v}" for k, v in headers.items()]
            rounds = []
            for n in range(WIRE_ROUNDS):
                runs = {}
                for who in ("bare", "ours") if n % 2 == 0 else ("ours", "bare"):
                    if who == "bare":
                        runs["bare"] = wrk(
                            f"{bare}/?bytes={sizes['identity']}", duration=WIRE_DURATION
                        )[0]
                    else:
                        runs["ours"] = wrk(
                            base + path, headers=header_lines, duration=WIRE_DURATION
                        )[0]
                runs["same"] = (
                    runs["bare"]
                    if coding == "identity"
                    else wrk(f"{bare}/?bytes={sizes[coding]}", duration=WIRE_DURATION)[0]
                )
                rounds.append(runs)
            wire.append(
                {"page": page, "path": path, "coding": coding, "bytes": sizes[coding]}
                | report.wire_medians(rounds)
            )
            row = wire[-1]
            print(
                f"  {coding}: {report.ratios_text(row['ratios'])} × bare "
                f"(median {row['ratio']:.2f})",
                flush=True,
            )
    return wire
