"""The servers under test. Each starts itself on the server core, seeds what the workloads need,
and answers ``spec(workload)`` with the request to send (or None with a reason, for n/a)."""
