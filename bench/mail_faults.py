"""Faults of email for bench/faults.py (3 to 5 of its list): a task worker killed while it
sends, a mail server that refuses connections and then comes back, and a full disk.
"""

import contextlib
import os
import queue
import socket
import subprocess
import tempfile
import threading
import time

import tally
from checks import check
from client import Browser
from servers import wait_for


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


# --- 3. A task worker killed mid-send ---------------------------------------------------------


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
