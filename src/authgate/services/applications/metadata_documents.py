"""Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document, used by MCP): a client whose
``client_id`` is an https URL with a path is described by the JSON document at that URL, fetched by the
safe fetcher (``services/operations/safe_fetch.py``: https only, public addresses, no redirects, size and
time caps, HTTP caching, failures remembered).

The document's ``client_id`` must be the URL exactly; its ``redirect_uris`` are matched exactly; it is a
public client (``token_endpoint_auth_method`` ``none``) or one with keys (``private_key_jwt`` with its
``jwks_uri``/``jwks``); it may use the code grant (and refresh tokens) only, and gets the scopes of a
dynamically registered client (``AUTHGATE_REGISTRATION_SCOPES``/``..._DEFAULT_SCOPES``). Operators turn it
on (``AUTHGATE_CIMD=on``) and may allow or deny domains (a domain covers its subdomains).

Tokens, codes and consents need a client row, so the document is kept as one (``metadata_document_at``
set): made on first use, rewritten when a fresh fetch says something else, read as any other client. A rewrite
that changes its redirect URIs, name or displayed URLs forgets the users' consents to it (``consents``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from authgate.services.applications import client_keys
from authgate.services.applications.clients import ClientService, check_redirect_uri
from authgate.services.credentials.consents import ConsentService, identity
from authgate.services.errors import Invalid
from authgate.services.operations import audit
from authgate.services.operations.safe_fetch import FetchRefused, SafeFetcher
from authgate.storage.models import Client
from authgate.storage.types import utcnow

MAX_URL = 512
GRANTS = ("authorization_code", "refresh_token")
METHODS = ("none", client_keys.PRIVATE_KEY_JWT)


class DocumentRefused(Exception):
    """The ``client_id`` URL names no acceptable client; the message says why."""


def looks_like_document_url(client_id: str | None) -> bool:
    """An http(s) URL with a path: what this server reads as a Client ID Metadata Document's address."""
    if not client_id or "://" not in client_id:
        return False
    try:
        parts = urlsplit(client_id)
    except ValueError:
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname) and parts.path not in ("", "/")


def _within(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


class MetadataDocuments:
    def __init__(self, settings, fetcher: SafeFetcher, clients: ClientService, consents: ConsentService):
        self.settings = settings
        self.fetcher = fetcher
        self.clients = clients
        self.consents = consents

    @property
    def enabled(self) -> bool:
        return self.settings.cimd

    def applies(self, client_id: str | None) -> bool:
        return self.enabled and looks_like_document_url(client_id)

    def resolve(self, s: Session, url: str) -> None:
        """Make the client row match the document at ``url`` (fetched, or from the cache); ``DocumentRefused``."""
        self._check_url(url)
        try:
            document = self.fetcher.json(url)
        except FetchRefused as refused:
            raise DocumentRefused(str(refused)) from None
        values = self._read(url, document)
        row = self.clients.get(s, url)
        if row is not None and row.metadata_document_at is None:
            raise DocumentRefused("that client_id belongs to a client registered here, not to a metadata document")
        if row is None:
            row = Client(client_id=url, public=values["public"], registered_at=utcnow(), metadata_document_at=utcnow())
            self._apply(row, values)
            self.clients.store.add(s, row)
            audit.record(s, "client.metadata_document", client_id=url, subject=url, details={"name": row.name})
        elif self._differs(row, values):
            before = identity(row)
            self._apply(row, values)
            row.metadata_document_at = utcnow()
            s.flush()
            self.consents.client_changed(s, row, before)

    def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if len(url) > MAX_URL:
            raise DocumentRefused(f"a client_id URL may have at most {MAX_URL} characters")
        if parts.fragment or parts.username or parts.password or "#" in url:
            raise DocumentRefused("a client_id URL must have no fragment and no credentials")
        if any(seg in (".", "..") for seg in parts.path.split("/")):
            raise DocumentRefused("a client_id URL must have no dot segments")
        host = (parts.hostname or "").lower()
        if _within(host, self.settings.cimd_deny_domains):
            raise DocumentRefused(f"clients from {host} are not accepted here")
        if self.settings.cimd_allow_domains and not _within(host, self.settings.cimd_allow_domains):
            raise DocumentRefused(f"clients from {host} are not accepted here (not an allowed domain)")

    def _read(self, url: str, document: dict) -> dict:
        if document.get("client_id") != url:
            raise DocumentRefused("the document's client_id is not exactly its URL")
        if "client_secret" in document or "client_secret_expires_at" in document:
            raise DocumentRefused("a metadata document must not hold a client secret")
        uris = document.get("redirect_uris")
        if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris) or len(uris) > 20:
            raise DocumentRefused("the document must list 1 to 20 redirect_uris")
        method = document.get("token_endpoint_auth_method", "none")
        if method not in METHODS:
            raise DocumentRefused(f"token_endpoint_auth_method must be one of {', '.join(METHODS)}")
        grants = document.get("grant_types", ["authorization_code"])
        if not isinstance(grants, list) or not set(grants) <= set(GRANTS) or "authorization_code" not in grants:
            raise DocumentRefused("grant_types may only be authorization_code and refresh_token")
        name = document.get("client_name")
        name = name.strip()[:255] if isinstance(name, str) and name.strip() else urlsplit(url).hostname
        asked = document.get("scope")
        asked = asked.split() if isinstance(asked, str) else []
        refused = [n for n in asked if n not in self.settings.registration_scopes]
        if refused:
            raise DocumentRefused(f"scope not offered to such clients: {' '.join(refused)}")
        try:
            for uri in uris:
                check_redirect_uri(uri)
            auth_method, jwks, jwks_uri = client_keys.checked(
                None if method == "none" else method, document.get("jwks"), document.get("jwks_uri"), method == "none")
        except Invalid as error:
            raise DocumentRefused(str(error)) from None
        shown = {k: document[k] for k in ("client_uri", "logo_uri", "tos_uri", "policy_uri")
                 if isinstance(document.get(k), str) and len(document[k]) <= 2000}
        return {"name": name, "redirect_uris": list(dict.fromkeys(uris)), "public": method == "none",
                "grants": ["authorization_code", "refresh_token"], "auth_method": auth_method, "jwks": jwks,
                "jwks_uri": jwks_uri, "scopes": asked or list(self.settings.registration_default_scopes),
                "metadata": shown}

    @staticmethod
    def _differs(row: Client, values: dict) -> bool:
        return (row.name, list(row.redirect_uris), bool(row.public), row.auth_method, row.jwks, row.jwks_uri,
                list(row.scopes), row.registration_metadata or {}) != (
            values["name"], values["redirect_uris"], values["public"], values["auth_method"], values["jwks"],
            values["jwks_uri"], values["scopes"], values["metadata"])

    @staticmethod
    def _apply(row: Client, values: dict) -> None:
        row.name, row.redirect_uris, row.public = values["name"], values["redirect_uris"], values["public"]
        row.grants, row.scopes = values["grants"], values["scopes"]
        row.auth_method, row.jwks, row.jwks_uri = values["auth_method"], values["jwks"], values["jwks_uri"]
        row.registration_metadata = values["metadata"]
