"""What the simulated users of workload.py were told, against what PostgreSQL holds: the checks and
figures that workload.py and faults.py print."""

import collections
import statistics


def verify(workload, *, excused=lambda record: False, strict=True):
    """Figures, and the list of broken promises. `excused(record)` forgives a failed request
    (the faults script forgives those in flight during a restart); with strict=False a POST may
    have taken effect unacknowledged, and a race may have no winner (both presses failed)."""
    from papers.models import Assessment, Comment, Event, Paper, VersionClaim

    problems = [f"a simulated user crashed: {crash}" for crash in workload.crashes]
    five = [r for r in workload.records if r.status >= 500]
    dropped = [r for r in workload.records if r.status == 0]
    unexpected = [r for r in workload.records if 0 < r.status < 500 and not r.expected]
    for failed, what in ((five, "5xx responses"), (dropped, "requests with no response")):
        if bad := [r for r in failed if not excused(r)]:
            problems.append(f"{len(bad)} {what}: {describe(bad)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected statuses: {describe(unexpected)}")
    refused = {kind: n for kind, n in workload.refusals.items() if n}
    if refused and strict:
        problems.append(f"refused actions (error messages): {refused}")

    # Comments: each acknowledged token stored exactly once, nothing stored never sent.
    bodies = Comment.objects.filter(body__startswith="Load comment ")
    stored = collections.Counter(b[13:-1] for b in bodies.values_list("body", flat=True))
    acked = {t for t, ok in workload.comments.items() if ok}
    lost = [t for t in acked if stored[t] == 0]
    doubled = [t for t, n in stored.items() if n > 1]
    unknown = [t for t in stored if t not in workload.comments]
    silent = [t for t, ok in workload.comments.items() if not ok and stored[t]]
    for tokens, what in ((lost, "lost"), (doubled, "stored twice"), (unknown, "never sent")):
        if tokens:
            problems.append(f"{len(tokens)} acknowledged comments {what}: {tokens[:5]}")
    if silent and strict:
        problems.append(f"{len(silent)} comments stored without acknowledgment")

    # Assessments: the last acknowledged verdict is stored (or a later unanswered one).
    rows = Assessment.objects.filter(review__paper__slug__startswith=f"{workload.prefix}-review-")
    verdicts = {
        (user, claim): verdict
        for user, claim, verdict in rows.values_list(
            "review__reviewer__username", "claim__public_id", "verdict"
        )
    }
    wrong = []
    for key, attempts in workload.verdicts.items():
        acked_at = [i for i, (_, ok) in enumerate(attempts) if ok]
        if acked_at:
            allowed = {verdict for verdict, _ in attempts[acked_at[-1] :]}
            if verdicts.get(key) not in allowed:
                wrong.append((key, attempts[acked_at[-1]][0], verdicts.get(key)))
    if wrong:
        problems.append(f"{len(wrong)} acknowledged verdicts not stored: {wrong[:3]}")

    # Versions of the editors' paper: 1..N, each acknowledged once, each complete.
    desk = Paper.objects.select_related("live_version").get(slug=workload.desk)
    versions = list(desk.versions.order_by("number"))
    numbers = [v.number for v in versions]
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"version numbers have gaps or duplicates: {numbers}")
    told = collections.Counter(workload.acked_versions)
    if twice := [n for n, count in told.items() if count > 1]:
        problems.append(f"version numbers acknowledged twice: {twice}")
    if missing := sorted(set(told) - set(numbers)):
        problems.append(f"acknowledged versions not stored: {missing}")
    untold = sorted(set(numbers[workload.initial_versions :]) - set(told))
    if untold and strict:
        problems.append(f"versions stored without acknowledgment: {untold}")
    if desk.live_version.number != numbers[-1]:
        problems.append(f"live version {desk.live_version.number}, newest {numbers[-1]}")
    events = collections.Counter(
        Event.objects.filter(
            paper=desk, action__in=[Event.Action.PUBLISH, Event.Action.CORRECT]
        ).values_list("version_number", flat=True)
    )
    if any(events[n] != 1 for n in numbers) or set(events) - set(numbers):
        problems.append(f"publish events per version: {dict(events)}")
    claim_rows = collections.Counter(
        VersionClaim.objects.filter(version__paper=desk).values_list("version", flat=True)
    )
    if half := [v.number for v in versions if claim_rows[v.pk] != v.claim_count]:
        problems.append(f"versions with missing claim rows: {half}")
    for won in workload.races["publish"]:
        if len(won) > 1 or (strict and len(won) != 1):
            problems.append(f"simultaneous Publish: {len(won)} winners {won}")
    for won in workload.races["correct"]:
        if (strict and len(won) != 2) or (len(won) == 2 and won[1] != won[0] + 1):
            problems.append(f"simultaneous corrections gave versions {won}")

    timed = [r for r in workload.records if r.started >= workload.clock]
    figures = {
        "users": workload.users,
        "seconds": round(workload.elapsed, 1),
        "requests": len(timed),
        "requests/s": round(len(timed) / workload.elapsed, 1),
        "by kind": dict(collections.Counter(r.kind for r in timed)),
        "signed in over HTTP before the clock": workload.users - workload.readers,
        "statuses": dict(sorted(collections.Counter(r.status for r in timed).items())),
        "5xx": len(five),
        "no response": len(dropped),
        "latency ms p50/p95": latencies(timed),
        "comments sent": len(workload.comments),
        "comments acknowledged": len(acked),
        "comments stored": sum(stored[t] for t in workload.comments),
        "comments stored unacknowledged": len(silent),
        "verdicts acknowledged": sum(ok for a in workload.verdicts.values() for _, ok in a),
        "versions": f"{numbers[0]}..{numbers[-1]} ({len(numbers) - workload.initial_versions} "
        f"new, {len(told)} acknowledged)",
        "simultaneous publishes": f"{len(workload.races['publish'])}, "
        f"{workload.overlapping['publish']} overlapping at the server; winners per race: "
        f"{dict(collections.Counter(len(w) for w in workload.races['publish']))}",
        "simultaneous corrections": f"{len(workload.races['correct'])}, "
        f"{workload.overlapping['correct']} overlapping; both acknowledged in "
        f"{sum(len(w) == 2 for w in workload.races['correct'])}",
    }
    return figures, problems


