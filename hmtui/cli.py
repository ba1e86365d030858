"""The `hmtui` command: the TUI, the scriptable subcommands and the fake server, on one API layer."""

from __future__ import annotations

import argparse
import asyncio
import codecs
import logging
import os
import shutil
import signal
import sys
import threading
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO
from urllib.parse import urlsplit

from hmtui import __version__
from hmtui.api import (
    ApiError,
    ApiTimeoutError,
    Conversation,
    Credentials,
    HeymarketClient,
    Id,
    Inbox,
    Message,
    MessageKind,
    NetworkError,
    RateLimitedError,
    RetryEvent,
    RetryPolicy,
    ServerError,
    normalize_phone,
)
from hmtui.api.client import url_has_credentials, validate_base_url
from hmtui.api.limiter import RequestLimiter
from hmtui.api.models import parse_id
from hmtui.cache import Store, cache_dir, cache_files, clear_files, file_info, store_path
from hmtui.cache.search import parse_query
from hmtui.config import DEFAULT_MAX_REQUESTS_PER_MINUTE, Config, ConfigError, check_theme, load_config, log_dir
from hmtui.logs import setup_logging
from hmtui.phones import format_phone, inbox_numbers
from hmtui.safe_text import clean_text, dumps_terminal_safe, one_line
from hmtui.startup import resume_gc

log = logging.getLogger("hmtui.cli")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class UsageError(Exception):
    """Bad arguments: exit 2 with one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    # Global options are accepted before or after the subcommand. The subcommands' copies default
    # to SUPPRESS so they never overwrite a value given before the subcommand (argparse shares
    # action objects between parents, hence two separate parent parsers).
    def common(default_debug: object, default_url: object) -> argparse.ArgumentParser:
        parent = argparse.ArgumentParser(add_help=False)
        parent.add_argument("--debug", action="store_true", default=default_debug,
                            help="full tracebacks and request logging on stderr (secrets redacted)")
        parent.add_argument("--no-cache", action="store_true", default=default_debug,
                            help="keep nothing on disk: no local cache of what was fetched")
        parent.add_argument("--base-url", metavar="URL", default=default_url,
                            help="Heymarket API base URL (default: $HEYMARKET_BASE_URL or https://api.heymarket.com)")
        _account_option(parent, default_url)
        return parent

    parser = _Parser(prog="hmtui", parents=[common(False, None)],
                     description="A keyboard-driven terminal client for Heymarket shared inboxes.")
    parser.set_defaults(command=None)
    sub_common = common(argparse.SUPPRESS, argparse.SUPPRESS)
    parser.add_argument("--version", action="version", version=f"hmtui {__version__}")
    parser.add_argument("--inbox", metavar="ID", help="open the TUI on this inbox")
    parser.add_argument("--phone", metavar="NUMBER", help="open the TUI on this conversation (with --inbox)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("inboxes", parents=[sub_common], help="list the team's inboxes")
    p.add_argument("--json", action="store_true", help="JSON Lines: one raw inbox object per line")

    p = sub.add_parser("conversations", parents=[sub_common], help="list an inbox's conversations, newest first")
    p.add_argument("--inbox", metavar="ID", required=True, help="inbox id (see `hmtui inboxes`)")
    p.add_argument("--status", choices=("open", "closed", "all"), default="all", help="default: all")
    p.add_argument("--unread", action="store_true", help="only unread conversations")
    p.add_argument("--user", metavar="ID", help="member id to list as (default: user_id in the config, "
                                                "else the inbox's first member)")
    p.add_argument("--limit", metavar="N", type=_positive_int, help="stop after N conversations")
    p.add_argument("--json", action="store_true", help="JSON Lines: one raw conversation object per line")

    p = sub.add_parser("history", parents=[sub_common], help="print a whole conversation thread, oldest first")
    p.add_argument("--inbox", metavar="ID", required=True, help="inbox id")
    p.add_argument("--phone", metavar="NUMBER", required=True, help="the customer's number")
    p.add_argument("--json", action="store_true", help="JSON Lines: one raw message object per line")

    p = sub.add_parser("search", parents=[sub_common], help="search every cached message (works offline)")
    p.add_argument("query", metavar="QUERY", help="words to find (all of them)")
    p.add_argument("--inbox", metavar="ID", help="only this inbox")
    p.add_argument("--limit", metavar="N", type=_positive_int, default=100, help="at most N hits (default: 100)")
    p.add_argument("--json", action="store_true", help="JSON Lines: one raw message object per line")

    p = sub.add_parser("cache", parents=[sub_common], help="the local cache: where it is and what it holds")
    p.add_argument("action", choices=("info", "clear"),
                   help="info: every cache file with its size and counts; clear: delete this account's cache")
    p.add_argument("--all", action="store_true", help="with clear: delete every cache file, of every account")

    _send_commands(sub, sub_common)

    p = sub.add_parser("fake-server", parents=[sub_common], help="run the built-in fake Heymarket server")
    _fake_options(p)
    p.add_argument("--port", type=_port, default=0, help="port (default: any free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")

    p = sub.add_parser("demo", parents=[sub_common], help="open hmtui on the built-in fake server, no account needed")
    _fake_options(p)
    p.add_argument("--inbox", metavar="ID", default=argparse.SUPPRESS, help="open on this inbox")
    p.add_argument("--phone", metavar="NUMBER", default=argparse.SUPPRESS, help="open on this conversation")
    _demo_options(p)
    _daily_commands(sub, sub_common)
    return parser


def _fake_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=7, help="data seed (default: 7)")
    p.add_argument("--profile", choices=("tidy", "live"), default="tidy",
                   help="payload shapes: tidy (every key, nulls) or live (the real backend's "
                        "messier shapes: omitted fields, 0/1 read flags, broadcasts, hidden "
                        "and failed messages, groups); default: tidy")
    p.add_argument("--cursor", choices=("exclusive", "inclusive"), default="exclusive",
                   help="how the paging bound compares (default: exclusive)")
    p.add_argument("--order", choices=("newest", "oldest", "shuffled"), default="newest",
                   help="order of items in a page (default: newest)")
    p.add_argument("--page-size", type=_positive_int, default=None, help="conversations per page")
    p.add_argument("--message-page-size", type=_positive_int, default=None, help="messages per page")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every response")
    _fake_limit_options(p)
    _fake_customer_option(p)


def _fake_customer_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--customer-replies", metavar="SECONDS", type=float, default=None,
                   help="the fake customer answers each reply this many seconds later "
                        f"(demo default: {DEMO_CUSTOMER_DELAY:g}; 0: never; fake-server default: never)")


def _fake_limit_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rate-limit", metavar="N", type=_non_negative_int, default=500,
                   help="requests per rolling minute before a 429 (default: 500, Heymarket's; 0: no limit)")
    p.add_argument("--count-filters", action=argparse.BooleanOptionalAction, default=None,
                   help="whether /v1/conversations/count honours its filters "
                        "(default: yes, but no with --profile live)")
    p.add_argument("--count-shape", choices=("number", "string", "object"), default=None,
                   help="how /v1/conversations/count answers (default: number; string with --profile live)")
    p.add_argument("--feed-cursor", choices=("before", "after"), default="before",
                   help="which side of created_at /v1/messages/all answers (default: before)")


def _numbers_cell(conversation: Any) -> str:
    """A conversation's number for a table: a group shows its first number and how many more
    (every number is in --json), so one group cannot widen the column past the dates."""
    numbers = list(conversation.numbers) or ([conversation.target] if conversation.target else [])
    if not numbers:
        return ""
    return format_phone(numbers[0]) + (f" +{len(numbers) - 1}" if len(numbers) > 1 else "")


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {one_line(text, 40)!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be at least 1: {value}" if minimum == 1 else f"must be {minimum} or more: {value}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {one_line(text, 40)!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return value


def _id(text: str, what: str) -> Id:
    value = parse_id(text)
    if value is None:
        raise UsageError(f"{what} must be an id, got {one_line(text, 40)!r}")
    return value


# -- entry point ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    _tolerant_output()
    try:
        args = build_parser().parse_args(argv)
        if args.command not in (None, "demo"):  # the TUI resumes it after its first frame
            resume_gc()
        return _dispatch(args)
    except UsageError as exc:
        return _fail(f"error: {exc}", EXIT_USAGE)
    except ConfigError as exc:
        return _fail(f"error: {exc}", EXIT_USAGE)
    except ApiError as exc:
        log.debug("API error", exc_info=True)
        if debug:
            raise
        return _fail(f"error: {exc}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`| head`): not an error; keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # the last line of defence: one line, never a traceback
        log.exception("unexpected error")
        if debug:
            raise
        return _fail(f"unexpected error: {type(exc).__name__}: {one_line(exc, 200)} "
                     "(run with --debug for details)", EXIT_FAILURE)


def _tolerant_output() -> None:
    """A character the output cannot encode (PYTHONIOENCODING=ascii, a Latin-1 locale) prints as
    a replacement instead of failing the command after everything was fetched."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass  # not a text stream we can change (a test's capture, a closed stream)


