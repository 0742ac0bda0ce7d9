"""The safe fetcher (``services/operations/safe_fetch.py``) every client-named URL goes through (a
``jwks_uri``, a Client ID Metadata Document), driven directly against a real HTTP server on loopback, with
the name resolution given by the test so that a name can resolve to any address: addresses are checked
after resolution (RFC 6890 special-purpose ranges refused), the connection goes to the checked address,
caching follows RFC 9111 §5.2.2.1 ``max-age`` within bounds, failures are remembered."""

from __future__ import annotations

import socket

import pytest

from authgate import settings
from authgate.services.operations import safe_fetch
from authgate.services.operations.safe_fetch import FetchRefused, SafeFetcher, cache_seconds
from support import unique
from support.documents import DocumentServer
from support.tls import TestAuthority


def resolving_to(*addresses: str):
    def resolve(host, port, type=socket.SOCK_STREAM):
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, type, 6, "", (a, port)) for a in addresses]
    return resolve


@pytest.mark.parametrize("addresses", [
    ("127.0.0.1",), ("10.1.2.3",), ("192.168.0.10",), ("169.254.169.254",), ("::1",), ("::ffff:127.0.0.1",),
    ("fe80::1",), ("224.0.0.1",), ("100.64.0.1",), ("93.184.215.14", "10.0.0.1"),
    ("64:ff9b::a00:1",), ("64:ff9b::7f00:1",), ("2002:a9fe:a9fe::1",), ("::7f00:1",), ("fec0::1",),
])
def test_a_name_resolving_to_any_non_public_address_is_refused(addresses):
    """Checked after resolution, every address: one private answer among public ones is enough to refuse. An IPv6
    address that carries a private IPv4 one (NAT64 64:ff9b::/96 of RFC 6052, 6to4 2002::/16 of RFC 3056, the
    IPv4-compatible ::/96) or is site-local (fec0::/10, RFC 3879) is refused too, though Python calls it global."""
    fetcher = SafeFetcher(resolve=resolving_to(*addresses))
    with pytest.raises(FetchRefused, match="non-public address"):
        fetcher.json("https://looks-public.example/client.json")


def test_plain_http_and_credentials_are_refused():
    fetcher = SafeFetcher(resolve=resolving_to("93.184.215.14"))
    for url in ("http://looks-public.example/x.json", "https://user:pw@looks-public.example/x.json", "ftp://a/b"):
        with pytest.raises(FetchRefused):
            fetcher.json(url)


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(documents):
    """Pinning against DNS rebinding: the resolver is asked once, the server sees the URL's name as Host."""
    asked = []

    def resolve(host, port, type=socket.SOCK_STREAM):
        asked.append(host)
        return resolving_to("127.0.0.1")(host, port, type)

    path = f"/{unique('doc')}.json"
    documents.publish(path, {"ok": True})
    fetcher = SafeFetcher(allow_private=True, resolve=resolve)
    port = documents.httpd.server_port
    assert fetcher.json(f"http://localhost:{port}{path}") == {"ok": True}
    assert asked == ["localhost"] and documents.hosts[-1] == f"localhost:{port}"


def test_answers_are_cached_failures_remembered_and_asked_again_when_newer_is_needed(documents):
    """One fetch per lifetime; ``newer_than`` (a key set lacking a key) fetches again."""
    fetcher = SafeFetcher(allow_private=True)
    good, bad = f"/{unique('doc')}.json", f"/{unique('missing')}.json"
    documents.publish(good, {"keys": []}, headers={"Cache-Control": "public, max-age=3600"})
    for _ in range(3):
        fetcher.json(documents.url(good))
        with pytest.raises(FetchRefused, match="HTTP 404"):
            fetcher.json(documents.url(bad))
    assert documents.hits[good] == 1 and documents.hits[bad] == 1
    fetcher.json(documents.url(good), newer_than=0)
    assert documents.hits[good] == 2


def test_oversized_and_non_json_answers_are_refused(documents):
    fetcher = SafeFetcher(allow_private=True)
    big, text = f"/{unique('big')}.json", f"/{unique('text')}.json"
    documents.publish(big, b"[" + b"1," * 40_000 + b"1]")
    documents.publish(text, b"<html>")
    with pytest.raises(FetchRefused, match="larger than"):
        fetcher.json(documents.url(big))
    with pytest.raises(FetchRefused, match="not JSON"):
        fetcher.json(documents.url(text))


def test_cache_lifetime_is_max_age_within_bounds():
    """RFC 9111 §5.2.2.1 max-age, §5.2.2.5 no-store: kept within MIN_SECONDS..MAX_SECONDS."""
    assert cache_seconds("max-age=600") == 600
    assert cache_seconds("public, max-age=5") == safe_fetch.MIN_SECONDS
    assert cache_seconds("max-age=99999999") == safe_fetch.MAX_SECONDS
    assert cache_seconds("no-store") == safe_fetch.MIN_SECONDS
    assert cache_seconds(None) == safe_fetch.DEFAULT_SECONDS


@pytest.fixture(scope="module")
def https_documents(tmp_path_factory):
    """Documents over https (RFC 9110 §4.3.3, the certificate checked as RFC 6125 says), its certificate signed
    by a CA the test made: trusted by no one but a fetcher given its file."""
    authority = TestAuthority(tmp_path_factory.mktemp("ca"))
    published = DocumentServer(tls=authority.server_context())
    yield authority, published
    published.close()


def test_https_with_a_private_ca_is_fetched_only_when_that_ca_file_is_trusted(https_documents, tmp_path):
    """``AUTHGATE_FETCH_CA_FILE``: the safe fetcher trusts that bundle besides the default authorities; without
    it the same document is refused, as the certificate's issuer is unknown, and so it is with another CA."""
    authority, published = https_documents
    path = f"/{unique('doc')}/client.json"
    url = published.publish(path, {"ok": True})
    assert url.startswith("https://127.0.0.1:")
    with pytest.raises(FetchRefused, match="could not be fetched"):
        SafeFetcher(allow_private=True).json(url)
    other = TestAuthority(tmp_path, name="another CA")
    with pytest.raises(FetchRefused, match="could not be fetched"):
        SafeFetcher(allow_private=True, ca_file=str(other.ca_file)).json(url)
    assert SafeFetcher(allow_private=True, ca_file=str(authority.ca_file)).json(url) == {"ok": True}
    assert published.hits[path] == 1, "the refused handshakes never reached the document"


def test_a_fetch_ca_file_that_is_missing_or_not_pem_stops_the_settings(monkeypatch, tmp_path):
    """A wrong ``AUTHGATE_FETCH_CA_FILE`` is said at start, not at the first client's fetch."""
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    for value, words in ((str(tmp_path / "missing.pem"), "is not a file"), (str(not_pem), "no PEM certificate")):
        monkeypatch.setenv("AUTHGATE_FETCH_CA_FILE", value)
        with pytest.raises(settings.SettingsError, match=words):
            settings.load()
