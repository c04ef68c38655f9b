"""Email goes through the task queue (papers.notifications, papers.tasks): a request that
triggers email never waits for SMTP, and a message the mail server could not take is retried
with backoff until it is delivered. A real SMTP server (aiosmtpd) on 127.0.0.1, the real
database queue and django-tasks-db's own worker."""

import socket
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.test import Client
from django.utils import timezone

from papers import workflow
from papers.models import Comment
from papers.notifications import send_email
from papers.tasks import ATTEMPT

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


class MailServer:
    """An SMTP server on a fixed local port that the test starts and stops."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_server(settings):
    server = MailServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_TIMEOUT = False, 5
    yield server
    server.stop()


@pytest.fixture
def in_review(draft, editor, reviewer):
    workflow.assign_reviewer(draft, reviewer, by=editor)
    return workflow.submit_paper(draft, by=editor)


def post_comment(paper, reviewer, body):
    client = Client()
    client.force_login(reviewer)
    claim = paper.sections.first().claims.first()
    return client.post(f"/review/{paper.slug}/claims/{claim.public_id}/comment/", {"body": body})


def delay_of(result):
    return (result.run_after - result.enqueued_at).total_seconds()


def test_with_smtp_down_a_comment_is_stored_and_its_email_delivered_once_smtp_is_back(
    task_queue, mail_server, in_review, editor, reviewer
):
    task_queue.run()  # what the assignment and submission queued, sent while the server is down
    for result in task_queue.results():
        result.delete()

    response = post_comment(in_review, reviewer, "Which brigade is meant here?")

    # The request answered without trying SMTP: the comment is stored and its email queued.
    assert response.status_code == 302
    assert Comment.objects.filter(body="Which brigade is meant here?").exists()
    [queued] = task_queue.results()
    assert queued.status == "READY" and queued.task_path == "papers.notifications.send_email"
    assert queued.args_kwargs["args"][2] == editor.email

    # The first attempt fails on the closed port, and a second is queued a minute on.
    task_queue.run()
    first, second = task_queue.results()
    assert first.status == "FAILED"
    assert first.exception_class_path == "builtins.ConnectionRefusedError"
    assert second.status == "READY" and second.args_kwargs["kwargs"] == {ATTEMPT: 2}
    assert 54 <= delay_of(second) <= 66
    task_queue.run()  # not due yet: nothing runs
    assert [r.status for r in task_queue.results()] == ["FAILED", "READY"]

    # It fails again when due, and waits twice as long before the third attempt.
    task_queue.make_due()
    task_queue.run()
    third = task_queue.waiting()[0]
    assert third.args_kwargs["kwargs"] == {ATTEMPT: 3}
    assert 108 <= delay_of(third) <= 132

    # The server comes back; the third attempt delivers the message.
    mail_server.start()
    task_queue.make_due()
    task_queue.run()
    assert [r.status for r in task_queue.results()] == ["FAILED", "FAILED", "SUCCESSFUL"]
    [message] = mail_server.inbox.messages
    assert message["To"] == editor.email
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "reviewer commented on a claim in “Draft on deterrence”"
    assert "Which brigade is meant here?" in message.get_payload(decode=True).decode()


def test_a_message_is_given_up_after_its_last_attempt(task_queue, mail_server):
    send_email.enqueue("Subject", "Body\n", "someone@example.org")
    for _ in range(6):
        task_queue.make_due()
        task_queue.run()
    results = task_queue.results()
    assert [r.status for r in results] == ["FAILED"] * 6
    assert task_queue.waiting() == []
    assert [r.args_kwargs["kwargs"].get(ATTEMPT, 1) for r in results] == [1, 2, 3, 4, 5, 6]


def test_a_delivered_message_is_not_sent_again(task_queue, mail_server):
    mail_server.start()
    send_email.enqueue("Subject", "Body\n", "someone@example.org")
    task_queue.run()
    task_queue.run()
    assert [r.status for r in task_queue.results()] == ["SUCCESSFUL"]
    assert len(mail_server.inbox.messages) == 1
    assert timezone.now() - task_queue.results()[0].finished_at < timedelta(minutes=1)


def test_a_password_reset_answers_at_once_and_its_link_is_written_when_it_is_sent(
    task_queue, mail_server, reviewer
):
    response = Client().post("/accounts/password-reset/", {"email": reviewer.email})
    assert response.status_code == 302
    [queued] = task_queue.results()
    # Only the account waits in the queue's table: no working link.
    assert queued.args_kwargs == {"args": [reviewer.pk], "kwargs": {}}

    task_queue.run()  # the mail server is down: the first attempt fails and a retry is queued
    assert [r.status for r in task_queue.results()] == ["FAILED", "READY"]
    mail_server.start()
    task_queue.make_due()
    task_queue.run()
    [message] = mail_server.inbox.messages
    assert message["To"] == reviewer.email
    assert "/accounts/password-reset/" in message.get_payload()