def _json_line(raw: object) -> str:
    """One JSON Lines record for stdout: \\u-escaped beyond ASCII when stdout cannot encode
    Unicode, so the record stays exact rather than replaced."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        unicode_ok = codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        unicode_ok = False
    return dumps_terminal_safe(raw, ascii_only=not unicode_ok) + "\n"


def _fail(message: str, code: int) -> int:
    print(f"hmtui: {message}", file=sys.stderr)
    return code


def _dispatch(args: argparse.Namespace) -> int:
    command = args.command
    if command == "fake-server":
        setup_logging(log_dir(), debug=args.debug)
        return run_fake_server(args)
    if command == "demo":
        setup_logging(log_dir(), debug=args.debug)
        return run_demo(args)
    if command in DAILY_COMMANDS:
        return run_daily_command(args)
    if command == "cache":
        return run_cache_command(args, _load(args, need_credentials=False))
    if command == "search":
        return run_cache_command(args, _load(args))
    if command == "outbox" and args.action in ("list", "drop"):
        return run_outbox_offline(args, _load(args, need_credentials=False))
    config = _load(args)
    handlers: dict[str | None, Callable[[HeymarketClient, Config, argparse.Namespace], Awaitable[int]]] = {
        "inboxes": cmd_inboxes,
        "conversations": cmd_conversations,
        "history": cmd_history,
        "send": cmd_send,
        "outbox": cmd_outbox_send,
        None: cmd_tui,
    }
    return asyncio.run(_with_client(config, args, handlers[command]))


def _load(args: argparse.Namespace, *, need_credentials: bool = True) -> Config:
    config = load_config(account=getattr(args, "account", None))
    if args.base_url:
        config.base_url = args.base_url
    if url_has_credentials(config.base_url):
        config.warnings.append("the user name and password in the base URL are ignored (and never shown): "
                               "Heymarket authenticates with the secret key")
    try:
        config.base_url = validate_base_url(config.base_url)  # drops them
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if need_credentials and config.secret_id:
        config.resolve_secret_key()  # only here: `cache info` and `accounts` never run the command
    setup_logging(log_dir(), debug=args.debug, secrets=[config.secret_key or ""])
    for warning in config.warnings:
        print(f"hmtui: warning: {warning}", file=sys.stderr)
    if need_credentials and not config.has_credentials:
        raise ConfigError(config.missing_credentials_message())
    return config


async def _with_client(config: Config, args: argparse.Namespace,
                       handler: Callable[[HeymarketClient, Config, argparse.Namespace], Awaitable[int]]) -> int:
    assert config.secret_id and config.secret_key
    credentials = Credentials(config.secret_id, config.secret_key)
    retry = RetryPolicy(attempts=config.retries + 1)
    # The TUI runs for hours beside the rest of the team, so it keeps to its share of the team's
    # budget. A one-shot command (a `history` export) runs to completion at the pace the server
    # allows, slowed only by its 429s (Retry-After is honoured).
    limiter = RequestLimiter(config.max_requests_per_minute) if handler is cmd_tui else None
    # The TUI shows retries itself; a CLI command says once that it is still trying.
    on_retry = None if handler is cmd_tui else RetryNotice(sys.stderr, urlsplit(validate_base_url(config.base_url)).netloc)
    async with HeymarketClient(credentials, base_url=config.base_url, timeout=config.http_timeout(),
                               retry=retry, limiter=limiter, on_retry=on_retry) as client:
        return await handler(client, config, args)


def open_store(config: Config, args: argparse.Namespace) -> Store | None:
    """This account's cache, or None with --no-cache / `cache = false` (then nothing touches disk)."""
    if getattr(args, "no_cache", False) or not config.cache or not config.secret_id:
        return None
    # The demo's cache lives in a temporary directory of its own (see run_demo).
    store = Store.open(config.base_url, config.secret_id, account=config.account,
                       directory=getattr(args, "demo_cache_dir", None))
    for warning in store.warnings:
        print(f"hmtui: warning: {one_line(warning, 300)}", file=sys.stderr)
    return store


