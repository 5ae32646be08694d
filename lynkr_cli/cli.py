"""The ``lynkr`` command: the Typer root, built from plugins, and the one error boundary."""

from __future__ import annotations

import inspect
import os
import sys
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from lynkr_cli import __version__, console, entry
from lynkr_cli.entry import COMPLETE_VAR
from lynkr_cli.errors import ExitCode, LynkrError

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")

HELP = """lynkr: a self-hosted backend for the Claude Code CLI.

Start the gateway with `lynkr serve`, then point Claude Code at it:
`export ANTHROPIC_BASE_URL=http://127.0.0.1:8080`.
"""


def boundary(exc: BaseException) -> int:
    """The one error boundary: the exit code for ``exc``, its message printed.

    ``SystemExit`` passes through, and so does every other error with
    ``LYNKR_DEBUG=1`` (for its traceback). Used by :class:`LynkrGroup` and by the
    commands ``entry.py`` runs before Typer.
    """
    if isinstance(exc, SystemExit):
        raise exc
    if os.environ.get("LYNKR_DEBUG") == "1" and not isinstance(exc, Exit | TyperException):
        raise exc
    return exit_code_for(exc)


def exit_code_for(exc: BaseException) -> int:
    """Map any exception to an exit code, printing the human message on stderr.

    With ``--json`` on the command line the same error is also one JSON document on
    stdout, ``{"error": {"code", "exit", "message", "hint"}}``, unless the command had
    already printed its document.
    """
    if isinstance(exc, Exit):
        return int(exc.exit_code)
    code, name, message, hint = _describe(exc)
    if console.state.json_errors and not isinstance(exc, BrokenPipeError):
        console.print_error_json(name, code, message, hint)
    return code


def _describe(exc: BaseException) -> tuple[int, str, str, str | None]:
    """Exit code, error code name, message and hint; the human form goes to stderr."""
    if isinstance(exc, TyperException):  # click's usage errors, vendored by Typer
        message = exc.format_message()
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            console.error(message)
        ctx = getattr(exc, "ctx", None)
        hint = f"Try '{ctx.command_path} --help' for help." if ctx is not None else None
        if isinstance(exc, NoArgsIsHelpError):  # a bare group: its help is on stderr
            message = f"'{ctx.command_path}' needs a command" if ctx else "a command is missing"
        return int(exc.exit_code), "usage", message, hint
    if isinstance(exc, KeyboardInterrupt | Abort):
        console.error("interrupted")
        return ExitCode.INTERRUPTED, "interrupted", "interrupted", None
    if isinstance(exc, LynkrError):
        console.error(exc.message, exc.hint)
        code = ExitCode(exc.exit_code)
        return int(code), code.name.lower(), exc.message, exc.hint
    if isinstance(exc, BrokenPipeError):
        return ExitCode.FAILURE, "broken_pipe", "stdout was closed", None
    message = f"internal error: {type(exc).__name__}: {exc}"
    hint = "Rerun with LYNKR_DEBUG=1 for the traceback, and report it."
    console.error(message, hint)
    return ExitCode.FAILURE, "internal", message, hint


