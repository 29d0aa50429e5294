"""Failure e-mails (local aiosmtpd server) and webhooks (local HTTP receiver) from real builds."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

pytestmark = pytest.mark.slow  # real processes on an accelerated clock, seconds each


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailBox:
    """An aiosmtpd handler keeping every message received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], object]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    mailbox = MailBox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, mailbox
    controller.stop()


@pytest.fixture
def webhook_receiver():
    received: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's hook name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"content_type": self.headers["Content-Type"], "json": json.loads(body)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def write_config(workdir: Path, smtp_port: int | None = None, webhook_url: str | None = None) -> None:
    lines = []
    if smtp_port is not None:
        lines += ["[email]", 'receiver = "ops@example.com"', 'sender = "trunq@example.com"', 'prefix = "[test]"',
                  "[smtp]", 'host = "127.0.0.1"', f"port = {smtp_port}", "no_tls = true", "timeout = 5"]
    if webhook_url is not None:
        lines += ["[webhook]", f'url = "{webhook_url}"']
    (workdir / "trunq.toml").write_text("\n".join(lines) + "\n")


FAILING_RANGE = ("--module", "my_steps", "RangeDailyBase", "--of", "FailingDaily", "--start", "2024-01-01",
                 "--stop", "2024-01-31", "--local-scheduler")


def test_a_failing_range_sends_one_batched_mail(run_trunq, workdir, smtp_server):
    port, mailbox = smtp_server
    write_config(workdir, smtp_port=port)
    result = run_trunq(*FAILING_RANGE)
    assert result.returncode != 0
    assert len(mailbox.messages) == 1, [m[1]["Subject"] for m in mailbox.messages]
    recipients, message = mailbox.messages[0]
    assert sorted(recipients) == ["ops@example.com", "owner@example.com"]
    assert message["Subject"].startswith("[test] trunq: 30 steps FAILED in 1 families (FailingDaily)")
    body = message.get_content()  # decoded: long lines arrive quoted-printable
    assert "== FailingDaily: 30 failed ==" in body
    assert "... and 10 more" in body  # 20 listed in full
    assert "no input data for 2024-01-01" in body


def test_one_failure_gets_a_mail_naming_the_step(run_trunq, workdir, smtp_server):
    port, mailbox = smtp_server
    write_config(workdir, smtp_port=port)
    result = run_trunq("--module", "my_steps", "FailingDaily", "--date", "2024-02-02", "--local-scheduler")
    assert result.returncode != 0
    [(recipients, message)] = mailbox.messages
    assert "FailingDaily(date=2024-02-02) FAILED" in message["Subject"]


def test_a_successful_build_sends_nothing(run_trunq, workdir, smtp_server, webhook_receiver):
    port, mailbox = smtp_server
    url, received = webhook_receiver
    write_config(workdir, smtp_port=port, webhook_url=url)
    result = run_trunq("--module", "my_steps", "MyStep", "--date", "2024-02-02", "--local-scheduler")
    assert result.returncode == 0, result.stderr
    assert mailbox.messages == [] and received == []


def test_webhook_gets_one_json_post_per_build(run_trunq, workdir, webhook_receiver):
    url, received = webhook_receiver
    write_config(workdir, webhook_url=url)
    result = run_trunq(*FAILING_RANGE)
    assert result.returncode != 0
    [call] = received
    assert call["content_type"] == "application/json"
    payload = call["json"]
    assert payload["event"] == "steps_failed" and payload["count"] == 30
    assert payload["families"] == {"FailingDaily": 30}
    assert payload["failures"][0]["owners"] == ["owner@example.com"]
    assert "no input data" in payload["failures"][0]["explanation"]


def test_unreachable_smtp_server_does_not_change_the_build_result(run_trunq, workdir):
    command = ("--module", "my_steps", "FailingDaily", "--date", "2024-02-02", "--local-scheduler")
    without_mail = run_trunq(*command)
    write_config(workdir, smtp_port=free_port())
    result = run_trunq(*command)
    assert result.returncode == without_mail.returncode != 0
    assert "could not deliver" in result.stderr
    # the step's own traceback is logged (as luigi); the mail failure adds none
    assert result.stderr.count("Traceback") == without_mail.stderr.count("Traceback")


def test_bad_webhook_url_is_a_one_line_config_error(run_trunq, workdir):
    write_config(workdir, webhook_url="ftp://nowhere")
    result = run_trunq("--module", "my_steps", "MyStep", "--date", "2024-02-02", "--local-scheduler")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "trunq: error: [webhook] url must start with http:// or https://, got 'ftp://nowhere'"]