class RetryNotice:
    """The client's on_retry hook for CLI commands: one line on stderr at the first retry, so a
    slow failure is not mistaken for a hang; silent after that (once per command)."""

    def __init__(self, out: TextIO, host: str) -> None:
        self.out = out
        self.host = one_line(host, 100)
        self.told = False

    def __call__(self, event: RetryEvent) -> None:
        if self.told:
            return
        self.told = True
        if isinstance(event.error, ApiTimeoutError):  # before NetworkError: it may be one
            text = f"{self.host} did not answer in time, retrying…"
        elif isinstance(event.error, NetworkError):
            text = f"cannot reach {self.host}, retrying…"
        else:
            text = f"{one_line(event.error, 120)}, retrying…"
        print(f"hmtui: {text}", file=self.out, flush=True)


def run_cache_command(args: argparse.Namespace, config: Config) -> int:
    if args.command == "cache":
        return cmd_cache(args, config)
    store = open_store(config, args)
    if store is None:
        raise UsageError("the cache is turned off (--no-cache or cache = false in the config)")
    try:
        inbox_id = _id(args.inbox, "--inbox") if args.inbox else None
        notice = parse_query(args.query).notice()  # what a query past the bounds left out
        if notice:
            print(f"hmtui: note: {notice}", file=sys.stderr)
        hits = store.search(args.query, inbox_id=inbox_id, limit=args.limit)
        more = store.count_matches(args.query, inbox_id=inbox_id) - len(hits) if len(hits) >= args.limit else 0
        if args.json:
            for hit in hits:
                sys.stdout.write(_json_line(hit.message.raw))
        else:
            rows = [[str(hit.inbox_id), one_line(hit.contact or format_phone(hit.target) or "", 30),
                     _local(hit.message.date), hit.snippet] for hit in hits]
            if rows:
                write_table(["INBOX", "CONTACT", "TIME", "MESSAGE"], rows, sys.stdout, last_width=80,
                            width=table_width(sys.stdout), shrink=(1, 3))
        sys.stdout.flush()
        if not hits:
            print(f"hmtui: no matches for {one_line(args.query, 60)!r} in the cache", file=sys.stderr)
        elif more > 0:
            print(f"hmtui: {more:,} more not shown (--limit {args.limit}); raise --limit to see them",
                  file=sys.stderr)
        return EXIT_OK
    finally:
        store.close()


def cmd_cache(args: argparse.Namespace, config: Config) -> int:
    """`cache info` and `cache clear`: they need no credentials, and never create a file."""
    directory = cache_dir()
    mine = store_path(config.base_url, config.secret_id, account=config.account) if config.secret_id else None
    if args.action == "clear":
        if args.all:
            deleted, errors = clear_files(directory)
        elif mine is None:
            raise UsageError("which account's cache? no credentials are set; "
                             "`hmtui cache clear --all` deletes every cache file")
        else:
            deleted, errors = clear_files(directory, stem=mine.name)
        for error in errors:
            print(f"hmtui: {one_line(error, 300)}", file=sys.stderr)
        main_files = [p for p in deleted if p.name.endswith(".sqlite3")]
        if not deleted:
            print(f"no cache to delete in {directory}")
        else:
            print(f"deleted {len(main_files)} cache file{'s' if len(main_files) != 1 else ''} "
                  f"({len(deleted)} with their journals and set-aside copies) in {directory}")
        return EXIT_FAILURE if errors else EXIT_OK
    files = cache_files(directory)
    print(f"cache directory  {directory}")
    if not config.cache:
        print("(the cache is turned off in the config: nothing new is written)")
    if not files:
        print("no cache files")
        return EXIT_OK
    rows = []
    for path in files:
        info = file_info(path)
        # The mark leads the row: a long file name is cut to fit the terminal, the mark never.
        mark = "*" if path == mine else ""
        if info is None or not info.readable:
            size = f"{info.size_bytes:,}" if info else "?"
            rows.append([mark, path.name, size, "-", "-", "-", "unreadable"])
            continue
        rows.append([mark, path.name, f"{info.size_bytes:,}", f"{info.inboxes:,}", f"{info.conversations:,}",
                     f"{info.threads:,}", f"{info.messages:,}"])
    headers = ["", "FILE", "BYTES", "INBOXES", "CONVERSATIONS", "THREADS", "MESSAGES"]
    if mine in files:
        write_table(headers, rows, sys.stdout, width=table_width(sys.stdout), shrink=(1,))
        print("* this account's cache", file=sys.stderr)
    else:  # no account of these credentials here: no mark column
        write_table(headers[1:], [row[1:] for row in rows], sys.stdout, width=table_width(sys.stdout), shrink=(0,))
    return EXIT_OK


# -- commands ------------------------------------------------------------------------------------


