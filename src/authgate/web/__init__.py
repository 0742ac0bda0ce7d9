"""HTTP adapters: the OAuth endpoints, the HTML pages and the JSON API, over the protocol core and services."""
