"""``skylet``: the command group, its exit statuses, and the entry point. Options and the
environment are read in ``cli/`` and nowhere below; each command lives in a module of its own
(serving, invoke, logs, bucket, generate_event)."""

from __future__ import annotations

from typing import Any

import click

from skylet import __version__
from skylet.cli.bucket import bucket
from skylet.cli.exits import EPILOG, Exit, Status, status_of
from skylet.cli.generate_event import generate_event
from skylet.cli.invoke import invoke
from skylet.cli.logs import invocations, logs
from skylet.cli.output import Output
from skylet.cli.serving import serve_function, up
from skylet.errors import SkyletError


class SkyletGroup(click.Group):
    """Turns what a command raises into its exit status (cli/exits.py), in one place: an
    :class:`Exit`, a ``SkyletError``, or Ctrl+C (130, without a traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exit as stop:
            if stop.message:
                Output().error(stop.message)
            ctx.exit(stop.status)
        except SkyletError as error:
            Output().error(str(error))
            ctx.exit(status_of(error))
        except KeyboardInterrupt:
            ctx.exit(Status.INTERRUPTED)


@click.group(
    cls=SkyletGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EPILOG,
)
@click.version_option(__version__, prog_name="skylet")
def cli() -> None:
    """Run Lambda-, Knative- and Cloud-Functions-style Python functions yourself."""


for command in (up, serve_function, invoke, logs, invocations, bucket, generate_event):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="skylet")
