"""Faults of the database for bench/faults.py (1 and 2 of its list): PostgreSQL restarted under
load, and an app worker killed in the middle of a publish while its transaction waits for a lock.
"""

import collections
import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time

import tally
from checks import check, failures
from client import Browser
from load import Workload
from servers import wait_for

EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception)\b.*$", re.M)


def in_background(call):
    """Run call() in a thread; returns the thread and a dict that receives its outcome."""
    outcome = {}

    def run():
        try:
            outcome["response"] = call()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test looks at
            outcome["error"] = f"{type(error).__name__}: {error}"

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


# --- 1. Database restart under load -----------------------------------------------------------


def restart_under_load(stack, args):
    print(f"\n1. PostgreSQL restart under load ({args.users} users, {args.duration:.0f} s)")
    workload = Workload(users=args.users, prefix="restart", seed=2)
    stack.close_db()
    server = stack.gunicorn("restart", workers=4)
    window = {}

    def restart(clock):
        time.sleep(max(0.0, clock + args.restart_at - time.monotonic()))
        window["start"], window["end"] = stack.pg.restart()

    workload.run(server, args.duration, during=restart)
    stack.close_db()  # this process's connection died with the restart too
    if not check("end" in window, "PostgreSQL was restarted during the load"):
        return
    start, end = window["start"], window["end"]

    def in_window(record):
        return record.started <= end and record.finished >= start

    def excused(record):
        # Only a write cut off by the restart, answered 503 or not at all: never a 500, a read.
        cut_off = record.status in (0, 503) and record.method != "GET"
        return cut_off and in_window(record)

    figures, problems = tally.verify(workload, excused=excused, strict=False)
    failed = [r for r in workload.records if r.status == 0 or r.status >= 500]
    failed_reads = [r for r in failed if r.method == "GET"]
    figures["reads retried through the restart, failed"] = str(len(failed_reads))
    after = [r for r in workload.records if r.started > end]
    writes_after = [r for r in after if r.kind in {"comment", "assess"} and r.status == 302]
    figures["restart window"] = (
        f"{end - start:.2f} s, from {start - workload.clock:.1f} s to {end - workload.clock:.1f} s"
    )
    figures["failed in the window (5xx / no response)"] = (
        f"{sum(r.status >= 500 for r in failed)} / {sum(r.status == 0 for r in failed)}: "
        f"{sum(r.started < start for r in failed)} in flight when it began, "
        f"{sum(r.started >= start for r in failed)} sent while PostgreSQL was down"
    )
    figures["errors logged"] = logged_errors(server.log())
    failed_after = sum(r.status == 0 or r.status >= 500 for r in after)
    figures["requests after the window"] = f"{len(after)}, of which failed: {failed_after}"
    if not writes_after:
        problems.append("no comment or assessment went through after the restart")
    tally.report("Restart figures (R30)", figures, problems)
    failures.extend(problems)
    if not problems:
        print("  ok: no failure outside the restart window; comments and versions add up")


def logged_errors(log):
    """The last line of each exception in the app's JSON log, counted."""
    causes = collections.Counter()
    for line in log.splitlines():
        if line.startswith("{") and '"exception"' in line:
            with contextlib.suppress(ValueError):
                raised = EXCEPTION.findall(json.loads(line)["exception"])
                causes[re.sub(r"port \d+", "port …", raised[-1])[:150] if raised else "?"] += 1
    return dict(causes.most_common(3))


# --- 2. A worker killed mid-publish -----------------------------------------------------------


def kill_mid_publish(stack, server, editor, slug):
    print("\n2. A worker killed in the middle of a publish (before its commit)")
    before = tally.paper_state(slug)
    stack.close_db()
    locker = subprocess.Popen(
        stack.pg.psql_command("standpoint"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        locker.stdin.write("BEGIN;\nLOCK TABLE papers_event IN EXCLUSIVE MODE;\nSELECT 'held';\n")
        locker.stdin.flush()
        check(locker.stdout.readline().strip() == "held", "psql holds a lock on papers_event")
        thread, outcome = in_background(
            lambda: editor.post(f"/review/{slug}/workflow/publish/", {"note": "Killed."})
        )
        waiting = {}

        def publish_is_waiting():
            row = stack.pg.psql(
                "SELECT pid, client_port FROM pg_stat_activity WHERE datname = 'standpoint' "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO \"papers_event\"%'",
                database="standpoint",
            )
            if row:
                waiting["pid"], waiting["port"] = map(int, row.split("\n")[0].split("|"))
            return bool(row)

        wait_for(publish_is_waiting, timeout=20, what="the publish to wait for the event lock")
        written = stack.pg.psql(
            "SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_locks l "
            "JOIN pg_class c ON c.oid = l.relation WHERE c.relkind = 'r' "
            f"AND l.mode = 'RowExclusiveLock' AND l.granted AND l.pid = {waiting['pid']}",
            database="standpoint",
        )
        check(
            "papers_version" in written and "papers_searchdocument" in written,
            f"the publish is mid-transaction, having written to: {written}",
        )
        worker = server.worker_with_connection(waiting["port"], stack.pg.port)
        check(worker is not None, f"the worker holding that connection is pid {worker}")
        os.kill(worker, signal.SIGKILL)
        thread.join(timeout=30)
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        locker.wait(timeout=30)
    finally:
        if locker.poll() is None:
            locker.kill()
            locker.wait()
    check("error" in outcome, f"the editor got no acknowledgment ({outcome.get('error')})")
    wait_for(
        lambda: (
            not stack.pg.psql(
                f"SELECT 1 FROM pg_stat_activity WHERE pid = {waiting['pid']}",
                database="standpoint",
            )
        ),
        timeout=20,
        what="the killed worker's database session to end",
    )
    after = tally.paper_state(slug)
    check(
        after == before,
        f"the paper is as before: versions {after['versions']}, stage {after['stage']}, "
        f"{after['claim rows']} claim rows, {after['events']} events, the same search entry",
    )
    workers = int(server.env["WEB_CONCURRENCY"])
    wait_for(
        lambda: len(server.workers()) == workers and worker not in server.workers(),
        timeout=30,
        what="gunicorn to replace the killed worker",
    )
    check(True, f"gunicorn replaced the worker ({workers} workers)")
    check(Browser(server.base).get("/healthz").status == 200, "the server answers /healthz")
    done = editor.post(f"/review/{slug}/workflow/publish/", {"note": "Published again."})
    number = len(before["versions"]) + 1
    check(bool(done.said(f" as version {number}.")), f"publishing again: {done.messages}")
    check(tally.complete(slug, number), f"version {number} is complete (no number lost)")
    stack.close_db()
