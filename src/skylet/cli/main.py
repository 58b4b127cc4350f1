"""The ``skylet`` entry point: as little as possible is imported before a Ctrl+C is handled."""

from __future__ import annotations

import sys

#: 128 + SIGINT, the shell's convention (skylet.cli.exits.Status.INTERRUPTED).
INTERRUPTED = 130


def main() -> None:
    try:
        from skylet.cli.group import cli

        cli(prog_name="skylet")
    except KeyboardInterrupt:  # while click and the group loaded
        sys.exit(INTERRUPTED)
