"""Failure notifications: e-mail over SMTP and a JSON webhook, batched per build.

The build loop calls ``notifier.step_failed(step, expl)`` for each step that failed for good
(after its retries) and ``notifier.flush()`` when the build ends. Nothing is sent before the
flush, so a range with a hundred failing days produces one e-mail per recipient list (failures
grouped by family) and one webhook call, not a hundred.

Configuration::

    [email]
    receiver = "ops@example.com, oncall@example.com"   # plus each failed step's owner_email
    sender = "trunq@example.com"                        # default: trunq@<hostname>
    prefix = "[prod]"                                   # put before the subject
    traceback_max_length = 5000                         # characters of each explanation kept
    max_steps_per_family = 20                           # listed in full; the rest are counted

    [smtp]
    host = "localhost"
    port = 25
    username = ""          # log in when set
    password = ""
    ssl = false            # SMTP over TLS from the start
    no_tls = false         # do not STARTTLS even when the server offers it
    timeout = 10.0

    [webhook]
    url = "https://hooks.example.com/trunq"
    timeout = 10.0

E-mail is on when ``[email]`` or ``[smtp]`` is configured; the webhook when ``[webhook] url``
is. A notification that cannot be delivered is logged and never fails the build.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

from trunq.config import ConfigError

logger = logging.getLogger("trunq")

__all__ = ["Failure", "Notifier", "EmailNotifier", "WebhookNotifier", "CompositeNotifier", "notifier_from_config"]


@dataclass(frozen=True)
class Failure:
    """One step that failed, as reported to a notifier."""

    step_id: str
    family: str
    description: str
    explanation: str
    owners: tuple[str, ...]

    @classmethod
    def from_step(cls, step: Any, expl: str | None) -> Failure:
        return cls(
            step_id=str(getattr(step, "step_id", step)),
            family=str(getattr(step, "step_family", type(step).__name__)),
            description=repr(step),
            explanation=expl or "(no explanation)",
            owners=tuple(split_addresses(getattr(step, "owner_email", None))),
        )


class Notifier(Protocol):
    def step_failed(self, step: Any, expl: str | None) -> None: ...

    def flush(self) -> None: ...


def split_addresses(value: Any) -> list[str]:
    """``"a@x, b@y"`` or ``["a@x", "b@y"]`` -> ``["a@x", "b@y"]``."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


def _group_by_family(failures: list[Failure]) -> dict[str, list[Failure]]:
    groups: dict[str, list[Failure]] = {}
    for failure in failures:
        groups.setdefault(failure.family, []).append(failure)
    return groups


class _Batching:
    """Collects failures until flushed; subclasses deliver the batch."""

    def __init__(self) -> None:
        self.pending: list[Failure] = []

    def step_failed(self, step: Any, expl: str | None) -> None:
        self.pending.append(Failure.from_step(step, expl))

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            self.deliver(batch)
        except Exception as exc:  # a notification must never fail the build
            logger.warning("%s could not deliver %d failure(s): %s", type(self).__name__, len(batch), exc)

    def deliver(self, batch: list[Failure]) -> None:
        raise NotImplementedError


@dataclass
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    username: str | None = None
    password: str | None = None
    ssl: bool = False
    no_tls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Any) -> SmtpSettings:
        return cls(
            host=str(config.get("smtp", "host", "localhost")),
            port=config.getint("smtp", "port", 25) or 25,
            username=config.get("smtp", "username") or None,
            password=config.get("smtp", "password") or None,
            ssl=config.getboolean("smtp", "ssl", False),
            no_tls=config.getboolean("smtp", "no_tls", False),
            timeout=config.getfloat("smtp", "timeout", 10.0) or 10.0,
        )


