"""``python -m flowc`` is the ``flowc`` command."""

from flowc.cli import entry_point

entry_point()
