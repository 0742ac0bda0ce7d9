"""The links authgate mails: password reset, address verification and invitations, single use, stored by keyed
hash."""
