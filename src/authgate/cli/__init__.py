"""The ``authgate`` command line: a thin adapter over the services, like the web layer."""
