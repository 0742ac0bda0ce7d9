"""Email: letters rendered from templates (a subject, plain text and HTML) and sent with smtplib, after the
transaction that wrote them commits, on a thread of their own.

A service ``queue``s a letter on its session; a rollback drops it, a commit hands it to the sending thread, so
the request never waits for the mail server and a letter is never sent for something that did not happen. A
letter that cannot be sent is logged with its kind and user id, never its link or contents. The templates are
``src/authgate/mail_templates/<kind>.subject.txt``, ``.txt`` and ``.html``; a file of the same name in
``AUTHGATE_MAIL_TEMPLATES`` replaces one.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from sqlalchemy.orm import Session

from authgate.settings import MailSettings

log = logging.getLogger("authgate.mail")

OUTBOX = "authgate_outbox"
DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "mail_templates"


@dataclass(frozen=True)
class Letter:
    kind: str
    """The template's name: ``password_reset``, ``verify_email``, ``invitation``."""
    to: str
    user_id: int
    context: dict = field(repr=False)


def duration(seconds: int) -> str:
    """``1800`` -> "30 minutes", ``86400`` -> "1 day": how long a link works, as a person says it."""
    def count(n: int, unit: str) -> str:
        return f"{n} {unit}{'' if n == 1 else 's'}"
    for unit, size in (("day", 86400), ("hour", 3600)):
        if seconds >= size and seconds % size == 0:
            return count(seconds // size, unit)
    return count(seconds // 60, "minute") if seconds >= 60 else count(seconds, "second")


class Mailer:
    def __init__(self, settings: MailSettings, db, site: str):
        self.settings = settings
        self.site = site
        self._environment = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="authgate-mail")
        self._lock = threading.Lock()
        self._pending: set[Future] = set()
        db.listen("after_commit", self._committed)
        db.listen("after_rollback", lambda s: s.info.pop(OUTBOX, None))

    @property
    def configured(self) -> bool:
        """Whether an SMTP server is set (``AUTHGATE_SMTP_URL``)."""
        return self.settings.smtp is not None

    def queue(self, s: Session, letter: Letter) -> None:
        """Send ``letter`` once ``s`` commits (nothing when no SMTP server is set)."""
        if self.configured:
            s.info.setdefault(OUTBOX, []).append(letter)

    @property
    def _templates(self):
        """The templates (the operator's first, then authgate's), loaded at the first letter: a command that
        sends none does not import Jinja."""
        if self._environment is None:
            from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

            loaders = [FileSystemLoader(self.settings.templates)] if self.settings.templates else []
            self._environment = Environment(loader=ChoiceLoader([*loaders, FileSystemLoader(DEFAULT_TEMPLATES)]),
                                            autoescape=select_autoescape(["html"]), undefined=StrictUndefined)
        return self._environment

    def compose(self, letter: Letter) -> EmailMessage:
        context = {"site": self.site, **letter.context}
        render = lambda suffix: self._templates.get_template(f"{letter.kind}.{suffix}").render(**context)  # noqa: E731
        message = EmailMessage()
        message["Subject"] = " ".join(render("subject.txt").split())
        message["From"] = self.settings.sender
        message["To"] = letter.to
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2].strip("> ") or None)
        message.set_content(render("txt"))
        message.add_alternative(render("html"), subtype="html")
        return message

    def wait(self, timeout: float = 30) -> None:
        """Until the letters handed to the sending thread are sent or given up (a command line, before exit)."""
        with self._lock:
            pending = set(self._pending)
        if pending:
            wait(pending, timeout=timeout)

    def _committed(self, s: Session) -> None:
        letters = s.info.pop(OUTBOX, None)
        if not letters:
            return
        future = self._pool.submit(self._deliver, letters)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def _deliver(self, letters: list[Letter]) -> None:
        for letter in letters:
            try:
                self._send(self.compose(letter))
            except Exception as error:  # logged, never raised: the person's request has long been answered
                log.warning("%s mail for user %s not sent (%s)", letter.kind, letter.user_id, type(error).__name__)
            else:
                log.info("%s mail for user %s sent", letter.kind, letter.user_id)

    def _send(self, message: EmailMessage) -> None:
        smtp = self.settings.smtp
        context = ssl.create_default_context()
        if smtp.cafile:
            context.load_verify_locations(cafile=smtp.cafile)
        if smtp.implicit_tls:
            connection = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with connection:
            if smtp.starttls:
                connection.starttls(context=context)
            if smtp.username:
                connection.login(smtp.username, smtp.password or "")
            connection.send_message(message)
