#!/usr/bin/env python
"""Faults: what a database restart, a killed worker, a failed email and a full disk cost.

    .venv/bin/python bench/faults.py [--users 50] [--duration 20] [--restart-at 6]

(run by `.ci/run`; as root for the full-disk part, which mounts a tmpfs). A throwaway
PostgreSQL and Redis and gunicorn servers with production settings on free 127.0.0.1 ports:

1. Database restart under load (R30: "a DB restart causes no 5xx once the DB is back"). The
   load of `load.py` (--users, --duration); at --restart-at seconds `pg_ctl restart -m fast`
   cuts every connection. No request may answer 500 and no read may fail: a read that loses
   the database waits for it and runs once more (papers/outages.py). A write in flight or sent
   while PostgreSQL is down may answer 503 (with Retry-After) or no response; every request
   started after it is back must succeed. Comments and versions are counted as in load.py,
   except that a POST cut by the restart may have taken effect unacknowledged.
2. A worker killed in the middle of a publish. A psql session holds `LOCK TABLE papers_event
   IN EXCLUSIVE MODE` (publishing writes its event last); the editor presses Publish; once the
   worker's transaction is waiting for that lock (pg_stat_activity), holding write locks on the
   version, its claims and the search entry, the worker is sent SIGKILL and the lock released.
   The paper must be exactly as before (no version, no claim rows, same search entry, stage,
   live version and events); the master replaces the worker; publishing again gives the next
   number, with no gap, complete.
3. A task worker killed while it sends a publication's email to a mail server that accepts the
   connection and never answers: the editor was answered at once (email is a background task,
   papers/tasks.py) and the version is complete.
4. A failed email: the mail server's port refuses connections. A reviewer's comment,
   assessment and review, and the editor's approval and publication are stored and
   acknowledged; each email's task fails with ConnectionRefusedError and queues its next
   attempt. Then a real SMTP server (aiosmtpd) comes up on that port, the retries fall due, and
   every message is delivered once.
5. A full disk: the email file backend's folder is a full 64 KB tmpfs and the access log
   (stdout) is /dev/full. The comment and the review are stored and acknowledged; the email
   tasks fail with "No space left on device", kept with their traceback for the admin.
   PostgreSQL's own disk filling up is not simulated: its writes would fail and the request
   with them, unacknowledged.

Exits 1 if any check fails.
"""

import argparse
import collections
import contextlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import tally
from client import Browser
from load import Workload
from servers import wait_for
from stack import Stack, exit_on_signals

failures = []
EXCEPTION = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception)\b.*$", re.M)


def check(condition, message):
    print(f"  {'ok' if condition else 'FAILED'}: {message}", flush=True)
    if not condition:
        failures.append(message)
    return condition


class MailServerStub:
    """A TCP listener where the SMTP server should be. "drop": accept and close at once (the
    send fails quickly); "hang": accept and never answer (the sender waits for a greeting);
    close(): nothing listens any more (connection refused)."""

    def __init__(self):
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.mode, self.held, self.arrivals = "drop", [], queue.Queue()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, peer = self.socket.accept()
            except OSError:
                return
            if self.mode == "hang":
                self.held.append(conn)
                self.arrivals.put(peer)
            else:
                conn.close()

    def release(self):
        for conn in self.held:
            conn.close()
        self.held.clear()

    def close(self):
        self.release()
        # Wakes the accept() of the serving thread, which a bare close() leaves listening.
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        self.socket.close()


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


# --- 2 and 3. Killed workers ------------------------------------------------------------------


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


def kill_worker_mid_send(stack, editor, slug, mail, worker):
    print("\n3. A task worker killed while it sends a publication's email")
    before = tally.paper_state(slug)
    number = len(before["versions"]) + 1
    stack.close_db()
    mail.mode = "hang"
    try:
        began = time.monotonic()
        done = editor.post(f"/review/{slug}/workflow/publish/", {"note": "Mail hangs."})
        took = time.monotonic() - began
        check(bool(done.said(f" as version {number}.")), f"the editor is told: {done.messages}")
        check(took < 5, f"without waiting for the mail server, which never answers ({took:.1f} s)")
        mail.arrivals.get(timeout=30)
        worker.kill()
        check(True, f"the worker waiting for the mail server (pid {worker.process.pid}) is killed")
    finally:
        mail.mode = "drop"
        mail.release()
    check(tally.complete(slug, number), f"version {number} is complete: published before the kill")
    stack.close_db()


