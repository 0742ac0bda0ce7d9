"""HTTP plumbing shared by every surface: middleware (body limits, security headers, NUL refusal, CORS, request context, metrics and logs) and the error formats."""