async def cmd_tui(client: HeymarketClient, config: Config, args: argparse.Namespace) -> int:
    from hmtui.ui.app import HmtuiApp

    if args.phone and not args.inbox:
        raise UsageError("--phone needs --inbox too")
    if args.phone and not any(ch.isdigit() for ch in args.phone):
        raise UsageError(f"--phone must be a phone number, got {one_line(args.phone, 40)!r}")
    start_inbox = _id(args.inbox, "--inbox") if args.inbox else None
    if config.keymap:
        from hmtui.ui.keymap import KeymapError, validate_keymap

        try:
            config.keymap = validate_keymap(config.keymap)
        except KeymapError as exc:
            raise ConfigError(f"{config.path}: [keymap] {exc}") from None
    if config.theme:  # here, not at load: Textual's themes cost an import every CLI command would pay
        config.theme = check_theme(config.theme)
    store = open_store(config, args)
    # With nothing cached, ask for the inboxes now, so the request overlaps Textual's start-up
    # instead of following it. With a cache, the first frame comes from it and the request waits.
    inboxes = None
    if store is None or not store.inboxes():
        client.warm_up()
        inboxes = asyncio.ensure_future(client.inboxes())
    app = HmtuiApp(client, config=config, start_inbox=start_inbox, start_phone=args.phone, debug=args.debug,
                   prefetched_inboxes=inboxes, store=store)
    if config.theme:  # checked above; Textual's own themes are registered by App.__init__
        app.theme = config.theme
    printed = len(store.warnings) if store is not None else 0
    restore_signals = exit_on_signals(app)
    try:
        if getattr(args, "smoke", False):
            await app.run_async(headless=True, auto_pilot=smoke_pilot)
        else:
            await app.run_async()
    finally:
        restore_signals()
        # Cache problems of the session (shown in the app) also stay on the terminal after it.
        for warning in (store.warnings[printed:] if store is not None else []):
            print(f"hmtui: warning: {one_line(warning, 300)}", file=sys.stderr)
        if inboxes is not None and not inboxes.done():
            inboxes.cancel()
        elif inboxes is not None and not inboxes.cancelled():
            inboxes.exception()  # retrieved: a failure was shown in the app, not at exit
    return app.return_code or EXIT_OK


# A signal the TUI exits on as cleanly as on `q`: the terminal restored, queued cache writes
# flushed, the exit code the shell's usual 128 + signal number.
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
# How long a signalled exit may take before it is forced (cache writes are flushed first); after
# a hang-up nothing is shown any more, and Textual's exit may be stuck writing to the terminal.
EXIT_GRACE = 5.0
HANGUP_GRACE = 1.0
FORCED_FLUSH_TIMEOUT = 10.0