def describe(records):
    counts = collections.Counter(f"{r.kind} {r.status or r.error}" for r in records)
    return ", ".join(f"{what} ×{n}" for what, n in counts.most_common(6))


def latencies(records):
    by_kind = collections.defaultdict(list)
    for r in records:
        if r.status:
            by_kind[r.kind].append((r.finished - r.started) * 1000)
    out = {}
    for kind, values in sorted(by_kind.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        out[kind] = f"{statistics.median(values):.0f}/{p95:.0f}"
    return out


def report(title, figures, problems):
    print(f"\n{title}")
    for key, value in figures.items():
        print(f"  {key}: {value}")
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


def paper_state(slug):
    from papers.models import Event, Paper, SearchDocument, VersionClaim

    paper = Paper.objects.get(slug=slug)
    search = SearchDocument.objects.filter(paper=paper).values_list("title", "body").first()
    return {
        "stage": paper.stage,
        "live version": paper.live_version_id,
        "versions": list(paper.versions.values_list("number", flat=True)),
        "claim rows": VersionClaim.objects.filter(paper=paper).count(),
        "search entry": search,
        "events": Event.objects.filter(paper=paper).count(),
    }


def complete(slug, number):
    """Version `number` of the paper exists with every row publishing writes."""
    from papers.models import Event, Paper, SearchDocument, VersionClaim

    paper = Paper.objects.select_related("live_version").get(slug=slug)
    version = paper.versions.filter(number=number).first()
    return bool(
        version
        and paper.live_version_id == version.pk
        and VersionClaim.objects.filter(version=version).count() == version.claim_count > 0
        and SearchDocument.objects.filter(paper=paper, title=version.title).exists()
        and Event.objects.filter(paper=paper, version_number=number).count() == 1
    )
