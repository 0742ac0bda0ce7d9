"""The three snippets of the Python guide (authorization code, password,
personal access token) run verbatim against authgate, but for their
placeholders, and each token they obtain then reads GET /api/1.0/users/me with
the guide's "Step 4" snippet.

Two faults of the guide are on the client side and no server can mend them (in
the order a user meets them, as the README lists them):
- oauthlib refuses http:// URLs unless OAUTHLIB_INSECURE_TRANSPORT=1; the test
  server speaks plain HTTP, so the test sets it.
- `auth_url, _ = client.prepare_request_uri(...)`: prepare_request_uri returns
  a string, so unpacking it fails; the test drops `, _` (and only that).
The guide's token requests are `requests.post(url, data=a_string)` (no
Content-Type header), and its password example sends client_secret without
client_id: authgate must cope with both (RFC 6749 §4.1.3, §4.3).
"""

from __future__ import annotations

import pytest
import requests

from support import Browser, parse_page, query_params, without_query

INSTANCE = "https://<your-instance>.processmaker.net"

# ---- verbatim from the guide ------------------------------------------------

GUIDE_AUTHORIZATION_CODE = '''\
import requests
from oauthlib.oauth2 import WebApplicationClient

# Initialize the OAuth client
client = WebApplicationClient(client_id='<your-client-id>')

# Generate the authorization URL
auth_url, _ = client.prepare_request_uri(
    'https://<your-instance>.processmaker.net/oauth/authorize',
    redirect_uri='<your-redirect-uri>',
    scope='<your-scope>',
)

print(f'Please go to the following URL and authorize the app: {auth_url}')

# After the user has authorized the app, they will be redirected to the redirect URI
# with a code in the query string. Paste that code here.
code = input('Enter the authorization code: ')

# Exchange the authorization code for an access token
token_url = 'https://<your-instance>.processmaker.net/oauth/token'
token_data = client.prepare_request_body(
    code=code,
    client_id='<your-client-id>',
    client_secret='<your-client-secret>',
    redirect_uri='<your-redirect-uri>',
)

response = requests.post(token_url, data=token_data)
token_info = response.json()

print(f'Access token: {token_info["access_token"]}')
'''

GUIDE_PASSWORD = '''\
import requests
from oauthlib.oauth2 import LegacyApplicationClient

# Initialize the OAuth client
client = LegacyApplicationClient(client_id='<your-client-id>')

# Prepare the request body for the token request
token_url = 'https://<your-instance>.processmaker.net/oauth/token'
token_data = client.prepare_request_body(
    username='<your-username>',
    password='<your-password>',
    client_id='<your-client-id>',
    client_secret='<your-client-secret>',
)

# Request an access token
response = requests.post(token_url, data=token_data)
token_info = response.json()

print(f'Access token: {token_info["access_token"]}')
'''

GUIDE_PERSONAL_ACCESS_TOKEN = '''\
import requests

# Prepare the headers for the request
headers = {
    'Authorization': f'Bearer <your-personal-access-token>',
}

# Make a request to the API
response = requests.get('https://<your-instance>.processmaker.net/api/<your-endpoint>', headers=headers)

print(response.json())

'''

GUIDE_API_REQUEST = '''\
import requests

# Prepare the headers for the request
headers = {
    'Authorization': f'Bearer <your-access-token>',
}

# Make a request to the API
response = requests.get('https://<your-instance>.processmaker.net/api/<your-endpoint>', headers=headers)

print(response.json())

'''

# ------------------------------------------------------------------------------

ENDPOINT = "1.0/users/me"


def fill(snippet: str, values: dict) -> str:
    """Replace placeholders; every placeholder given must occur in the snippet
    and no `<your-...>` placeholder may remain."""
    for placeholder, value in values.items():
        assert placeholder in snippet, f"{placeholder} not in the snippet"
        assert "'" not in value and "\\" not in value and "{" not in value, value
        snippet = snippet.replace(placeholder, value)
    assert "<your-" not in snippet, snippet
    return snippet


def run_snippet(code: str, **injected) -> dict:
    namespace = {"__name__": "guide_snippet", **injected}
    exec(compile(code, "<guide snippet>", "exec"), namespace)
    return namespace


def read_users_me_with_guide(server, token: str) -> requests.Response:
    ns = run_snippet(fill(GUIDE_API_REQUEST, {
        INSTANCE: server.base_url,
        "<your-access-token>": token,
        "<your-endpoint>": ENDPOINT,
    }))
    return ns["response"]