# --- 4. Failed email --------------------------------------------------------------------------


def reviewer_and_editor_work(server, stack, slug, reviewer_name, editor_name, *, publish=True):
    """Over HTTP: a reviewer comments, assesses a claim and submits the review; then the
    editor approves and publishes."""
    import scenario

    from papers.models import Assessment, Comment, Paper, Review

    reviewer = Browser(server.base)
    reviewer.login(reviewer_name, scenario.PASSWORD, then=f"/review/{slug}/")
    claim = Paper.objects.get(slug=slug).claims.order_by("pk").first().public_id
    stack.close_db()
    token = f"fault-{os.getpid()}-{time.monotonic_ns()}"
    steps = [
        (f"claims/{claim}/comment/", {"body": f"Comment {token}."}, "Your comment was added."),
        (f"claims/{claim}/assess/", {"verdict": "supported", "note": ""}, "assessment was saved"),
        (
            "submit/",
            # One claim of several assessed: the reviewer confirms they submit all the same.
            {"recommendation": "approve", "summary": "Good.", "unassessed": "on"},
            "Your review was submitted",
        ),
    ]
    for path, fields, success in steps:
        response = reviewer.post(f"/review/{slug}/{path}", fields)
        check(bool(response.said(success)), f"the reviewer is told: {response.messages}")
    check(
        Comment.objects.filter(body=f"Comment {token}.").count() == 1,
        "the comment is stored once",
    )
    check(
        Assessment.objects.filter(claim__public_id=claim, review__paper__slug=slug).exists(),
        "the assessment is stored",
    )
    check(
        Review.objects.filter(paper__slug=slug, status=Review.Status.SUBMITTED).exists(),
        "the review is stored as submitted",
    )
    if publish:
        editor = Browser(server.base)
        editor.login(editor_name, scenario.PASSWORD, then=f"/review/{slug}/")
        # The review assessed one claim: approving it takes a written reason.
        override = {"override_reason": "The fault scripts' reviewer checks one claim."}
        for action, fields, success in (
            ("approve", override, "Approved"),
            ("publish", {"note": ""}, " as version 1."),
        ):
            response = editor.post(f"/review/{slug}/workflow/{action}/", fields)
            check(bool(response.said(success)), f"the editor is told: {response.messages}")
        check(tally.complete(slug, 1), "version 1 is complete")
    stack.close_db()


SEND_EMAIL = "papers.notifications.send_email"


def email_tasks(stack):
    """From now on: the email tasks queued, and a test that every one due has been tried. The
    emails of earlier steps still waiting for an attempt are left out (deleted)."""
    from django.db.models import Q
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult, get_date_max

    emails = DBTaskResult.objects.filter(task_path=SEND_EMAIL)
    emails.filter(status="READY").delete()
    sends = emails.filter(enqueued_at__gte=timezone.now())

    def all_tried():
        due = Q(run_after__lte=timezone.now()) | Q(run_after=get_date_max())
        busy = sends.filter(due, status="READY").exists() or sends.filter(status="RUNNING").exists()
        stack.close_db()
        return not busy

    return sends, all_tried


def failed_email(stack, server, mail, slug, mail_env):
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink
    from django.utils import timezone

    print("\n4. The mail server refuses connections, then comes back")
    mail.close()
    sends, all_tried = email_tasks(stack)
    worker = stack.task_worker("mail-worker-2", env=mail_env)
    reviewer_and_editor_work(server, stack, slug, "fault-reviewer", "fault-editor-2")
    wait_for(all_tried, timeout=60, what="the worker to try each email")
    failed = list(sends.filter(status="FAILED").values_list("exception_class_path", flat=True))
    waiting = sends.filter(status="READY").count()
    check(
        failed and set(failed) == {"builtins.ConnectionRefusedError"},
        f"each email's first attempt failed with ConnectionRefusedError ({len(failed)}: "
        f"{', '.join(sorted(set(failed)))})",
    )
    check(waiting == len(failed), f"and queued its next attempt ({waiting} waiting)")

    class Inbox(Sink):
        received = []

        async def handle_DATA(self, server, session, envelope):
            self.received.append(envelope.rcpt_tos)
            return "250 OK"

    smtp = Controller(Inbox(), hostname="127.0.0.1", port=mail.port)
    smtp.start()
    try:
        sends.filter(status="READY").update(run_after=timezone.now())  # the backoff has passed
        wait_for(all_tried, timeout=60, what="the worker to send the retries")
        delivered = sends.filter(status="SUCCESSFUL").count()
        check(
            delivered == len(failed) == len(Inbox.received),
            f"once the server is back every email is delivered once ({len(Inbox.received)})",
        )
    finally:
        smtp.stop()
        worker.stop()
        stack.close_db()


