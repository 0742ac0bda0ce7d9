"""What an operator probes: liveness, readiness and Prometheus metrics."""