def test_guide_requests_carry_no_content_type():
    """Sanity check of the premise: requests.post(url, data=a_string) sends no Content-Type."""
    prepared = requests.Request("POST", "http://127.0.0.1/oauth/token", data="grant_type=password").prepare()
    assert "Content-Type" not in prepared.headers


# The guide passes client_id= to prepare_request_body(), which oauthlib deprecates.
@pytest.mark.filterwarnings("ignore:`client_id` has been deprecated:DeprecationWarning")
def test_guide_authorization_code_snippet_rfc6749_4_1(server, make_user, make_client, monkeypatch, capsys):
    """RFC 6749 §4.1: the guide's authorization code snippet, the user pasting the
    code shown by authgate's out-of-band page {issuer}/oauth/code."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    user = make_user()
    oob = f"{server.issuer}/oauth/code"
    client = make_client(redirect_uris=[oob], grants=["authorization_code"])

    snippet = fill(GUIDE_AUTHORIZATION_CODE, {
        # Client-side fault of the guide: prepare_request_uri() returns one
        # string, `auth_url, _ = ...` cannot unpack it. Only `, _` is dropped.
        "auth_url, _ = client.prepare_request_uri(": "auth_url = client.prepare_request_uri(",
        INSTANCE: server.base_url,
        "<your-client-id>": client.client_id,
        "<your-client-secret>": client.client_secret,
        "<your-redirect-uri>": oob,
        "<your-scope>": "users:read",
    })

    namespace: dict = {}
    browser = Browser(server)
    pasted = []

    def person_at_keyboard(prompt: str = "") -> str:
        # The person opens the printed URL, signs in, clicks Authorize and
        # copies the code from the page they land on.
        auth_url = namespace["auth_url"]
        assert auth_url.startswith(server.url("/oauth/authorize?"))
        location = browser.authorize(auth_url, user)
        assert without_query(location) == oob
        page = browser.get(location)
        assert page.status_code == 200
        code = parse_page(page.text).by_id.get("authorization-code")
        assert code, f"no <code id=authorization-code> on {location}:\n{page.text[:1000]}"
        assert code == query_params(location)["code"]
        pasted.append(code)
        return code

    namespace.update({"__name__": "guide_snippet", "input": person_at_keyboard})
    exec(compile(snippet, "<guide snippet>", "exec"), namespace)

    assert pasted, "the snippet never asked for the code"
    assert namespace["response"].status_code == 200, namespace["response"].text
    access_token = namespace["token_info"]["access_token"]
    out = capsys.readouterr().out
    assert f"Access token: {access_token}" in out

    me = read_users_me_with_guide(server, access_token)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == user.username


def test_guide_password_snippet_rfc6749_4_3(server, make_user, make_client, monkeypatch, capsys):
    """RFC 6749 §4.3: the guide's password snippet; it sends client_secret
    without client_id and no Content-Type header."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    user = make_user()
    client = make_client(grants=["password"])

    ns = run_snippet(fill(GUIDE_PASSWORD, {
        INSTANCE: server.base_url,
        "<your-client-id>": client.client_id,
        "<your-client-secret>": client.client_secret,
        "<your-username>": user.username,
        "<your-password>": user.password,
    }))
    # the premise: what the guide sends really lacks client_id
    assert "client_id" not in ns["token_data"]
    assert "client_secret=" in ns["token_data"]

    assert ns["response"].status_code == 200, ns["response"].text
    access_token = ns["token_info"]["access_token"]
    assert f"Access token: {access_token}" in capsys.readouterr().out

    me = read_users_me_with_guide(server, access_token)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == user.username


def test_guide_personal_access_token_snippet(server, make_user, capsys):
    """The guide's personal access token snippet with a PAT made by `authgate tokens create`."""
    user = make_user()
    pat = server.create_pat(user.username)

    ns = run_snippet(fill(GUIDE_PERSONAL_ACCESS_TOKEN, {
        INSTANCE: server.base_url,
        "<your-personal-access-token>": pat["token"],
        "<your-endpoint>": ENDPOINT,
    }))
    assert ns["response"].status_code == 200, ns["response"].text
    body = ns["response"].json()
    assert body["username"] == user.username
    assert user.username in capsys.readouterr().out
