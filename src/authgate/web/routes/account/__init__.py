"""The signed-in person's own pages: sign-in and sign-out, the profile, second factors, secrets shown once."""
