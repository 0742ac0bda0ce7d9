"""The benchmark's machinery: the virtualenv, server processes, wrk, the servers under test, the report."""
