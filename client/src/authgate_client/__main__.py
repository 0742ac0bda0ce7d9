"""``python -m authgate_client``: the same as the ``authgate-client`` command."""

from authgate_client.cli import main

raise SystemExit(main())
