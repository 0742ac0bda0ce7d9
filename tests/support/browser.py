"""A small browser that signs in and answers the consent page exactly as a person would."""

from __future__ import annotations

from urllib.parse import urlencode, urljoin, urlsplit

import requests

from support.pages import Form, parse_page
from support.server import HTTP_TIMEOUT, ServerProcess
from support.values import User


class Browser:
    """A person with a web browser (a requests.Session that keeps cookies and
    never follows redirects on its own)."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.session = requests.Session()
        self.user: User | None = None
        """Whom ``login`` signed in."""

    def get(self, url: str, **kw) -> requests.Response:
        return self.session.get(urljoin(self.server.base_url + "/", url), allow_redirects=False,
                                timeout=HTTP_TIMEOUT, **kw)

    def post(self, url: str, data=None, **kw) -> requests.Response:
        return self.session.post(urljoin(self.server.base_url + "/", url), data=data,
                                 allow_redirects=False, timeout=HTTP_TIMEOUT, **kw)

    @staticmethod
    def single_form(resp: requests.Response, method: str = "post") -> Form:
        page = parse_page(resp.text)
        forms = [f for f in page.forms if f.method == method]
        assert len(forms) == 1, f"expected one {method} form on {resp.url}, found {len(forms)}:\n{resp.text[:2000]}"
        return forms[0]

    def login_page(self, next_path: str | None = None) -> tuple[requests.Response, Form]:
        url = "/login" + ("?" + urlencode({"next": next_path}) if next_path is not None else "")
        r = self.get(url)
        assert r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:300]}"
        return r, self.single_form(r)

    def submit_login(self, login_response: requests.Response, form: Form, username: str,
                     password: str) -> requests.Response:
        data = form.fields()
        data["username"] = username
        data["password"] = password
        action = urljoin(login_response.url, form.action or login_response.url)
        return self.session.post(action, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def login(self, user: User, next_path: str = "/") -> requests.Response:
        r, form = self.login_page(next_path)
        resp = self.submit_login(r, form, user.username, user.password)
        assert resp.status_code == 303, f"login failed: {resp.status_code} {resp.text[:500]}"
        self.user = user
        return resp

    def open_authorize(self, params_or_url) -> requests.Response:
        url = params_or_url if isinstance(params_or_url, str) else "/oauth/authorize?" + urlencode(params_or_url)
        return self.get(url)

    def consent_page(self, params_or_url, user: User | None, remembered_ok: bool = False) -> requests.Response:
        """Open the authorization URL; sign in on the way if asked to; return
        the consent page (asserting it is one), or with ``remembered_ok`` the
        redirect of a remembered consent."""
        r = self.open_authorize(params_or_url)
        if r.status_code == 303 and urlsplit(r.headers["Location"]).path == "/login":
            assert user is not None, "not signed in and no user given"
            login = self.get(r.headers["Location"])
            assert login.status_code == 200, f"login page: {login.status_code}"
            resp = self.submit_login(login, self.single_form(login), user.username, user.password)
            assert resp.status_code == 303, f"login failed: {resp.status_code} {resp.text[:500]}"
            r = self.get(resp.headers["Location"])
        if remembered_ok and r.status_code == 302:
            return r
        assert r.status_code == 200, (
            f"expected the consent page, got {r.status_code} Location={r.headers.get('Location')} {r.text[:500]}"
        )
        return r

    def decide(self, consent: requests.Response, decision: str = "approve") -> requests.Response:
        form = self.single_form(consent)
        data = form.fields()
        data["decision"] = decision
        action = urljoin(consent.url, form.action or consent.url)
        return self.session.post(action, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def authorize(self, params_or_url, user: User | None, decision: str = "approve") -> str:
        """Full browser leg: authorize URL -> (login) -> consent -> decision.
        Returns the Location the browser is sent to."""
        consent = self.consent_page(params_or_url, user, remembered_ok=decision == "approve")
        r = consent if consent.status_code == 302 else self.decide(consent, decision)
        assert r.status_code == 302, f"consent POST: {r.status_code} {r.text[:500]}"
        return r.headers["Location"]
