#!/usr/bin/env python
"""Load: simulated readers, reviewers and editors against gunicorn and PostgreSQL, then a count
of what they were told against what the database holds.

    .venv/bin/python bench/load.py [--users 50] [--duration 60] [--workers 4]

(`.ci/run` runs `--users 50 --duration 20`.) It starts a throwaway PostgreSQL and one gunicorn
with production settings (`gunicorn -c gunicorn.conf.py`, WEB_CONCURRENCY=--workers) on free
127.0.0.1 ports, makes the accounts and papers, signs everyone in over HTTP, and then for
--duration seconds runs, each user in its own thread with its own cookies:

- readers (the rest of the users): anonymous pages (home, lists, paper pages, old versions,
  diff, history, claims, search, feed, export, sitemap), half of the repeats conditional
  (If-None-Match); each expects 200 or 304;
- reviewers (30 %): each assigned to one of three papers in review; they post comments (each
  body carries a unique token), assess claims and reload their workspace;
- the editors' desk (2 editors and a reviewer): over and over, both editors press "Publish a
  correction" at the same moment (a barrier), then the paper goes through a round (submit,
  review, approve) and both editors press "Publish" at the same moment.

A POST counts as acknowledged when the page it redirects to would show its success message
(see client.py). Then it checks, and exits 1 if any fails:

- no response was a 5xx, no connection failed, and no status was other than expected;
- every acknowledged comment is stored exactly once (its token counted in PostgreSQL), and no
  comment appears that was never sent;
- every reviewer's last acknowledged verdict on a claim is the one stored;
- the editors' paper has versions 1..N without gap or duplicate, each acknowledged number
  exactly once, each version complete (its claims, its one publish/correct event); in every
  simultaneous "Publish" exactly one editor won, in every simultaneous correction both did,
  with consecutive numbers (R30).
"""

import argparse
import collections
import random
import secrets
import sys
import threading
import time
from dataclasses import dataclass

import tally
from client import Browser
from stack import Stack, exit_on_signals

REVIEW_PAPERS = 3
VERDICTS = ["supported"] * 3 + ["needs-source", "disputed"]
OK_READ = {200, 304}


@dataclass
class Record:
    kind: str
    status: int  # 0: no response (connection refused, reset, timed out)
    started: float
    finished: float
    error: str = ""
    expected: bool = True
    method: str = "GET"


