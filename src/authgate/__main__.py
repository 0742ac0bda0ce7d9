"""``python -m authgate``: the same as the ``authgate`` console command."""

from authgate.cli.main import main

raise SystemExit(main())