def exit_on_signals(app: Any) -> Callable[[], None]:
    """Make SIGTERM, SIGHUP and SIGINT exit `app` the normal way (their default action would kill
    the process with the terminal still in the alternate screen, mouse reporting on). A second
    one of the same signal, while exiting, gets its default action. Returns a function to call
    once the app has exited: it puts the previous handling back."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    received: set[signal.Signals] = set()
    exited = threading.Event()

    def on_signal(signum: signal.Signals) -> None:
        if signum in received:  # insisting: let it act, even if the terminal stays as it is
            loop.remove_signal_handler(signum)
            signal.raise_signal(signum)
            return
        received.add(signum)
        gone = not _terminal_alive()
        log.info("%s received: exiting%s", signum.name, " (the terminal is gone)" if gone else "")
        if gone:
            # After a hang-up every write to the terminal fails, and Textual's output thread dies
            # on the first one, which blocks its exit: let later writes go nowhere instead.
            _detach_output()
        app.exit(return_code=128 + signum)
        grace = HANGUP_GRACE if gone else EXIT_GRACE
        threading.Thread(target=_exit_if_stuck, args=(app, 128 + signum, exited, grace),
                         name="hmtui-exit-watchdog", daemon=True).start()

    for signum in EXIT_SIGNALS:
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not on this platform, or not the main thread
            continue
        installed.append(signum)

    def restore() -> None:
        exited.set()
        for signum in installed:
            loop.remove_signal_handler(signum)

    return restore


def _terminal_alive() -> bool:
    """False once the terminal has hung up (a write of nothing then fails with EIO)."""
    for stream in (sys.__stderr__, sys.__stdout__):
        try:
            if stream is not None:  # (isatty is already False after a hang-up)
                os.write(stream.fileno(), b"")
        except (OSError, ValueError):
            return False
    return True


def _detach_output() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.__stdout__, sys.__stderr__):
            if stream is not None:
                os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _exit_if_stuck(app: Any, code: int, exited: threading.Event, grace: float) -> None:
    """The last resort of a signalled exit: if the app has not finished within `grace` seconds,
    write what the cache writer holds and leave."""
    if exited.wait(grace):
        return
    log.warning("the exit did not finish within %g s: forcing it, after writing the cache", grace)
    writer = getattr(app, "writer", None)
    if writer is not None:
        writer.flush(FORCED_FLUSH_TIMEOUT)
        writer.close(FORCED_FLUSH_TIMEOUT)
    for cleanup in list(FORCED_EXIT_CLEANUPS):  # os._exit skips every `finally` (the demo's cache)
        try:
            cleanup()
        except Exception:  # noqa: BLE001
            pass
    logging.shutdown()
    os._exit(code)


async def cmd_inboxes(client: HeymarketClient, config: Config, args: argparse.Namespace) -> int:
    inboxes = await client.inboxes()
    _keep(config, args, lambda store: store.put_inboxes(inboxes))
    out = sys.stdout
    if args.json:
        for inbox in inboxes:
            out.write(_json_line(inbox.raw))
    else:
        print_inboxes(inboxes, out)
    return EXIT_OK


def print_inboxes(inboxes: Sequence[Inbox], out: TextIO) -> None:
    # The app's formatter, and every number the inbox has (the app shows "+N" for the others).
    rows = [[str(i.id), i.name, ", ".join(format_phone(p) for p in inbox_numbers(i.phone, i.phones)),
             str(len(i.members))] for i in inboxes]
    write_table(["ID", "NAME", "PHONE", "MEMBERS"], rows, out, width=table_width(out), shrink=(1, 2))


async def cmd_conversations(client: HeymarketClient, config: Config, args: argparse.Namespace) -> int:
    inbox_id = _id(args.inbox, "--inbox")
    member_id = await resolve_member(client, config, inbox_id, args.user)
    closed = {"open": False, "closed": True, "all": None}[args.status]
    unread = True if args.unread else None
    items: list[Conversation] = []
    stream = client.iter_conversations(inbox_id, member_id, closed=closed, unread=unread)
    async for conversation in stream:
        # Filter here too: a server that ignores a filter must not change what we print.
        if closed is not None and conversation.closed != closed:
            continue
        if unread and not conversation.unread:
            continue
        items.append(conversation)
        if args.json:
            sys.stdout.write(_json_line(conversation.raw))
        if args.limit is not None and len(items) >= args.limit:
            break
    _keep(config, args, lambda store: store.put_conversations(items))
    if not args.json:
        team = await client.team()
        names = {m.id: m.name for m in team.members}
        rows = [
            [str(c.id), c.display_name, _numbers_cell(c),
             c.status_label, "unread" if c.unread else "",
             names.get(c.assigned, str(c.assigned)) if c.assigned is not None else "",
             _local(c.updated), c.last_message or ""]
            for c in items
        ]
        write_table(["ID", "NAME", "NUMBER", "STATUS", "UNREAD", "ASSIGNED", "UPDATED", "LAST MESSAGE"],
                    rows, sys.stdout, last_width=60, width=table_width(sys.stdout),
                    shrink=(1, 5, 7))
    return EXIT_OK


async def resolve_member(client: HeymarketClient, config: Config, inbox_id: Id, user: str | None) -> Id:
    """The member id a list call is made as: --user, then the config's user_id, then the inbox's first member."""
    if user:
        return _id(user, "--user")
    if config.user_id is not None:
        return config.user_id
    inboxes = await client.inboxes()
    inbox = next((i for i in inboxes if i.id == inbox_id), None)
    if inbox is None:
        raise UsageError(f"no inbox with id {inbox_id}; `hmtui inboxes` lists them")
    if not inbox.members:
        raise UsageError(f"inbox {inbox_id} has no members; pass --user ID or set user_id in the config")
    return inbox.members[0]


async def cmd_history(client: HeymarketClient, config: Config, args: argparse.Namespace) -> int:
    inbox_id = _id(args.inbox, "--inbox")
    if not any(ch.isdigit() for ch in args.phone):
        raise UsageError(f"--phone must be a phone number, got {one_line(args.phone, 40)!r}")
    pager = client.message_pager(inbox_id, args.phone)
    newest_first = [m async for m in pager]
    target = normalize_phone(args.phone)

    def keep(store: Store) -> None:
        store.put_messages(inbox_id, target, newest_first)
        if pager.complete:  # a pager that gave up has no evidence that this is the whole thread
            store.mark_thread_complete(inbox_id, target)

    _keep(config, args, keep)
    if not newest_first:
        print(f"hmtui: no messages found for {one_line(args.phone, 40)} in inbox {inbox_id}", file=sys.stderr)
        return EXIT_OK
    out = sys.stdout
    for message in reversed(newest_first):
        if args.json:  # an export: every message, a hidden one marked by its own `hidden` field
            out.write(_json_line(message.raw))
        elif not message.hidden:
            out.write(format_message(message) + "\n")
    return EXIT_OK


def _keep(config: Config, args: argparse.Namespace, write: Callable[[Store], None]) -> None:
    """Write what a command fetched into the cache; a cache problem never fails the command."""
    try:
        store = open_store(config, args)
    except Exception:  # noqa: BLE001
        log.warning("cannot open the cache", exc_info=True)
        return
    if store is None:
        return
    shown = len(store.warnings)  # those of the open are printed already
    try:
        write(store)
    except Exception as exc:  # noqa: BLE001
        log.warning("cannot write to the cache", exc_info=True)
        if len(store.warnings) == shown:  # the store says why when it knows (a full disk)
            print(f"hmtui: warning: cannot write to the cache: {one_line(exc, 200)}", file=sys.stderr)
    finally:
        for warning in store.warnings[shown:]:
            print(f"hmtui: warning: {one_line(warning, 300)}", file=sys.stderr)
        store.close()


_ARROWS = {MessageKind.INBOUND: "<-", MessageKind.OUTBOUND: "->", MessageKind.NOTE: "note"}


def format_message(message: Message) -> str:
    """One message as plain text lines for a terminal, with control characters defused."""
    author = message.author or ("team (automated)" if message.automated else "?")
    head = f"{_local(message.date) or '????-??-?? ??:??'}  {_ARROWS[message.kind]:>4}  {one_line(author, 40)}"
    if message.kind is MessageKind.OUTBOUND and message.broadcast_id is not None:
        head += "  [broadcast]"
    if message.failed:
        head += f"  [{one_line(message.status or 'failed', 20)}]"
    lines = [head]
    body = clean_text(message.text).rstrip("\n")
    lines.extend("      " + line for line in body.split("\n") if body)
    for url in (message.media, message.link_url):
        if url:
            lines.append("      " + one_line(url, 300))
    if message.failure and message.kind is not MessageKind.INBOUND:
        lines.append("      not delivered: " + one_line(message.failure, 300))
    return "\n".join(lines)


def _local(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


DEFAULT_TABLE_WIDTH = 100  # when stdout is not a terminal and COLUMNS is not set
MIN_SHRUNK = 8  # a column cut to fit is first kept this wide (or its header's width)
TINY = 4  # ...and on a narrow terminal, down to this


def table_width(out: TextIO) -> int:
    """The terminal's width for a table: the tty's, else $COLUMNS, else DEFAULT_TABLE_WIDTH."""
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if tty:
        return shutil.get_terminal_size((DEFAULT_TABLE_WIDTH, 24)).columns
    return DEFAULT_TABLE_WIDTH


def char_cells(ch: str) -> int:
    """Cells a terminal gives one character (a spacing combining mark is one): `hmtui.cells`."""
    from hmtui import cells

    return cells.char_cells(ch)


def text_cells(text: str) -> int:
    """Cells `text` takes in a terminal, as the TUI measures it: `hmtui.cells`."""
    from hmtui import cells

    return cells.cell_len(text)


def fit_text(text: str, cells: int, *, pad: bool = False) -> str:
    """`text` in at most `cells` cells, ending in `…` when cut; padded with spaces to exactly
    `cells` if `pad`."""
    from hmtui import cells as _cells

    return _cells.fit(text, cells, pad=pad)


def write_table(headers: list[str], rows: list[list[str]], out: TextIO, *, last_width: int | None = None,
                width: int | None = None, shrink: Sequence[int] | None = None) -> None:
    """Aligned columns, measured in terminal cells so CJK and emoji line up; every cell cleaned.
    With `width`, the widest of the `shrink` columns (default: all) are cut, ending in `…`, until
    each line fits in it; ids, numbers and times stay whole when they are not listed."""
    cells = [[one_line(cell) for cell in row] for row in rows]
    if last_width is not None:
        cells = [row[:-1] + [one_line(row[-1], last_width)] for row in cells]
    widths = [max([text_cells(h)] + [text_cells(r[i]) for r in cells]) for i, h in enumerate(headers)]
    if width is not None:
        cuttable = set(range(len(headers)) if shrink is None else shrink)
        excess = sum(widths) + 2 * (len(widths) - 1) - width
        # First down to a readable floor (the header, or MIN_SHRUNK), then, on a narrow terminal,
        # to a few characters; a line still too wide is cut at the end (below).
        for floor_of in (lambda h: max(text_cells(h), MIN_SHRUNK), lambda h: TINY):
            floors = [min(w, floor_of(h)) if i in cuttable else w for i, (w, h) in enumerate(zip(widths, headers))]
            while excess > 0:
                i = max(range(len(widths)), key=lambda k: (widths[k] > floors[k], widths[k]))
                if widths[i] <= floors[i]:
                    break
                widths[i] -= 1
                excess -= 1
    last = len(headers) - 1
    for row in [headers, *cells]:
        padded = [fit_text(cell, widths[i], pad=i < last) for i, cell in enumerate(row)]
        line = "  ".join(padded).rstrip()
        out.write((fit_text(line, width) if width is not None else line) + "\n")


# -- sending: `hmtui send` and `hmtui outbox` (issue 9) ------------------------------------------

DEMO_CUSTOMER_DELAY = 4.0  # seconds before the demo's fake customer answers a reply


def _send_commands(sub: Any, sub_common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("send", parents=[sub_common], help="send a reply (or a private note) exactly once")
    p.add_argument("--inbox", metavar="ID", required=True, help="inbox id (see `hmtui inboxes`)")
    p.add_argument("--phone", metavar="NUMBER", required=True, help="the customer's number")
    p.add_argument("--note", action="store_true", help="an internal note: the customer never sees it")
    p.add_argument("--media", metavar="URL", help="attach a picture by its public URL (MMS)")
    p.add_argument("--queue", action="store_true",
                   help="if the server cannot be reached, leave the message in the outbox (exit 0) "
                        "instead of failing; `hmtui outbox send` sends it later")
    p.add_argument("text", metavar="TEXT", help="the message; - reads it from standard input")

    p = sub.add_parser("outbox", parents=[sub_common],
                       help="messages not yet confirmed by the server: list, send now, or drop one")
    p.add_argument("action", nargs="?", choices=("list", "send", "drop"), default="list",
                   help="list (default): what waits or failed; send: send what waits now; drop ID: discard one")
    p.add_argument("id", nargs="?", metavar="ID", help="with drop: the message's local id (or its first characters)")
    p.add_argument("--json", action="store_true", help="with list: JSON Lines, one message per line")


def _send_text(args: argparse.Namespace) -> str:
    text = args.text
    if text == "-":
        try:
            text = sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the message from standard input: {one_line(exc, 120)}") from None
        text = text[:-1] if text.endswith("\n") else text  # the newline `echo` adds is not part of it
    if not text.strip() and not args.media:
        raise UsageError("the message is empty")
    if args.media and urlsplit(args.media).scheme not in ("http", "https"):
        raise UsageError(f"--media must be a public http(s) URL, got {one_line(args.media, 60)!r}")
    return text


def _send_target(args: argparse.Namespace) -> str:
    if not args.phone or not any(ch.isdigit() for ch in args.phone):
        raise UsageError(f"--phone must be a phone number, got {one_line(args.phone or '', 40)!r}")
    return normalize_phone(args.phone)


def _outbox_store(config: Config, args: argparse.Namespace) -> Store:
    """The account's cache for the outbox; without one (--no-cache), an in-memory outbox."""
    store = open_store(config, args)
    return store if store is not None else Store.disabled()


