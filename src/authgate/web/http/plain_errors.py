"""OAuth error codes (RFC 6749 §4.1.2.1, §5.2) in words a person understands, for the pages a person sees
(the authorization endpoint's error page, ``/oauth/code``); the code itself is kept for the developer."""

from __future__ import annotations

SENTENCES = {
    "invalid_client": "authgate does not know this application: its client ID is wrong, or it was deleted.",
    "unauthorized_client": "This application is not allowed to sign people in this way.",
    "invalid_request": "The application sent an incomplete or malformed request.",
    "invalid_scope": "The application asked for access that does not exist or that it may not ask for.",
    "unsupported_response_type": "The application asked for something authgate does not offer.",
    "access_denied": "You cancelled, so the application was not given access to your account.",
    "login_required": "You need to sign in first.",
    "consent_required": "The application needs your consent, and was not allowed to ask for it.",
    "interaction_required": "The application needs you to sign in or approve, and was not allowed to ask.",
    "server_error": "Something went wrong on authgate's side.",
    "temporarily_unavailable": "authgate is busy or restarting. Try again in a moment.",
}
UNKNOWN = "The application's request could not be completed."


def in_words(error: str | None) -> str:
    return SENTENCES.get(error or "", UNKNOWN)
