"""What the JSON API shares: ProcessMaker's list envelope and errors, the user shape, the OpenAPI documentation."""
