"""A sign-in through an upstream provider that goes on to the second step keeps ``fed`` and the upstream's methods
in ``amr`` (issue 18, item 5; RFC 8176 §2, OpenID Connect Core 1.0 §2 ``amr``).

The upstream is the loopback OpenID Provider of ``support/oidc_stub.py``, reporting ``amr: ["pwd"]`` (no ``mfa``),
so the second-factor policy sends the person on: first to enrolment (a TOTP app set up on the page), and at the
next sign-in to the second step with a code. Each time the ID token a downstream client gets says ``fed``, the
upstream's ``pwd`` and the local ``otp`` and ``mfa``; before, the second step replaced them with ``pwd otp mfa``."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode, urlsplit

import pyotp
import pytest

from support import Browser, authorization_params, exchange_code, jwt_parts, parse_page, query_params, unique

ENROL = "/login/enrol"
SECOND_STEP = "/login/second-step"


@pytest.fixture(scope="module")
def srv(server_factory):
    """Its own server: the second-factor policy is server-wide and changed here."""
    return server_factory()


@pytest.fixture
def everyone_has_a_second_factor(srv):
    srv.commands.run_json("policy", "second-factor", "--require", "everyone")
    yield
    srv.commands.run_json("policy", "second-factor", "--require", "off")


@pytest.fixture
def upstream(stub):
    stub.claims = {"sub": unique("sub"), "email": unique("up") + "@upstream.example", "email_verified": True,
                   "amr": ["pwd"]}
    yield stub
    stub.claims = {}


def csrf(page, action: str) -> dict:
    [form] = [f for f in parse_page(page.text).forms if f.method == "post" and f.action == action]
    return {"csrf_token": form.input("csrf_token")["value"]}


def through_provider(browser: Browser, name: str, params: dict):
    """The client's authorization request, signed out: the sign-in page's button, the upstream, the callback."""
    to_login = browser.open_authorize(params)
    assert to_login.status_code == 303 and urlsplit(to_login.headers["Location"]).path == "/login"
    login = browser.get(to_login.headers["Location"])
    form = browser.single_form(login)
    to_upstream = browser.post(f"/login/federated/{name}", data=form.fields())
    assert to_upstream.status_code == 303, to_upstream.text[:500]
    back = browser.get(to_upstream.headers["Location"])
    return browser.get(back.headers["Location"])


def id_token_amr(srv, client, browser: Browser, params: dict) -> list[str]:
    location = browser.authorize(params, None)
    tokens = exchange_code(srv, client, query_params(location)["code"])
    assert tokens.status_code == 200, tokens.text
    return jwt_parts(tokens.json()["id_token"])[1]["amr"]


def test_fed_and_the_upstreams_amr_survive_enrolment_and_the_second_step(srv, upstream, redirect_uri,
                                                                        everyone_has_a_second_factor):
    name = unique("idp")
    srv.commands.run_json("providers", "add", "--kind", "oidc", "--name", name, "--issuer", upstream.issuer,
                          "--client-id", "downstream-at-stub", "--client-secret-stdin", "--allow-private-network",
                          "--jit", input="stub-secret\n")
    client = srv.create_client(redirect_uris=[redirect_uri], grants=["authorization_code"])
    params = authorization_params(client, scope="openid")
    next_path = "/oauth/authorize?" + urlencode(params)

    first = Browser(srv)
    answer = through_provider(first, name, params)
    assert answer.status_code == 303 and urlsplit(answer.headers["Location"]).path == ENROL, answer.text[:500]
    page = first.get(ENROL + "?" + urlencode({"next": next_path}))
    totp = pyotp.TOTP(re.search(r'id="totp-secret" type="text" value="([A-Z2-7]+)"', page.text).group(1))
    done = first.post(ENROL, data={**csrf(page, ENROL), "code": totp.now(), "next": next_path})
    assert done.status_code == 303, done.text[:500]
    amr = id_token_amr(srv, client, first, params)
    assert amr[0] == "fed" and {"pwd", "otp", "mfa"} <= set(amr), amr

    again = Browser(srv)
    params = authorization_params(client, scope="openid")
    next_path = "/oauth/authorize?" + urlencode(params)
    answer = through_provider(again, name, params)
    assert answer.status_code == 303 and urlsplit(answer.headers["Location"]).path == SECOND_STEP, answer.text[:500]
    page = again.get(SECOND_STEP + "?" + urlencode({"next": next_path}))
    assert page.status_code == 200, page.text[:300]
    code = totp.at(time.time() + 30)  # the next step: later than the one enrolment used
    done = again.post(SECOND_STEP, data={**csrf(page, SECOND_STEP), "code": code, "next": next_path})
    assert done.status_code == 303, done.text[:500]
    amr = id_token_amr(srv, client, again, params)
    assert amr[0] == "fed" and {"pwd", "otp", "mfa"} <= set(amr), amr
