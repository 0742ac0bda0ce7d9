"""A framework-neutral OAuth request: what an HTTP adapter hands to the protocol core."""

from __future__ import annotations

from collections import defaultdict

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from sqlalchemy.orm import Session

REPEATABLE = frozenset({"resource"})


class ParamsPayload(OAuth2Payload):
    """Parameters as (name, value) pairs, keeping repeats so that they can be refused (RFC 6749 §3.1)."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self) -> dict:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist

    def repeated(self) -> list[str]:
        """The parameters sent more than once, but for those that may be (``resource``, RFC 8707 §2)."""
        return [name for name, values in self._datalist.items() if len(values) > 1 and name not in REPEATABLE]


class OAuthRequest(OAuth2Request):
    """An OAuth request bound to the database session of the transaction it runs in (None until one opens)."""

    def __init__(
        self,
        db: Session | None,
        method: str,
        uri: str,
        headers,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
        params_from: str,
        client_ip: str | None = None,
    ):
        super().__init__(method=method, uri=uri, headers=headers)
        self.db = db
        self.client_ip = client_ip
        self.query_pairs = list(query)
        self.form_pairs = list(form)
        self._args = ParamsPayload(query)
        self._form = ParamsPayload(form)
        self.payload = self._args if params_from == "query" else self._form
        self.dpop_jkt: str | None = None
        self.dpop_alg: str | None = None
        """The key of the request's checked DPoP proof (RFC 9449): what the tokens it gets are bound to."""

    @property
    def args(self) -> dict:
        return self._args.data

    @property
    def form(self) -> dict:
        return self._form.data
