"""The ``toktok`` command line.

``main.py`` holds the root group and registers every command module. Each area has its own module
(``node.py``: init/run/id/status; ``config_cmd.py``: config show; later issues add theirs). Shared
machinery is in ``context.py`` (the :class:`CliState` every command receives, output in text or
``--json``, and :meth:`CliState.change_state` for the data-dir ownership rule) and ``client.py``
(the running daemon's API).
"""
