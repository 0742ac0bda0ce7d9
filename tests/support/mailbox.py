"""A real SMTP server on loopback (aiosmtpd), started by a test module, that keeps every message it is sent."""

from __future__ import annotations

import datetime
import email
import email.policy
import ipaddress
import re
import ssl
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from support.server import free_port

LINK = re.compile(r"https?://\S+?\?token=[A-Za-z0-9_\-]+")


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA) and its key, as PEM files in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Mailbox:
    """``tls``: None (plain SMTP), "starttls" (STARTTLS required) or "implicit" (TLS from the first byte), with a
    certificate made in ``directory``; ``login``: (user, password) the server requires."""

    def __init__(self, tls: str | None = None, directory: Path | None = None, login: tuple[str, str] | None = None):
        self.port = free_port()
        self.tls = tls
        self.login = login
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()
        options: dict = {}
        if tls:
            self.cafile, key = self_signed_certificate(directory)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.cafile, key)
            # aiosmtpd knows TLS for AUTH only from STARTTLS: on an implicit-TLS port the whole connection is TLS
            options = ({"tls_context": context, "require_starttls": True} if tls == "starttls"
                       else {"ssl_context": context, "auth_require_tls": False})
        if login:
            options.update(authenticator=self._authenticate, auth_required=True)
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode())
        return AuthResult(success=given == self.login)

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        credentials = f"{quote(self.login[0], safe='')}:{quote(self.login[1], safe='')}@" if self.login else ""
        query = []
        if self.tls == "starttls":
            query.append("starttls=1")
        if self.tls:
            query.append(f"cafile={quote(str(self.cafile))}")
        return f"{scheme}://{credentials}127.0.0.1:{self.port}" + ("?" + "&".join(query) if query else "")

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
