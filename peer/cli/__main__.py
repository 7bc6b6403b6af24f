"""``python -m peer.cli`` is the ``toktok`` command."""

from peer.cli.main import main

main()