async def _creator_for(client: HeymarketClient, config: Config, store: Store, inbox_id: Id) -> Id | None:
    """The member a message is sent as, resolved as triage resolves it. Offline, the cached
    inboxes (or the configured user_id) do; None if nothing can tell yet."""
    from hmtui.workspace.outbox import acting_member

    try:
        inboxes = await client.inboxes()
    except (NetworkError, ServerError, RateLimitedError) as exc:
        log.info("cannot list the inboxes to resolve the sender (%s)", exc)
        inboxes = store.inboxes()
        if not inboxes:
            return config.user_id
    inbox = next((i for i in inboxes if i.id == inbox_id), None)
    if inbox is None:
        raise UsageError(f"no inbox with id {inbox_id}; `hmtui inboxes` lists them")
    member = acting_member(inbox, config.user_id)
    if member is None:
        raise UsageError(f"inbox {inbox_id} has no members to send as; set user_id in the config")
    return member


async def cmd_send(client: HeymarketClient, config: Config, args: argparse.Namespace) -> int:
    from hmtui.workspace.outbox import Outbox

    inbox_id = _id(args.inbox, "--inbox")
    target = _send_target(args)
    text = _send_text(args)
    store = _outbox_store(config, args)
    try:
        if args.queue and not store.local_tables_durable:
            raise UsageError("--queue needs the cache, where the outbox is kept (not with --no-cache or cache = false)")
        creator = await _creator_for(client, config, store, inbox_id)
        outbox = Outbox(client, store, configured_member=config.user_id)
        entry = outbox.create(inbox_id, target, text, creator_id=creator, kind="note" if args.note else "reply",
                              media_url=args.media)
        result = await outbox.send_with_result(entry)
        ended = outbox.entry(entry.local_id)
        if result is not None and result.held:
            print(f"hmtui: held by the server, not sent: {one_line(result.held, 200)} (message id {result.id})",
                  file=sys.stderr)
            return EXIT_FAILURE
        if result is not None:
            print(result.id)
            if result.queued:
                print("hmtui: accepted by the server, queued for delivery", file=sys.stderr)
            return EXIT_OK
        assert ended is not None
        reason = one_line(ended.last_error or "unknown error", 240)
        if ended.state == "failed":  # refused: final, never retried
            outbox.drop(entry.local_id)
            print(f"hmtui: {reason}", file=sys.stderr)
            return EXIT_FAILURE
        if args.queue:
            print(f"queued {entry.local_id}")
            print(f"hmtui: {reason}; left in the outbox: `hmtui outbox send` sends it", file=sys.stderr)
            return EXIT_OK
        if ended.unclear:
            # It may be on the server: keep it, so a later send reads the thread back first.
            print(f"hmtui: {reason}. It is kept in the outbox as {entry.local_id}: `hmtui outbox send` "
                  "checks the thread before sending it again, `hmtui outbox drop` discards it", file=sys.stderr)
            return EXIT_FAILURE
        outbox.drop(entry.local_id)
        print(f"hmtui: {reason if reason.startswith('not sent') else 'not sent: ' + reason}", file=sys.stderr)
        return EXIT_FAILURE
    finally:
        store.close()


