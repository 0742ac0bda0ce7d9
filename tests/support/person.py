"""A person at a browser without JavaScript, across several servers (an upstream provider and authgate): cookies
per host, no redirect followed on its own, forms submitted as the page has them."""

from __future__ import annotations

from urllib.parse import urljoin

import requests

from support.pages import parse_page
from support.server import HTTP_TIMEOUT


class Person:
    """A browser: cookies per host, no redirect followed on its own, forms submitted as the page has them."""

    def __init__(self):
        self.http = requests.Session()

    def get(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def post(self, url: str, data: dict) -> requests.Response:
        return self.http.post(url, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)

    def follow(self, response: requests.Response) -> requests.Response:
        assert response.status_code in (302, 303), f"{response.status_code} {response.text[:500]}"
        return self.get(urljoin(response.url, response.headers["Location"]))

    @staticmethod
    def form(page: requests.Response):
        forms = [f for f in parse_page(page.text).forms if f.method == "post"]
        assert len(forms) == 1, page.text[:2000]
        return forms[0]

    def press(self, page: requests.Response, button_text: str, **values) -> requests.Response:
        """Submit the page's form with the button labelled ``button_text`` (its formaction, if it has one)."""
        form = self.form(page)
        [button] = [b for b in form.buttons if b["text"].strip() == button_text]
        action = button.get("formaction") or form.action or page.url
        data = {**form.fields(), **values}
        if button.get("name"):
            data[button["name"]] = button.get("value", "")
        return self.post(urljoin(page.url, action), data)

    def sign_in_upstream(self, login_page: requests.Response, user) -> requests.Response:
        """The upstream's sign-in page and its consent page, as its user answers them: the redirect back."""
        answer = self.follow(self.press(login_page, "Sign in", username=user.username, password=user.password))
        if answer.status_code == 200:  # the consent page
            answer = self.press(answer, "Authorize")
        return answer
