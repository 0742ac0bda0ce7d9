"""A real SMTP server on loopback (aiosmtpd), started by a test module, that keeps every message it is sent."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from support.server import free_port

LINK = re.compile(r"https?://\S+?\?token=[A-Za-z0-9_\-]+")


class Mailbox:
    def __init__(self):
        self.port = free_port()
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "Mailbox":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd's hook
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        with self._lock:
            self._messages.append(message)
        return "250 OK"

    def to(self, address: str, subject: str | None = None) -> list[EmailMessage]:
        """The messages to ``address`` so far (with this subject, when given)."""
        with self._lock:
            return [m for m in self._messages if m["To"] == address and subject in (None, m["Subject"])]

    def wait_for(self, address: str, subject: str | None = None, count: int = 1,
                 timeout: float = 20.0) -> list[EmailMessage]:
        """The messages to ``address`` (with this subject), once at least ``count`` have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address, subject)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"not {count} mail(s) {subject!r} to {address} within {timeout}s "
                             f"(got {len(self.to(address, subject))})")


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain text and HTML bodies of a multipart/alternative message."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None, message.get_content_type()
    return plain.get_content(), html.get_content()


def link_in(message: EmailMessage) -> str:
    """The link in the plain-text part (the HTML part carries the same one)."""
    plain, html = parts(message)
    found = LINK.findall(plain)
    assert len(found) == 1, plain
    assert found[0] in html.replace("&amp;", "&")
    return found[0]