class Workload:
    """Accounts, papers and simulated users; `run()` drives them, `tally.verify()` counts."""

    def __init__(self, *, users, prefix="load", seed=1):
        import scenario

        self.server, self.prefix = None, prefix
        self.rng = random.Random(seed)
        self.records, self.lock = [], threading.Lock()
        self.comments = {}  # token -> acknowledged?
        self.verdicts = collections.defaultdict(list)  # (username, claim id) -> [(verdict, ack)]
        self.acked_versions = []  # numbers the editors were told
        self.races = {"publish": [], "correct": []}  # winners' numbers per race
        self.overlapping = collections.Counter()  # races whose two requests overlapped
        self.refusals = collections.Counter()

        editor = scenario.person(f"{prefix}-editor-1", editor=True)
        scenario.person(f"{prefix}-editor-2", editor=True)
        desk_reviewer = scenario.person(f"{prefix}-desk-reviewer", reviewer=True)
        self.desk = f"{prefix}-desk"
        desk = scenario.published(scenario.paper(self.desk, word="desk"), editor, desk_reviewer)
        self.initial_versions = desk.versions.count()
        static = scenario.paper(f"{prefix}-static", word="benchmark")
        static = scenario.published(static, editor, desk_reviewer)
        static = scenario.published(static, editor, desk_reviewer, note="Second edition.")
        self.static = static.slug
        self.static_claim = static.claims.order_by("pk").first().public_id

        reviewers = max(1, round(users * 0.3))
        self.readers = max(0, users - reviewers - 3)
        papers = [scenario.paper(f"{prefix}-review-{i}", sections=6) for i in range(REVIEW_PAPERS)]
        self.assigned = collections.defaultdict(list)  # slug -> reviewer usernames
        for n in range(reviewers):
            reviewer = scenario.person(f"{prefix}-reviewer-{n + 1:02d}", reviewer=True)
            self.assigned[papers[n % REVIEW_PAPERS].slug].append(reviewer)
        self.claims = {}
        for paper in papers:
            scenario.in_review(paper, editor, self.assigned[paper.slug])
            self.claims[paper.slug] = list(paper.claims.values_list("public_id", flat=True))
        self.users = reviewers + self.readers + 3

    # --- Running ----------------------------------------------------------------------------

    def call(self, kind, browser, method, path, fields=None, *, expect=(200,), **headers):
        started = time.monotonic()
        try:
            if method == "GET":
                response = browser.get(path, **headers)
            else:
                response = browser.post(path, fields)
        except Exception as error:  # noqa: BLE001 - every failure is a figure
            failed = Record(kind, 0, started, time.monotonic(), type(error).__name__, True, method)
            self._record(failed)
            return None
        ok = response.status in expect
        self._record(Record(kind, response.status, started, response.finished, "", ok, method))
        return response

    def _record(self, record):
        with self.lock:
            self.records.append(record)

    def run(self, server, duration, *, during=None):
        """Sign everyone in, then run every user for `duration` seconds. `during(clock)` runs
        in its own thread once the clock starts (the faults script restarts PostgreSQL there)."""
        self.server, self.stop, self.crashes = server, threading.Event(), []
        users = [(self._desk, ())]  # three people (two editors, a reviewer) in one thread
        users += [(self._reader, ()) for _ in range(self.readers)]
        for slug, reviewers in self.assigned.items():
            users += [(self._reviewer, (slug, r.username)) for r in reviewers]
        # The clock starts when the last user has signed in (the barrier's action).
        start = threading.Barrier(len(users) + 1, action=self._start_clock)
        threads = [
            threading.Thread(target=self._user, args=(target, args, start), daemon=True)
            for target, args in users
        ]
        for thread in threads:
            thread.start()
        try:
            start.wait(timeout=180)
        except threading.BrokenBarrierError:
            self.stop.set()
            crashes = "; ".join(self.crashes)
            raise SystemExit(f"FAILED: a simulated user could not start: {crashes}") from None
        side = threading.Thread(target=during, args=(self.clock,), daemon=True) if during else None
        if side:
            side.start()
        self.stop.wait(duration)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=90)
        if side:
            side.join(timeout=120)
        self.elapsed = time.monotonic() - self.clock

    def _start_clock(self):
        self.clock = time.monotonic()

    def _user(self, target, args, start):
        rng = random.Random(self.rng.random())
        try:
            target(rng, start, *args)
        except threading.BrokenBarrierError:
            pass
        except BaseException as error:  # noqa: BLE001 - reported, and fails the run
            self.crashes.append(f"{target.__name__}{args}: {type(error).__name__}: {error}")
            start.abort()

    def _think(self, rng):
        self.stop.wait(rng.uniform(0.05, 0.25))

    def _reader(self, rng, start):
        browser = Browser(self.server.base)
        paths = [
            "/",
            "/papers/",
            f"/papers/{self.desk}/",
            f"/papers/{self.desk}/",
            f"/papers/{self.static}/",
            f"/papers/{self.static}/",
            f"/papers/{self.static}/v1/",
            f"/papers/{self.static}/diff/1/2/",
            f"/papers/{self.desk}/versions/",
            f"/papers/{self.desk}/export.json",
            "/claims/",
            f"/claims/{self.static_claim}/",
            "/papers/?q=benchmark",
            "/feed/",
            "/sitemap.xml",
        ]
        etags = {}
        start.wait(timeout=120)
        while not self.stop.is_set():
            path = rng.choice(paths)
            headers = {}
            if path in etags and rng.random() < 0.5:
                headers["If-None-Match"] = etags[path]
            response = self.call("read", browser, "GET", path, expect=OK_READ, **headers)
            if response is not None and response.header("ETag"):
                etags[path] = response.header("ETag")
            self._think(rng)

    def _reviewer(self, rng, start, slug, username):
        import scenario

        browser = Browser(self.server.base)
        browser.login(username, scenario.PASSWORD, then=f"/review/{slug}/")
        start.wait(timeout=120)
        workspace = f"/review/{slug}/"
        while not self.stop.is_set():
            claim = rng.choice(self.claims[slug])
            roll = rng.random()
            if roll < 0.55:
                token = f"{username}-{secrets.token_hex(6)}"
                with self.lock:
                    self.comments[token] = False
                response = self.call(
                    "comment",
                    browser,
                    "POST",
                    f"{workspace}claims/{claim}/comment/",
                    {"body": f"Load comment {token}.", "parent": ""},
                    expect=(302,),
                )
                if response is not None and response.status == 302:
                    acked = bool(response.said("Your comment was added."))
                    self.comments[token] = acked
                    self.refusals["comment"] += not acked
            elif roll < 0.9:
                verdict = rng.choice(VERDICTS)
                response = self.call(
                    "assess",
                    browser,
                    "POST",
                    f"{workspace}claims/{claim}/assess/",
                    {"verdict": verdict, "note": f"Load note {secrets.token_hex(4)}"},
                    expect=(302,),
                )
                acked = bool(response and response.said("Your assessment was saved."))
                if response is not None and response.status == 302:
                    self.refusals["assess"] += not acked
                self.verdicts[(username, claim)].append((verdict, acked))
            else:
                self.call("workspace", browser, "GET", workspace)
            self._think(rng)

    def _desk(self, rng, start):
        import scenario

        base, slug = self.server.base, self.desk
        editors = [Browser(base), Browser(base)]
        for n, browser in enumerate(editors, start=1):
            browser.login(f"{self.prefix}-editor-{n}", scenario.PASSWORD, then=f"/review/{slug}/")
        reviewer = Browser(base)
        reviewer.login(f"{self.prefix}-desk-reviewer", scenario.PASSWORD, then=f"/review/{slug}/")
        start.wait(timeout=120)
        action = f"/review/{slug}/workflow/"
        round_ = 0
        while not self.stop.is_set():
            if round_ % 2 == 0:
                note = {"note": f"Correction {round_}.", "override_reason": ""}
                self._race("correct", editors, action + "correct/", note, "Published a correction")
            else:
                steps = [
                    ("submit", editors[0], action + "submit/", {}, "for review: round"),
                    (
                        "review",
                        reviewer,
                        f"/review/{slug}/submit/",
                        {
                            "recommendation": "approve",
                            "summary": f"Round {round_}.",
                            "unassessed": "on",
                        },
                        "Your review was submitted",
                    ),
                    (
                        "approve",
                        editors[0],
                        action + "approve/",
                        # The load's reviewer assesses no claim: approval takes a reason.
                        {"publish_at": "", "override_reason": "Reviewed by the load test."},
                        "Approved",
                    ),
                ]
                for kind, browser, path, fields, success in steps:
                    response = self.call(kind, browser, "POST", path, fields, expect=(302,))
                    if response is not None and not response.said(success):
                        self.refusals[kind] += 1
                note = {"note": f"Edition {round_}.", "override_reason": ""}
                self._race("publish", editors, action + "publish/", note, " as version ")
            round_ += 1
            self.stop.wait(rng.uniform(0.2, 0.6))

    def _race(self, kind, editors, path, fields, success):
        """Both editors press the same button at the same moment."""
        barrier = threading.Barrier(len(editors))
        won, spans = [], []

        def press(browser):
            barrier.wait(timeout=30)
            response = self.call(kind, browser, "POST", path, fields, expect=(302,))
            if response is None:
                return
            with self.lock:
                spans.append((response.started, response.finished))
                if text := response.said(success):
                    won.append(int(text.rstrip(".").rsplit(" ", 1)[1]))

        pressers = [threading.Thread(target=press, args=(b,)) for b in editors]
        for thread in pressers:
            thread.start()
        for thread in pressers:
            thread.join(timeout=90)
        self.acked_versions.extend(won)
        self.races[kind].append(sorted(won))
        # Both requests were at the server at once: the later one started before the
        # earlier one was answered.
        if len(spans) == 2:
            self.overlapping[kind] += max(s for s, _ in spans) < min(f for _, f in spans)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    parser.add_argument("--duration", type=float, default=60, help="seconds (default 60)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--no-redis", action="store_true", help="per-process caches, no Redis")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    exit_on_signals()
    with Stack(redis=not args.no_redis) as stack:
        workload = Workload(users=args.users, seed=args.seed)
        stack.close_db()
        server = stack.gunicorn("load", workers=args.workers)
        print(f"{workload.users} users for {args.duration:.0f} s ...", flush=True)
        workload.run(server, args.duration)
        figures, problems = tally.verify(workload)
        return tally.report(f"Load: {args.users} users, {args.workers} workers", figures, problems)


if __name__ == "__main__":
    sys.exit(main())
