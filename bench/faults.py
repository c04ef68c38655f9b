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
import sys
import time

from checks import failures
from client import Browser
from database_faults import kill_mid_publish, restart_under_load
from mail_faults import MailServerStub, failed_email, full_disk, kill_worker_mid_send
from stack import Stack, exit_on_signals


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
