"""The Python client reads the server's metadata (RFC 8414 §3) and uses the endpoints it names,
refusing a document for another issuer (§3.3); without metadata it uses authgate's default paths."""

from __future__ import annotations

import pytest

from authgate_client import Client, ConfigurationError
from authgate_client.metadata import DEFAULT_PATHS
from client_support import metadata


def test_endpoints_from_metadata_rfc8414_3(server, tmp_path):
    document = metadata(server)
    if document is None:
        pytest.skip("the server publishes no /.well-known/oauth-authorization-server yet")
    client = Client(server.issuer, "any", store="memory")
    assert client.metadata.discovered
    for name in ("authorization_endpoint", "token_endpoint"):
        assert client.metadata.endpoint(name) == document[name]


def test_metadata_of_another_issuer_is_refused_rfc8414_3_3(server):
    if metadata(server) is None:
        pytest.skip("the server publishes no /.well-known/oauth-authorization-server yet")
    other_spelling = server.issuer.replace("127.0.0.1", "localhost")
    with pytest.raises(ConfigurationError, match="RFC 8414"):
        Client(other_spelling, "any", store="memory").metadata


def test_default_paths_without_metadata(server):
    if metadata(server) is not None:
        pytest.skip("the server publishes metadata: the fallback is not used")
    client = Client(server.issuer + "/", "any", store="memory")
    assert not client.metadata.discovered
    for name, path in DEFAULT_PATHS.items():
        assert client.metadata.endpoint(name) == server.issuer + path