OUTBOX_ID_CHARS = 8  # the table shows a local id's first characters, as `outbox drop` takes them


def _outbox_rows(entries: Sequence[Any]) -> list[list[str]]:
    rows = []
    for e in entries:
        when = datetime.fromtimestamp(e.created).strftime("%Y-%m-%d %H:%M")
        status = e.state if e.state == "failed" else ("unclear" if e.unclear else "waiting")
        rows.append([e.local_id[:OUTBOX_ID_CHARS], str(e.inbox_id), format_phone(e.target) or e.target, e.kind,
                     status, str(e.attempts), when, clean_text(e.text).replace("\n", " "), e.last_error or ""])
    return rows


def run_outbox_offline(args: argparse.Namespace, config: Config) -> int:
    """`hmtui outbox [list]` and `hmtui outbox drop ID`: the cache only, no request."""
    if not config.secret_id:
        raise UsageError("whose outbox? no credentials are set (HEYMARKET_SECRET_ID)")
    store = open_store(config, args)
    if store is None:
        raise UsageError("the outbox is kept in the cache, which is turned off (--no-cache or cache = false)")
    try:
        entries = store.outbox_entries()
        if args.action == "drop":
            if not args.id:
                raise UsageError("which message? `hmtui outbox` lists their ids")
            matches = [e for e in entries if e.local_id == args.id] or [
                e for e in entries if len(args.id) >= 4 and e.local_id.startswith(args.id)]
            if not matches:
                raise UsageError(f"no message {one_line(args.id, 40)!r} in the outbox; `hmtui outbox` lists them")
            if len(matches) > 1:
                raise UsageError(f"{one_line(args.id, 40)!r} matches {len(matches)} messages: give more of the id")
            store.outbox_drop(matches[0].local_id)
            print(f"dropped {matches[0].local_id}")
            return EXIT_OK
        if args.json:
            for e in entries:
                sys.stdout.write(_json_line({"local_id": e.local_id, "inbox_id": e.inbox_id, "target": e.target,
                                             "kind": e.kind, "text": e.text, "state": e.state,
                                             "unclear": e.unclear, "attempts": e.attempts,
                                             "last_error": e.last_error, "created": e.created,
                                             "media_url": e.media_url}))
        elif entries:
            write_table(["ID", "INBOX", "TO", "KIND", "STATE", "TRIES", "CREATED", "MESSAGE", "LAST ERROR"],
                        _outbox_rows(entries), sys.stdout, last_width=80, width=table_width(sys.stdout),
                        shrink=(7, 8))
        if not entries:
            print("hmtui: the outbox is empty", file=sys.stderr)
        return EXIT_OK
    finally:
        store.close()


async def cmd_outbox_send(client: HeymarketClient, config: Config, args: argparse.Namespace) -> int:
    """`hmtui outbox send`: send what waits, oldest first, each once."""
    from hmtui.workspace.outbox import Outbox

    store = open_store(config, args)
    if store is None:
        raise UsageError("the outbox is kept in the cache, which is turned off (--no-cache or cache = false)")
    try:
        outbox = Outbox(client, store, configured_member=config.user_id)
        waiting = outbox.waiting()
        if not waiting:
            print("hmtui: nothing waits in the outbox", file=sys.stderr)
            return EXIT_OK
        outcomes = await outbox.flush_with_results()
        left = 0
        for entry, result in outcomes:
            if result is not None and not result.held:
                print(f"sent {entry.local_id} as {result.id}")
            elif result is not None:
                print(f"held {entry.local_id}: {one_line(result.held or '', 160)} (message id {result.id})")
                left += 1
            else:
                ended = outbox.entry(entry.local_id)
                state = ended.state if ended is not None else "queued"
                word = "refused" if state == "failed" else "still waiting"
                print(f"{word} {entry.local_id}: {one_line((ended.last_error if ended else '') or '', 160)}")
                left += 1
        untried = len(waiting) - len(outcomes)
        if untried:
            print(f"hmtui: {untried} more not tried: the server cannot be reached", file=sys.stderr)
        return EXIT_OK if not left and not untried else EXIT_FAILURE
    finally:
        store.close()


# -- the fake server -----------------------------------------------------------------------------


def _fake_server(args: argparse.Namespace, *, port: int = 0, host: str = "127.0.0.1") -> Any:
    from hmtui.fake import FakeHeymarket, FakeOptions

    options = FakeOptions(cursor=args.cursor, order=args.order, latency=max(args.latency, 0.0),
                          profile=args.profile)
    options.rate_limit = args.rate_limit
    options.count_filters, options.count_shape, options.feed_cursor = (
        args.count_filters, args.count_shape, args.feed_cursor)
    if args.page_size:
        options.conversation_page_size = args.page_size
    if args.message_page_size:
        options.message_page_size = args.message_page_size
    if getattr(args, "customer_replies", None) is not None:
        options.customer_replies = args.customer_replies
    return FakeHeymarket(seed=args.seed, options=options, host=host, port=port)


