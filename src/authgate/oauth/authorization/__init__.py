"""The authorization endpoint's requests and answers: the decisions a browser gets (sign-in, consent,
prompt/max_age), pushed requests (RFC 9126), request objects (RFC 9101) and the device approval (RFC 8628 §3.3)."""
