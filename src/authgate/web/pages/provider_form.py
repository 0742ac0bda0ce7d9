"""The identity provider form of ``/admin/identity-providers``: its fields as one table, read into the values
``ProviderService.create`` and ``update`` take, and a saved provider shown back in it.

Each ``Field`` names the service's value it fills (``name``), the widget the template draws for it and its label
and help; adding a setting is a row here (and, for a new widget, a branch in ``_provider_fields.html``). What a
value may be is the service's to decide: reading only turns the text into a string, a list (of words, or of lines:
the claim and group mappings, one ``KEY=VALUE`` a line) or a bool. The client
secret is write-only: never put back in the form, and left as it is on an edit when its box is empty.

Each row says the kinds it is for: a saved provider's form (and a new one whose kind is chosen, ``?kind=ldap``) has
only its kind's rows, a blank new form all of them. An LDAP directory keeps its URL, bind DN and bind password in
the issuer, client ID and secret rows (labelled as such on its form), and its ``directory`` settings in rows of
their own."""

from __future__ import annotations

from dataclasses import dataclass, replace

from authgate.services.directory.settings import DEFAULT_GROUP_FILTER, DEFAULT_USER_FILTER, LDAP
from authgate.services.federation.providers import CLAIM_KEYS, DEFAULT_SCOPES, KINDS, MAX_SECRET, OAUTH2, OIDC

TEXT, URL, SECRET, WORDS, LINES, CHECK, CHOICE = "text", "url", "secret", "words", "lines", "check", "choice"
CHECK_DISCOVERY = "check_discovery"
KIND_LABELS = {OIDC: "OpenID Connect (found by discovery of its issuer)",
               OAUTH2: "OAuth 2.0 with a userinfo URL (GitHub-style: its URLs given below)",
               LDAP: "LDAP directory (people type its password on the sign-in form)"}
FEDERATED = (OIDC, OAUTH2)
DIRECTORY = ("user_base", "user_filter", "group_base", "group_filter")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str = TEXT
    help: str = ""
    maxlength: int | None = None
    new_only: bool = False
    default: object = ""
    required: bool = True
    kinds: tuple[str, ...] = KINDS


FIELDS = (
    Field("name", "Name", help="Shown on the sign-in page as “Sign in with NAME”, and part of the callback URL to "
          "register at the provider, so it cannot be changed later: letters, digits, dots, dashes and underscores.",
          maxlength=64, new_only=True),
    Field("kind", "Kind", CHOICE, new_only=True, default=OIDC),
    Field("issuer", "Issuer", URL, help="The provider's issuer URL, exactly as its discovery document "
          "(ISSUER/.well-known/openid-configuration) names it: https, or http on a loopback host. For OAuth 2.0, "
          "optional: the iss its answers must carry, if it sends one. For an LDAP directory: its URL, "
          "ldap://HOST[:PORT] or ldaps://HOST[:PORT].", maxlength=2000, required=False),
    Field("authorization_url", "Authorization URL (OAuth 2.0 only)", URL, help="Where the browser is sent to sign "
          "in, e.g. https://github.com/login/oauth/authorize.", maxlength=2000, required=False, kinds=(OAUTH2,)),
    Field("token_url", "Token URL (OAuth 2.0 only)", URL, help="Where authgate redeems the code, e.g. "
          "https://github.com/login/oauth/access_token.", maxlength=2000, required=False, kinds=(OAUTH2,)),
    Field("userinfo_url", "Userinfo URL (OAuth 2.0 only)", URL, help="Who signed in, read with the provider's "
          "access token (never kept), e.g. https://api.github.com/user.", maxlength=2000, required=False,
          kinds=(OAUTH2,)),
    Field("client_id", "Client ID", help="The client ID authgate was given when registered at the provider (for an "
          "LDAP directory: the DN authgate binds as to search it).", maxlength=512),
    Field("client_secret", "Client secret", SECRET, help="The client secret that goes with it. It is stored "
          "encrypted and never shown again (for an LDAP directory: the bind DN's password).", maxlength=MAX_SECRET),
    Field("scopes", "Scopes", WORDS, help="Separated by spaces; empty: openid email profile. openid is always "
          "asked for.", default=list(DEFAULT_SCOPES), kinds=FEDERATED),
    Field("claims", "Claim mapping", LINES, help="One KEY=CLAIM a line, where the provider does not use the "
          f"standard claim; KEY is one of {', '.join(CLAIM_KEYS)} (GitHub: subject=id and username=login). A dotted "
          "CLAIM is a path into nested objects.", default=[], kinds=FEDERATED),
    Field("groups_claim", "Groups claim", help="The claim listing a person's groups at the provider (e.g. groups); "
          "empty: groups are not read.", maxlength=255, required=False, kinds=FEDERATED),
    Field("user_base", "User base DN (LDAP only)", help="Where the directory's people are searched, e.g. "
          "ou=people,dc=corp,dc=example.", maxlength=1000, required=False, kinds=(LDAP,)),
    Field("user_filter", "User filter (LDAP only)", help="The search for the typed username, which stands as "
          "{username} (escaped).", maxlength=1000, default=DEFAULT_USER_FILTER, required=False, kinds=(LDAP,)),
    Field("group_base", "Group base DN (LDAP only)", help="Where its groups are searched; empty: groups are not "
          "read.", maxlength=1000, required=False, kinds=(LDAP,)),
    Field("group_filter", "Group filter (LDAP only)", help="The search for a person's groups: {dn} stands for "
          "their entry's DN (or {username} for the typed name).", maxlength=1000, default=DEFAULT_GROUP_FILTER,
          required=False, kinds=(LDAP,)),
    Field("group_mappings", "Group mapping", LINES, help="One UPSTREAM=GROUP a line: members of the upstream group "
          "join the authgate group at each sign-in, and leave it once the provider no longer lists them. Other "
          "groups are never touched.", default=[]),
    Field("allow_jit", "Create an account at a first sign-in that matches none (just in time)", CHECK,
          default=False),
    Field("link_verified_email", "Link a first sign-in to the account with the same address, when the provider "
          "says the address is verified", CHECK, help="Only an account whose own address is verified is linked.",
          default=False),
    Field("allow_private_network", "It is inside the network (its URLs may resolve to private or loopback "
          "addresses)", CHECK, default=False, kinds=FEDERATED),
    Field("enabled", "Enabled: its button is on the sign-in page", CHECK, default=True),
)


