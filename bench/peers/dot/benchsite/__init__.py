"""django-oauth-toolkit as its tutorial sets it up, with production settings, for the benchmark."""
