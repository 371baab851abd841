"""``python -m blamelex``: the same as the ``blamelex`` command."""

from blamelex.cli import entry

entry()