class LynkrGroup(TyperGroup):
    """The root group. Its ``main`` is the error boundary, so CliRunner sees it too.

    Plugin commands are turned into click commands only when one is used: converting
    all of them (Typer inspects every parameter's annotations) costs more than the
    command a user runs, so ``lynkr index .`` converts ``index`` alone. ``--help``
    lists them all from their declarations (:func:`_listing`), converting none.
    """

    lazy: ClassVar[dict[str, Any]] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return [*self.lazy, *(name for name in self.commands if name not in self.lazy)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.commands[cmd_name] = _to_click(self.lazy[cmd_name])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Typer's command list, each line read from the command's declaration: converting
        a group builds its whole subtree, most of what ``lynkr --help`` took."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self._listed(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd))
        if not rows:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in rows])

    def _listed(self, ctx: Any, name: str) -> Any:
        if name in self.commands or name not in self.lazy:
            return self.get_command(ctx, name)
        return _listing(name, self.lazy[name])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            # Typer suggests from the converted commands only; the lazy ones count too.
            if args and "Did you mean" not in exc.message:
                close = get_close_matches(args[0], self.list_commands(ctx))
                if close:
                    names = ", ".join(repr(name) for name in close)
                    exc.message = f"{exc.message.rstrip('.')}. Did you mean {names}?"
            raise

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from lynkr_cli.plugins import get_manager

        argv = list(sys.argv[1:] if args is None else args)
        console.begin(argv)
        if not os.environ.get(COMPLETE_VAR):  # a completing shell shows stderr mid-line
            for message in get_manager().warnings:
                console.warn(message)
        try:
            _completion_for_named_shell(self, argv)
            result = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) else 0
        except BaseException as exc:
            code = boundary(exc)
        if standalone_mode:
            sys.exit(code)
        return code


def _completion_for_named_shell(group: TyperGroup, argv: list[str]) -> None:
    """``lynkr --show-completion zsh``: Typer alone takes the shell from the parent process."""
    if len(argv) != 2 or argv[0] not in ("--show-completion", "--install-completion"):
        return
    if argv[1] not in SHELLS:
        raise LynkrError(
            f"no completion for the shell {argv[1]!r}",
            hint=f"Choose one of {', '.join(SHELLS)}, or give none to use the current shell.",
            exit_code=ExitCode.USAGE,
        )
    from typer import completion

    with typer.Context(group, info_name="lynkr") as ctx:  # the name the scripts complete
        if argv[0] == "--show-completion":
            completion.show_callback(ctx, None, argv[1])  # type: ignore[arg-type]
        completion.install_callback(ctx, None, argv[1])  # type: ignore[arg-type]


def _to_click(info: Any) -> Any:
    from typer.main import get_command_from_info, get_group_from_info
    from typer.models import CommandInfo

    if isinstance(info, CommandInfo):
        return get_command_from_info(info, pretty_exceptions_short=True, rich_markup_mode=None)
    return get_group_from_info(
        info, pretty_exceptions_short=True, rich_markup_mode=None, suggest_commands=True
    )


def _listing(name: str, info: Any) -> Any:
    """A stand-in click command carrying what a command list shows of ``info`` (its help,
    short help, hidden and deprecated flags), resolved as Typer resolves them."""
    from typer.core import TyperCommand
    from typer.main import solve_typer_info_defaults
    from typer.models import CommandInfo

    if isinstance(info, CommandInfo):
        doc = info.help
        text = inspect.getdoc(info.callback) if doc is None else inspect.cleandoc(doc)
        flags = (info.short_help, info.hidden, info.deprecated)
    else:
        solved = solve_typer_info_defaults(info)
        text, flags = solved.help, (solved.short_help, solved.hidden, solved.deprecated)
    short, hidden, deprecated = flags
    return TyperCommand(name, help=text, short_help=short, hidden=hidden, deprecated=deprecated)


def _lazy_name(info: Any) -> str | None:
    from typer.main import get_command_name
    from typer.models import CommandInfo

    if isinstance(info, CommandInfo):
        if info.name:
            return str(info.name)
        return get_command_name(info.callback.__name__) if info.callback else None
    name = info.name or info.typer_instance.info.name
    return str(name) if isinstance(name, str) and name else None


def _defer_plugin_commands(app: typer.Typer) -> None:
    """Move the registered commands into a lazily converted table on the root group."""
    lazy: dict[str, Any] = {}
    for kind in ("registered_commands", "registered_groups"):
        keep = []
        for info in getattr(app, kind):
            name = _lazy_name(info)
            if name is None or name in lazy:
                keep.append(info)  # unusual shapes convert the usual, eager way
            else:
                lazy[name] = info
        setattr(app, kind, keep)
    app.info.cls = type("LynkrApp", (LynkrGroup,), {"lazy": lazy})


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lynkr {__version__}")
        raise typer.Exit()


