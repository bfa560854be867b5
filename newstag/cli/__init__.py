"""The ``newstag`` command line.

One module per command or command group; this group imports a command's module only when that
command runs or is listed, and the modules keep their heavy imports inside the commands, so
``newstag --help`` never loads scikit-learn, Flask or the model. Every error newstag's library
raises (:class:`model.errors.NewstagError`) and every failed file operation becomes one line on
stderr and exit status 1, in one place: :meth:`NewstagGroup.invoke`.
"""

from __future__ import annotations

import importlib
import logging

import click

from model.errors import NewstagError

__all__ = ["cli", "main"]

# Command name -> "module:attribute", imported on first use.
COMMANDS = {
    "train": "newstag.cli.train:train",
    "evaluate": "newstag.cli.evaluate:evaluate",
    "predict": "newstag.cli.predict:predict",
    "tag-page": "newstag.cli.page:tag_page",
    "tag-archive": "newstag.cli.archive:tag_archive",
    "serve": "newstag.cli.serve:serve",
    "compare": "newstag.cli.compare:compare",
    "feedback": "newstag.cli.feedback:feedback",
    "models": "newstag.cli.models:models",
}


def os_error_message(exc: OSError) -> str:
    """``path: reason`` for a failed file operation."""
    reason = exc.strerror or str(exc)
    return f"{exc.filename}: {reason}" if exc.filename else reason


class NewstagGroup(click.Group):
    """A click group that loads its commands lazily and turns library errors into messages."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS:
            module, attribute = COMMANDS[name].split(":")
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NewstagError as exc:
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(os_error_message(exc)) from None


@click.group(cls=NewstagGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newstag")
def cli():
    """newstag: topic tags for Chinese legal and public-safety news.

    \b
    Example:
      newstag tag-page examples/page.txt
    """
    logging.basicConfig(level=logging.WARNING, format="newstag: %(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; usage errors become one line and exit status 2."""
    try:
        result = cli.main(args=argv, prog_name="newstag", standalone_mode=False)
    except click.UsageError as exc:
        hint = (
            f" (see 'newstag {exc.ctx.command_path.removeprefix('newstag ')} --help')"
            if exc.ctx and exc.ctx.parent
            else " (see 'newstag --help')"
        )
        click.echo(f"newstag: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"newstag: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("newstag: aborted", err=True)
        return 130
    return result if isinstance(result, int) else 0
