"""The Python client reads the server's metadata (RFC 8414 §3) and uses the endpoints it names,
refusing a document for another issuer (§3.3); without metadata it uses authgate's default paths."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from authgate_client import Client, ConfigurationError
from authgate_client.metadata import DEFAULT_PATHS
from client_support import metadata


def test_endpoints_from_metadata_rfc8414_3(server, tmp_path):
    document = metadata(server)
    assert document is not None, "the server publishes no /.well-known/oauth-authorization-server"
    client = Client(server.issuer, "any", store="memory")
    assert client.metadata.discovered
    for name in ("authorization_endpoint", "token_endpoint"):
        assert client.metadata.endpoint(name) == document[name]


def test_metadata_of_another_issuer_is_refused_rfc8414_3_3(server):
    other_spelling = server.issuer.replace("127.0.0.1", "localhost")
    with pytest.raises(ConfigurationError, match="RFC 8414"):
        Client(other_spelling, "any", store="memory").metadata


class _NoMetadata(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def issuer_without_metadata():
    """A loopback server that answers 404 to everything, as an older deployment would."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _NoMetadata)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_default_paths_without_metadata(issuer_without_metadata):
    client = Client(issuer_without_metadata + "/", "any", store="memory")
    assert not client.metadata.discovered
    for name, path in DEFAULT_PATHS.items():
        assert client.metadata.endpoint(name) == issuer_without_metadata + path