class EmailNotifier(_Batching):
    """One e-mail per set of recipients per flush, listing the failures grouped by family."""

    def __init__(self, receivers: list[str], sender: str, smtp: SmtpSettings, prefix: str = "",
                 traceback_max_length: int = 5000, max_steps_per_family: int = 20) -> None:
        super().__init__()
        self.receivers = receivers
        self.sender = sender
        self.smtp = smtp
        self.prefix = prefix
        self.traceback_max_length = traceback_max_length
        self.max_steps_per_family = max_steps_per_family

    def deliver(self, batch: list[Failure]) -> None:
        by_recipients: dict[tuple[str, ...], list[Failure]] = {}
        for failure in batch:
            recipients = tuple(sorted(set(self.receivers) | set(failure.owners)))
            if recipients:
                by_recipients.setdefault(recipients, []).append(failure)
        for recipients, failures in by_recipients.items():
            self.send(list(recipients), self.subject(failures), self.body(failures))

    def subject(self, failures: list[Failure]) -> str:
        families = _group_by_family(failures)
        host = socket.gethostname()
        if len(failures) == 1:
            text = f"trunq: {failures[0].description} FAILED. Host: {host}"
        else:
            text = f"trunq: {len(failures)} steps FAILED in {len(families)} families ({', '.join(families)}). Host: {host}"
        return f"{self.prefix} {text}".strip()

    def body(self, failures: list[Failure]) -> str:
        lines = [f"{len(failures)} step(s) failed on {socket.gethostname()}.", ""]
        for family, members in _group_by_family(failures).items():
            lines.append(f"== {family}: {len(members)} failed ==")
            shown = members[:self.max_steps_per_family]
            for failure in shown:
                lines.append(f"- {failure.description}")
            if len(members) > len(shown):
                lines.append(f"- ... and {len(members) - len(shown)} more")
            lines.extend(["", "First error:", self._clip(members[0].explanation), ""])
        return "\n".join(lines)

    def _clip(self, text: str) -> str:
        if len(text) <= self.traceback_max_length:
            return text
        return text[:self.traceback_max_length] + "\n... (truncated)"

    def send(self, recipients: list[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = ", ".join(recipients)
        message.set_content(body)
        settings = self.smtp
        smtp_class = smtplib.SMTP_SSL if settings.ssl else smtplib.SMTP
        with smtp_class(settings.host, settings.port, timeout=settings.timeout) as connection:
            connection.ehlo()
            if not settings.ssl and not settings.no_tls and connection.has_extn("starttls"):
                connection.starttls()
                connection.ehlo()
            if settings.username:
                connection.login(settings.username, settings.password or "")
            connection.send_message(message, from_addr=self.sender, to_addrs=recipients)


class WebhookNotifier(_Batching):
    """One JSON POST per flush: ``{"event": "steps_failed", "count": n, "failures": [...]}``."""

    def __init__(self, url: str, timeout: float = 10.0, max_expl_length: int = 5000) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout
        self.max_expl_length = max_expl_length

    def payload(self, batch: list[Failure]) -> dict[str, Any]:
        return {
            "event": "steps_failed",
            "host": socket.gethostname(),
            "count": len(batch),
            "families": {family: len(members) for family, members in _group_by_family(batch).items()},
            "failures": [
                {"step_id": f.step_id, "family": f.family, "step": f.description,
                 "owners": list(f.owners), "explanation": f.explanation[:self.max_expl_length]}
                for f in batch
            ],
        }

    def deliver(self, batch: list[Failure]) -> None:
        data = json.dumps(self.payload(batch)).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            response.read()


class CompositeNotifier:
    """Hands every failure to several notifiers."""

    def __init__(self, notifiers: list[Notifier]) -> None:
        self.notifiers = notifiers

    def step_failed(self, step: Any, expl: str | None) -> None:
        for notifier in self.notifiers:
            notifier.step_failed(step, expl)

    def flush(self) -> None:
        for notifier in self.notifiers:
            notifier.flush()


def _email_from_config(config: Any) -> EmailNotifier | None:
    if not (config.has_section("email") or config.has_section("smtp")):
        return None
    method = str(config.get("email", "method", "smtp")).lower()
    if method != "smtp":
        raise ConfigError(f"[email] method {method!r} is not supported (only 'smtp')")
    return EmailNotifier(
        receivers=split_addresses(config.get("email", "receiver")),
        sender=str(config.get("email", "sender") or f"trunq@{socket.gethostname()}"),
        smtp=SmtpSettings.from_config(config),
        prefix=str(config.get("email", "prefix", "") or ""),
        traceback_max_length=config.getint("email", "traceback_max_length", 5000) or 5000,
        max_steps_per_family=config.getint("email", "max_steps_per_family", 20) or 20,
    )


def _webhook_from_config(config: Any) -> WebhookNotifier | None:
    url = config.get("webhook", "url")
    if not url:
        return None
    if not str(url).startswith(("http://", "https://")):
        raise ConfigError(f"[webhook] url must start with http:// or https://, got {url!r}")
    return WebhookNotifier(str(url), timeout=config.getfloat("webhook", "timeout", 10.0) or 10.0)


def notifier_from_config(config: Any) -> Notifier | None:
    """The notifier the configuration asks for, or None when no channel is configured."""
    notifiers: list[Notifier] = [n for n in (_email_from_config(config), _webhook_from_config(config)) if n]
    if not notifiers:
        return None
    return notifiers[0] if len(notifiers) == 1 else CompositeNotifier(notifiers)