def run_fake_server(args: argparse.Namespace) -> int:
    try:
        server = _fake_server(args, port=args.port, host=args.host).start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    print(f"Fake Heymarket listening on {server.url} (seed {args.seed}, {args.profile} profile, "
          f"{args.cursor} cursor, {args.order} pages)")
    print(f"  export HEYMARKET_BASE_URL={server.url}")
    print(f"  export HEYMARKET_SECRET_ID={server.secret_id}")
    print(f"  export HEYMARKET_SECRET_KEY={server.secret_key}")
    print("Demo credentials only. Press Ctrl-C to stop.", flush=True)
    if server.options.customer_replies:
        server.customer.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def run_demo(args: argparse.Namespace) -> int:
    with demo_cache(args):
        server = _fake_server(args).start()
        try:
            if server.options.customer_replies is None:
                server.options.customer_replies = DEMO_CUSTOMER_DELAY
            if server.options.customer_replies > 0:
                server.customer.start()  # the fake customer answers a reply a few seconds later
            config = load_config(account=getattr(args, "account", None))
            config.secret_id, config.secret_key, config.base_url = server.secret_id, server.secret_key, server.url
            config.secret_key_command = None  # the demo's key is the fake server's: run nothing
            config.user_id = None  # the demo team's ids, not the user's own account
            config.account = None  # nor the name of one of the user's accounts
            # The demo's server is private to it: no team shares its budget, so unless the config
            # asks for another pace, keep to the server's own limit.
            if config.max_requests_per_minute == DEFAULT_MAX_REQUESTS_PER_MINUTE:
                config.max_requests_per_minute = min(server.options.rate_limit or 500, 500)
            return asyncio.run(_with_client(config, args, cmd_tui))
        finally:
            server.stop()


# -- issue 12 and issue 10 item 2 (the `daily` block): accounts, completion, the demo's cache ----

DAILY_COMMANDS = ("accounts", "completion")
COMPLETION_SHELLS = ("bash", "zsh", "fish")
# What the forced exit (_exit_if_stuck) runs before os._exit, which skips every `finally`.
FORCED_EXIT_CLEANUPS: list[Callable[[], None]] = []
DEMO_CACHE_PREFIX = "hmtui-demo-"


def _account_option(parent: argparse.ArgumentParser, default: object) -> None:
    parent.add_argument("--account", metavar="NAME", default=default,
                        help="use the config's [accounts.NAME] (default: $HMTUI_ACCOUNT, else default_account; "
                             "`hmtui accounts` lists them)")


def _demo_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--smoke", action="store_true",
                   help="open headless, wait until the first screen is loaded, and quit: exit 0 if it "
                        "loaded (an install check)")


def _daily_commands(sub: Any, sub_common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("accounts", parents=[sub_common],
                       help="list the config's accounts (base URL and secret id, never the key)")
    p.add_argument("--json", action="store_true", help="JSON Lines: one account per line")
    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)")
    p.add_argument("shell", choices=COMPLETION_SHELLS, help="the shell to complete for")


def run_daily_command(args: argparse.Namespace) -> int:
    if args.command == "completion":
        from hmtui.completion import completion_script

        sys.stdout.write(completion_script(build_parser(), args.shell))
        return EXIT_OK
    return cmd_accounts(args, _load(args, need_credentials=False))


def cmd_accounts(args: argparse.Namespace, config: Config) -> int:
    """The config's accounts: never a key, nor whether a command would give one (none is run)."""
    if not config.accounts:
        print(f"hmtui: no accounts in {config.path}", file=sys.stderr)
        return EXIT_OK
    chosen = config.account
    if args.json:
        for account in config.accounts:
            sys.stdout.write(_json_line({
                "name": account.name, "base_url": account.base_url, "secret_id": account.secret_id,
                "key": account.key_source, "default": account.default, "selected": account.name == chosen,
            }))
        return EXIT_OK
    rows = []
    for account in config.accounts:
        mark = ("*" if account.default else "") + ("<" if account.name == chosen and config.account_problem is None
                                                  else "")
        key = {"secret_key_command": "command", "secret_key": "in the file", "none": "not set"}[account.key_source]
        rows.append([mark, account.name or "(top level)", account.base_url, account.secret_id or "not set", key])
    write_table(["", "NAME", "BASE URL", "SECRET ID", "KEY"], rows, sys.stdout, width=table_width(sys.stdout),
                shrink=(1, 2, 3))
    print("* default account   < the one this command would use", file=sys.stderr)
    return EXIT_OK


class demo_cache:  # noqa: N801 - used as a context manager, like contextlib's
    """The demo's own cache: a private temporary directory (0700) made on entry and deleted on
    every way out: a normal exit, an exception, SIGTERM or SIGHUP (handled in the app by
    exit_on_signals, before it by the handlers here), and the forced exit. `--no-cache` (or
    `cache = false`) makes none. A demo killed outright (SIGKILL) leaves its directory: the next
    demo deletes those of processes that are gone."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.directory: str | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> demo_cache:
        import tempfile

        if getattr(self.args, "no_cache", False):
            return self
        _sweep_stale_demo_caches(tempfile.gettempdir())
        self.directory = tempfile.mkdtemp(prefix=f"{DEMO_CACHE_PREFIX}{os.getpid()}-")
        self.args.demo_cache_dir = Path(self.directory)
        FORCED_EXIT_CLEANUPS.append(self.remove)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            try:
                self._previous[signum] = signal.signal(signum, _exit_by_signal)
            except (ValueError, OSError, AttributeError):  # not the main thread, or not POSIX
                continue
        return self

    def remove(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            try:
                signal.signal(signum, previous)
            except (ValueError, OSError):
                pass
        self.remove()
        if self.remove in FORCED_EXIT_CLEANUPS:
            FORCED_EXIT_CLEANUPS.remove(self.remove)


def _exit_by_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through demo_cache.__exit__


def _sweep_stale_demo_caches(temp: str) -> None:
    """Delete the demo caches of demos that are no longer running (killed with SIGKILL)."""
    try:
        entries = list(Path(temp).glob(f"{DEMO_CACHE_PREFIX}*"))
    except OSError:
        return
    for entry in entries:
        pid_text = entry.name[len(DEMO_CACHE_PREFIX):].split("-", 1)[0]
        try:
            if not pid_text.isdigit() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except (OSError, AttributeError):
            continue


async def smoke_pilot(pilot: Any) -> None:
    """`hmtui demo --smoke`: wait (bounded, no clock) until the app is idle with its first screen
    loaded, then quit: 0 if the status line says connected, 1 otherwise."""
    from hmtui.ui.scenes import settle

    app = pilot.app
    await settle(pilot)
    state = getattr(getattr(getattr(app, "main", None), "status", None), "state", None)
    app.exit(return_code=EXIT_OK if state == "ok" else EXIT_FAILURE)