LDAP_ROWS = {
    "name": ("Name", "How the directory is named here and in the security log (it cannot be changed later): "
             "letters, digits, dots, dashes and underscores."),
    "issuer": ("Directory URL", "ldap://HOST[:PORT] or ldaps://HOST[:PORT], nothing after it."),
    "client_id": ("Bind DN", "The DN authgate binds as to search the directory, e.g. cn=reader,dc=corp,dc=example."),
    "client_secret": ("Bind password", "The bind DN's password. It is stored encrypted and never shown again."),
    "group_mappings": ("Group mapping", "One DIRECTORY-GROUP=GROUP a line (the directory group's cn, in any case): "
                       "its members join the authgate group at each sign-in, and leave it once the directory no "
                       "longer lists them. Other groups are never touched."),
    "enabled": ("Enabled: people may sign in with their directory password", ""),
}


def rows(kind: str | None = None) -> tuple[Field, ...]:
    """The rows of the form of a ``kind`` of provider (None: not chosen yet, every row); an LDAP directory's with
    its own labels."""
    if kind not in KINDS:
        return FIELDS
    chosen = tuple(f for f in FIELDS if kind in f.kinds)
    if kind != LDAP:
        return chosen
    return tuple(_for_directory(f) for f in chosen)


def _for_directory(f: Field) -> Field:
    if f.name in DIRECTORY:
        return replace(f, label=f.label.removesuffix(" (LDAP only)"))
    if f.name in LDAP_ROWS:
        label, help = LDAP_ROWS[f.name]
        return replace(f, label=label, help=help)
    return f


def blank(kind: str | None = None) -> dict:
    """The form of a new provider (of ``kind``, when chosen)."""
    return {**{f.name: f.default for f in FIELDS}, "kind": kind if kind in KINDS else OIDC, CHECK_DISCOVERY: True}


def shown(row, group_mappings: list[dict] = ()) -> dict:
    """The form of a saved provider (no secret), with its group mappings (``ProviderService.described``)."""
    claims = dict(row.claim_mapping or {})
    form = {f.name: getattr(row, f.name, None) or "" for f in FIELDS if f.widget not in (SECRET, CHECK, LINES)}
    form.update({f.name: getattr(row, f.name) for f in FIELDS if f.widget == CHECK})
    form["scopes"] = list(row.scopes or ())
    form["claims"] = [f"{key}={claim}" for key, claim in sorted(claims.items()) if key != "groups"]
    form["groups_claim"] = claims.get("groups", "")
    form["group_mappings"] = [f"{m['upstream']}={m['group']}" for m in group_mappings]
    form.update({key: (row.directory or {}).get(key) or "" for key in DIRECTORY})
    return {**form, "client_secret_set": bool(row.client_secret), CHECK_DISCOVERY: True}


def read(pairs: list[tuple[str, str]], *, new: bool, kind: str | None = None) -> tuple[dict, dict]:
    """The posted form as (what to draw again, the service's values), reading the rows of the provider's ``kind``
    (a new one's: the one chosen). On an edit the values leave out the fields only a new provider has, and the
    secret unless one was typed; the secret is never drawn again. An LDAP directory's own rows are its
    ``directory`` value."""
    fields = dict(reversed(pairs))
    if new:
        kind = fields.get("kind", OIDC)
    values: dict = {}
    for f in rows(kind) if kind in KINDS else rows(OIDC):
        if f.new_only and not new:
            continue
        text = fields.get(f.name, "")
        if f.widget == CHECK:
            values[f.name] = f.name in fields
        elif f.widget == WORDS:
            values[f.name] = text.split()
        elif f.widget == LINES:
            values[f.name] = [line.strip() for line in text.splitlines() if line.strip()]
        elif f.widget == SECRET:
            if text or new:
                values[f.name] = text
        else:
            values[f.name] = text.strip()
    form = {k: v for k, v in values.items() if k != "client_secret"}
    form[CHECK_DISCOVERY] = CHECK_DISCOVERY in fields
    if kind == LDAP:
        values["directory"] = {key: values.pop(key) for key in DIRECTORY}
    return form, values


def choices(kind: str | None = None) -> dict:
    """The rows to draw (``rows``) and the kinds to choose from."""
    return {"fields": rows(kind), "kinds": {kind: KIND_LABELS.get(kind, kind) for kind in KINDS}}