# --- 5. Full disk -----------------------------------------------------------------------------


def full_disk(stack, slug):
    print("\n5. A full disk: the email spool is a full tmpfs, the access log is /dev/full")
    if os.geteuid() != 0:
        print("  SKIPPED: mounting a tmpfs needs root")
        return
    spool = tempfile.mkdtemp(prefix="standpoint-full-")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", spool],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        os.rmdir(spool)
        print(f"  SKIPPED: cannot mount a tmpfs here ({mounted.stderr.strip()})")
        return
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(os.rmdir, spool)
        cleanup.callback(subprocess.run, ["umount", "--lazy", spool], check=False)
        # Unbuffered, so that the write that finds the disk full is the one that fails.
        filler = os.path.join(spool, "filler")
        with open(filler, "wb", buffering=0) as out, contextlib.suppress(OSError):
            while True:
                out.write(b"\0" * 4096)
        free = os.statvfs(spool)
        check(free.f_bavail == 0, f"the spool's disk is full ({free.f_bavail} blocks free)")
        spool_env = {
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "BENCH_EMAIL_FILE_PATH": spool,
        }
        server = stack.gunicorn("full-disk", workers=1, env=spool_env, stdout="/dev/full")
        cleanup.callback(server.stop)
        sends, all_tried = email_tasks(stack)
        worker = stack.task_worker("full-disk-worker", env=spool_env)
        cleanup.callback(worker.stop)
        reviewer_and_editor_work(
            server, stack, slug, "fault-reviewer", "fault-editor-2", publish=False
        )
        wait_for(all_tried, timeout=60, what="the worker to try each email")
        tracebacks = list(sends.filter(status="FAILED").values_list("traceback", flat=True))
        check(
            tracebacks and all("No space left on device" in t for t in tracebacks),
            f"the email tasks failed with 'No space left on device' ({len(tracebacks)})",
        )
        stack.close_db()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    parser.add_argument("--duration", type=float, default=20, help="load seconds (default 20)")
    parser.add_argument("--restart-at", type=float, default=6, help="seconds into the load")
    args = parser.parse_args()
    exit_on_signals()
    started = time.monotonic()
    with Stack(redis=True) as stack:
        import scenario

        editor = scenario.person("fault-editor", editor=True)
        scenario.person("fault-editor-2", editor=True)
        reviewer = scenario.person("fault-reviewer", reviewer=True)
        killed = scenario.published(scenario.paper("fault-killed"), editor, reviewer)
        scenario.approved(killed, editor, reviewer)
        mailed = scenario.in_review(scenario.paper("fault-mail"), editor, [reviewer])
        full = scenario.in_review(scenario.paper("fault-full-disk"), editor, [reviewer])

        restart_under_load(stack, args)

        mail = MailServerStub()
        stack.callback(mail.close)
        mail_env = {
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "DJANGO_EMAIL_HOST": "127.0.0.1",
            "DJANGO_EMAIL_PORT": str(mail.port),
            "DJANGO_EMAIL_TIMEOUT": "10",
        }
        server = stack.gunicorn("mail", workers=2, env=mail_env)
        # Email is sent by task workers, with the same settings (the database queue).
        worker = stack.task_worker("mail-worker", env=mail_env)
        browser = Browser(server.base)
        browser.login("fault-editor-2", scenario.PASSWORD, then=f"/review/{killed.slug}/")
        kill_mid_publish(stack, server, browser, killed.slug)
        scenario.approved(killed, editor, reviewer)
        kill_worker_mid_send(stack, browser, killed.slug, mail, worker)
        failed_email(stack, server, mail, mailed.slug, mail_env)
        full_disk(stack, full.slug)
    print(f"\nFaults: {len(failures)} failed checks in {time.monotonic() - started:.0f} s.")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
