"""``--help`` that names values as a person would (``--server URL``), not as Python types (``<str>``, ``<bool>``).

Typer 0.29 shows a ``<type>`` column for every parameter: ``<bool>`` beside each flag, ``--help`` included, and
``<list[str]>`` beside an argument whose name already says what it is. It offers no hook to choose the parameter
classes it builds, so the root group below fixes the display of each command as it is looked up: a flag shows no
value, an option its ``metavar`` (or its name in capitals, as argparse does), a choice its choices, an argument
only its name. Because every command is reached through its parent group, setting ``cls=ReadableGroup`` on the
root app covers every command and sub-group, including those added later.
"""

from __future__ import annotations

from typer._click import Command, Context, Parameter
from typer.core import TyperArgument, TyperGroup, TyperOption


class _ReadableOption(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        if self.metavar is not None:
            return self.metavar
        if self.type_descriptor.is_choice:
            return self.display_type(ctx).strip("<>")  # human|json
        return (self.name or "value").upper()


class _ReadableArgument(TyperArgument):
    def display_type_rich(self, ctx: Context) -> str | None:
        return None  # the name column already shows its metavar (FILE)


def _readable(parameter: Parameter | None) -> None:
    """Give a parameter Typer built the display above (same object, same state; only the class changes)."""
    if parameter is None:
        return
    if type(parameter) is TyperOption:
        parameter.__class__ = _ReadableOption
    elif type(parameter) is TyperArgument:
        parameter.__class__ = _ReadableArgument


class ReadableGroup(TyperGroup):
    """A group whose own parameters, and those of each command it hands out, display readably."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        parameters = super().get_params(ctx)
        for parameter in parameters:
            _readable(parameter)
        return parameters

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            return None
        for parameter in command.params:
            _readable(parameter)
        _readable(command.get_help_option(ctx))
        if type(command) is TyperGroup:
            command.__class__ = ReadableGroup
        return command
