"""A service's message names the field it is about as an API client sends it (``client_id``); a page says it in
words (the form's label, or the field's words): the ``sentence`` filter every form error goes through."""

from __future__ import annotations

import pytest

from authgate.services.errors import Invalid
from authgate.web.pages.templates import sentence


@pytest.mark.parametrize("message, label, shown", [
    (Invalid("client_id must be 1 to 512 printable characters", field="client_id"), None,
     "Client ID must be 1 to 512 printable characters."),
    (Invalid("redirect_uris: 'x' is not an absolute URI", field="redirect_uris"), None,
     "Redirect URIs: 'x' is not an absolute URI."),
    (Invalid("group_mappings: there is no group 'x'", field="group_mappings"), "Group mapping",
     "Group mapping: there is no group 'x'."),
    (Invalid("user_base is required for an LDAP directory", field="user_base"), "User base DN (LDAP only)",
     "User base DN is required for an LDAP directory."),
    (Invalid("the bind DN must be 1 to 512 printable characters", field="client_id"), "Bind DN",
     "The bind DN must be 1 to 512 printable characters."),
    (Invalid("client_idx is not a setting", field="client_id"), None, "Client_idx is not a setting."),
    ("a plain message", None, "A plain message."),
])
def test_a_field_named_first_is_said_in_words(message, label, shown):
    assert sentence(message, label) == shown
