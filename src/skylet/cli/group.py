"""The ``skylet`` command group and its exit statuses. Options and the environment are read in
``cli/`` and nowhere below; each command lives in a module of its own, imported when the
command runs (so ``skylet invoke`` never imports the platform, and a Ctrl+C while a command's
modules load exits 130 like any other)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

from skylet import __version__
from skylet.cli.exits import EPILOG, Exit, Status, status_of
from skylet.errors import SkyletError

#: Each command: the module and the name of its click command.
COMMANDS = {
    "up": ("skylet.cli.serving", "up"),
    "serve-function": ("skylet.cli.serving", "serve_function"),
    "invoke": ("skylet.cli.invoke", "invoke"),
    "logs": ("skylet.cli.logs", "logs"),
    "invocations": ("skylet.cli.logs", "invocations"),
    "bucket": ("skylet.cli.bucket", "bucket"),
    "queue": ("skylet.cli.queue", "queue"),
    "table": ("skylet.cli.table", "table"),
    "schedule": ("skylet.cli.schedule", "schedule"),
    "topic": ("skylet.cli.topic", "topic"),
    "cost": ("skylet.cli.cost", "cost"),
    "tune": ("skylet.cli.cost", "tune"),
    "generate-event": ("skylet.cli.generate_event", "generate_event"),
    "dashboard": ("skylet.cli.dashboard", "dashboard"),
    "export": ("skylet.cli.export", "export"),
}


class SkyletGroup(click.Group):
    """Loads a command when it is asked for, and turns what a command raises into its exit
    status (cli/exits.py) in one place: an :class:`Exit`, a ``SkyletError``, or Ctrl+C (130,
    without a traceback)."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]] = {}, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # name → (module, attribute): imported when asked for

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *super().list_commands(ctx)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy:
            return super().get_command(ctx, name)
        module, attribute = self.lazy[name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exit as stop:
            if stop.message:
                _error(stop.message)
            ctx.exit(stop.status)
        except SkyletError as error:
            _error(str(error))
            ctx.exit(status_of(error))
        except KeyboardInterrupt:
            ctx.exit(Status.INTERRUPTED)


def _error(message: str) -> None:
    from skylet.cli.output import Output

    Output().error(message)


@click.group(
    cls=SkyletGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EPILOG,
)
@click.version_option(__version__, prog_name="skylet")
def cli() -> None:
    """Run Lambda-, Knative- and Cloud-Functions-style Python functions yourself."""