@entry.runs("lynkr_cli.entry:configure")
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More detail; repeat for debug.")
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors on stderr.")] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Use this lynkr.toml instead of the usual search."),
    ] = None,
) -> None:
    """Configure the process-wide options every command shares."""


def create_app() -> typer.Typer:
    """Build the CLI: the root options, then every plugin's commands."""
    from lynkr_cli.plugins import get_manager

    app = typer.Typer(
        cls=LynkrGroup,
        help=HELP,
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    get_manager().call("register_commands", app=app)  # failures are warned by LynkrGroup.main
    _defer_plugin_commands(app)
    return app


# --------------------------------------------------------------------------- entry table


def entry_table() -> dict[str, Any]:
    """What ``entry.py`` needs to parse command lines before Typer, from this app's own
    declarations: the root options, and every command whose callback is ``@entry.runs``
    with the groups on its way (``scripts/gen_entry_table.py`` writes it out)."""
    root = typer.main.get_command(create_app())
    table: dict[str, Any] = {"ROOT": None, "GROUPS": {}, "COMMANDS": {}}
    with typer.Context(root, info_name="lynkr", **root.context_settings) as ctx:
        table["ROOT"] = _entry_spec(root, ctx)
        _entry_walk(root, ctx, [], table)
    return table


def _entry_walk(group: Any, ctx: Any, path: list[str], table: dict[str, Any]) -> bool:
    """Add ``group``'s runnable commands to ``table``; whether it has any."""
    found = False
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        key = " ".join([*path, name])
        with typer.Context(command, parent=ctx, info_name=name) as sub:
            if isinstance(command, TyperGroup):
                if _entry_walk(command, sub, [*path, name], table):
                    commands = tuple(sorted(command.commands))
                    default = getattr(command, "default_command", None)
                    table["GROUPS"][key] = {"commands": commands, "default": default}
                    found = True
            elif getattr(command.callback, "__lynkr_runs__", None):
                table["COMMANDS"][key] = _entry_spec(command, sub)
                found = True
    return found


def _entry_spec(command: Any, ctx: Any) -> dict[str, Any]:
    options: dict[str, tuple[str | None, str]] = {}
    arguments: list[tuple[str, str]] = []
    defaults: dict[str, Any] = {}
    for param in [*command.params, command.get_help_option(ctx)]:
        dest, kind = _entry_kind(param)
        if param.param_type_name == "argument":
            arguments.append((str(dest), kind))
        for name in param.opts if param.param_type_name == "option" else []:
            options[name] = (dest, kind)
        if dest is not None:
            defaults[dest] = param.default
    run = getattr(command.callback, "__lynkr_runs__", None)
    return {"options": options, "arguments": tuple(arguments), "defaults": defaults, "run": run}


ENTRY_TYPES = {str: "str", Path: "path"}


def _entry_kind(param: Any) -> tuple[str | None, str]:
    """How ``entry.py`` reads ``param``: (its keyword, its kind); "stop" leaves the
    command line to Typer (help, version, completion). Refuses what it cannot read."""
    if param.is_eager or not param.expose_value:
        return None, "stop"
    annotation = param.type_descriptor.annotation
    simple = param.nargs == 1 and not param.multiple and not param.envvar and not param.callback
    if param.param_type_name == "option" and getattr(param, "count", False):
        kind = "count" if simple and not param.required else ""
    elif param.param_type_name == "option" and param.is_flag:
        plain = annotation is bool and not param.secondary_opts and param.default is False
        kind = "flag" if simple and plain else ""
    else:
        kind = ENTRY_TYPES.get(annotation, "") if simple and not param.required else ""
    if not kind or (param.default is not None and not isinstance(param.default, bool | int | str)):
        raise ValueError(f"entry.py cannot read the parameter {param.name!r} as Typer does")
    return str(param.name), kind


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    command = typer.main.get_command(create_app())
    return int(command.main(args=argv, prog_name="lynkr", standalone_mode=False))


if __name__ == "__main__":
    raise SystemExit(main())
