"""Settings: environment variables first, then config.toml in the platformdirs config dir."""

from __future__ import annotations

import difflib
import math
import os
import shlex
import signal
import stat
import subprocess
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import platformdirs

from hmtui.api.client import DEFAULT_BASE_URL
from hmtui.api.models import Id, parse_id
from hmtui.safe_text import one_line

APP_NAME = "hmtui"
ENV_SECRET_ID = "HEYMARKET_SECRET_ID"
ENV_SECRET_KEY = "HEYMARKET_SECRET_KEY"
ENV_BASE_URL = "HEYMARKET_BASE_URL"
# Lets tests and unusual set-ups point at another config file.
ENV_CONFIG = "HMTUI_CONFIG"
# Picks one of the config's [accounts.NAME] (like --account NAME).
ENV_ACCOUNT = "HMTUI_ACCOUNT"

DEFAULT_REFRESH_INTERVAL = 15.0
DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 4
# Bounds past which a value is a typo, not a choice (a billion retries would never give up).
MAX_REFRESH_INTERVAL = 86_400.0
MAX_TIMEOUT = 600.0
MAX_RETRIES = 20
MAX_ID = 2**63 - 1

# Every setting the file may hold; anything else is probably misspelled (a warning, not an error).
KNOWN_KEYS = ("secret_id", "secret_key", "base_url", "user_id", "refresh_interval", "timeout", "retries",
              "cache", "keymap", "max_requests_per_minute",
              # issue 12 (the daily driver): see the blocks at the end of this module
              "secret_key_command", "theme", "notify", "notify_command", "notify_scope",
              "thread_scroll")
# Keys only the top level may hold.
TOP_LEVEL_ONLY = ("default_account", "accounts")
# Keys that say which Heymarket account a table is: an [accounts.NAME] table never inherits them
# from the top level (that would send one team's key to another's server); every other key set
# at the top level is the default of every account.
IDENTITY_KEYS = ("secret_id", "secret_key", "secret_key_command", "base_url", "user_id")
# This client's share of the team's 500 requests a minute (Heymarket's limit, shared by every agent).
DEFAULT_MAX_REQUESTS_PER_MINUTE = 60
TEAM_REQUESTS_PER_MINUTE = 500


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to fix, in one line."""


def config_path() -> Path:
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override).expanduser()
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME)


@dataclass
class Config:
    secret_id: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    base_url: str = DEFAULT_BASE_URL
    user_id: Id | None = None
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    max_requests_per_minute: int = DEFAULT_MAX_REQUESTS_PER_MINUTE
    cache: bool = True
    keymap: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    # -- issue 12 --
    # The [accounts.NAME] this config is for; None: the top-level keys (the unnamed account).
    account: str | None = None
    # Every account the file names, for `hmtui accounts` and the TUI's account switch.
    accounts: list[AccountSummary] = field(default_factory=list)
    default_account: str | None = None
    # A command printing the secret key (run once, when credentials are needed: resolve_secret_key).
    secret_key_command: str | None = None
    theme: str | None = None
    notify: str = "auto"
    notify_command: list[str] | None = None
    notify_scope: str = "mine"
    thread_scroll: str = "jump"  # "line": j scrolls the thread by the message (see THREAD_SCROLLS)
    # Why no account could be chosen (several accounts and no default); said when one is needed.
    account_problem: str | None = None

    @property
    def has_credentials(self) -> bool:
        return bool(self.secret_id and self.secret_key)

    def resolve_secret_key(self, timeout: float | None = None) -> None:
        """Run secret_key_command, if the key is not set otherwise (the environment, the file).
        Call only where credentials are needed; raises ConfigError in one line."""
        if self.secret_key or not self.secret_key_command:
            return
        where = f"accounts.{self.account}." if self.account else ""
        self.secret_key = run_key_command(self.secret_key_command, what=f"{where}secret_key_command",
                                          timeout=KEY_COMMAND_TIMEOUT if timeout is None else timeout)

    def http_timeout(self) -> httpx.Timeout:
        # Connecting should be quick; a slow answer gets the full timeout.
        return httpx.Timeout(self.timeout, connect=min(self.timeout, 6.0))

    def missing_credentials_message(self) -> str:
        if self.account_problem:
            return self.account_problem
        where = self.path or config_path()
        if self.account:
            return (f"account {self.account!r} has no credentials: set secret_id and secret_key_command "
                    f"(or secret_key) in [accounts.{self.account}] of {where}")
        return (
            f"no Heymarket credentials: set {ENV_SECRET_ID} and {ENV_SECRET_KEY}, or secret_id and "
            f"secret_key in {where}; or try `hmtui demo` to explore without an account"
        )


def load_config(environ: Mapping[str, str] | None = None, path: Path | None = None, *,
                account: str | None = None) -> Config:
    """Read the config file (if any), then let the environment override it. `account` (from
    --account, else $HMTUI_ACCOUNT, else default_account) picks one of its [accounts.NAME]."""
    env = os.environ if environ is None else environ
    path = path or config_path()
    config = Config(path=path)
    data = _read_toml(path, config.warnings)
    data = _choose_account(config, data, path, account or env.get(ENV_ACCOUNT, "").strip() or None)
    _apply_file(config, data, path)
    _apply_daily(config, data, path)
    if env.get(ENV_SECRET_ID):
        config.secret_id = env[ENV_SECRET_ID].strip()
    if env.get(ENV_SECRET_KEY):
        config.secret_key = env[ENV_SECRET_KEY].strip()
    if env.get(ENV_BASE_URL):
        config.base_url = env[ENV_BASE_URL].strip()
    return config


def _read_toml(path: Path, warnings: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
            mode = os.fstat(handle.fileno()).st_mode
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                          "save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.append(
            f"{path} is readable by other users and may hold your secret key: run chmod 600 {path}"
        )
    return data


def _apply_file(config: Config, data: Mapping[str, Any], path: Path) -> None:
    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string")
        return value.strip() or None

    for key in data:
        if key not in KNOWN_KEYS and key not in TOP_LEVEL_ONLY:
            guess = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            hint = f" (did you mean {guess[0]}?)" if guess else f" (known: {', '.join(KNOWN_KEYS)})"
            config.warnings.append(f"{path}: unknown setting {one_line(key, 40)!r} ignored{hint}")
    config.secret_id = text("secret_id")
    config.secret_key = text("secret_key")
    config.base_url = text("base_url") or config.base_url
    if "user_id" in data:
        user_id = parse_id(data["user_id"])
        if not isinstance(user_id, int) or not 0 < user_id <= MAX_ID:
            raise ConfigError(f"{path}: user_id must be a member id (a positive number)")
        config.user_id = user_id
    config.refresh_interval = _number(data, "refresh_interval", path, minimum=1, maximum=MAX_REFRESH_INTERVAL,
                                      default=config.refresh_interval)
    config.timeout = _number(data, "timeout", path, minimum=0.1, maximum=MAX_TIMEOUT, default=config.timeout)
    config.retries = int(_number(data, "retries", path, minimum=0, maximum=MAX_RETRIES, default=config.retries,
                                 whole=True))
    config.max_requests_per_minute = _requests_per_minute(data, path, config.max_requests_per_minute)
    if "cache" in data:
        if not isinstance(data["cache"], bool):
            raise ConfigError(f"{path}: cache must be true or false")
        config.cache = data["cache"]
    keymap = data.get("keymap", {})
    if not isinstance(keymap, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keymap.items()
    ):
        raise ConfigError(f'{path}: [keymap] must map binding ids to keys, e.g. "conversation.close" = "x"')
    config.keymap = dict(keymap)


def _requests_per_minute(data: Mapping[str, Any], path: Path, default: int) -> int:
    value = data.get("max_requests_per_minute", default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= TEAM_REQUESTS_PER_MINUTE:
        raise ConfigError(f"{path}: max_requests_per_minute must be a whole number from 1 to "
                          f"{TEAM_REQUESTS_PER_MINUTE} (the team's limit)")
    return value


def _number(data: Mapping[str, Any], key: str, path: Path, *, minimum: float, maximum: float, default: float,
            whole: bool = False) -> float:
    if key not in data:
        return default
    value = data[key]
    ok = isinstance(value, int) if whole else isinstance(value, (int, float))
    # nan compares false with everything and inf is no deadline: both are refused here.
    if isinstance(value, bool) or not ok or not math.isfinite(value) or not minimum <= value <= maximum:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{path}: {key} must be {kind} from {minimum:g} to {maximum:g}, not {one_line(value, 30)}")
    return float(value)


# --- issue 12: several accounts ------------------------------------------------------------------


@dataclass(frozen=True)
class AccountSummary:
    """One account of the config file as `hmtui accounts` shows it: never its key."""

    name: str | None  # None: the top-level keys
    base_url: str
    secret_id: str | None
    key_source: str  # "secret_key_command", "secret_key" or "none"
    default: bool


def _table_text(table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    return value.strip() or None if isinstance(value, str) else None


def _summary(name: str | None, table: Mapping[str, Any], default: bool) -> AccountSummary:
    source = ("secret_key_command" if _table_text(table, "secret_key_command")
              else "secret_key" if _table_text(table, "secret_key") else "none")
    return AccountSummary(name=name, base_url=_table_text(table, "base_url") or DEFAULT_BASE_URL,
                          secret_id=_table_text(table, "secret_id"), key_source=source, default=default)


def _names(accounts: Mapping[str, Any]) -> str:
    return ", ".join(one_line(n, 40) for n in sorted(accounts)) or "none"


def _choose_account(config: Config, data: Mapping[str, Any], path: Path, wanted: str | None) -> dict[str, Any]:
    """The settings of the chosen account: its [accounts.NAME] table over the top level's
    settings (but never the top level's identity: IDENTITY_KEYS). Records every account."""
    accounts = data.get("accounts", {})
    if not isinstance(accounts, Mapping) or not all(isinstance(t, Mapping) for t in accounts.values()):
        raise ConfigError(f'{path}: accounts must be tables, e.g. [accounts.work] with secret_id = "..."')
    default = data.get("default_account")
    if default is not None:
        if not isinstance(default, str) or not default.strip():
            raise ConfigError(f"{path}: default_account must be the name of one of the [accounts.NAME] tables")
        if default not in accounts:
            raise ConfigError(f"{path}: default_account {one_line(default, 40)!r} is not one of the accounts "
                              f"({_names(accounts)})")
    config.default_account = default
    top_level_identity = any(k in data for k in IDENTITY_KEYS)
    if top_level_identity or not accounts:
        config.accounts.append(_summary(None, data, default is None))
    config.accounts.extend(_summary(str(n), accounts[n], n == default) for n in sorted(accounts))
    if wanted is not None and wanted not in accounts:
        where = f"the config has: {_names(accounts)}" if accounts else f"{path} has no [accounts.NAME] tables"
        raise ConfigError(f"no account named {one_line(wanted, 40)!r} ({where})")
    name = wanted or default
    if name is None and accounts and not top_level_identity:
        if len(accounts) == 1:
            name = next(iter(accounts))
        else:
            config.account_problem = (f"{path} has {len(accounts)} accounts ({_names(accounts)}) and no "
                                      "default_account: pick one with --account NAME (or HMTUI_ACCOUNT), "
                                      "or set default_account")
    settings = {k: v for k, v in data.items() if k not in TOP_LEVEL_ONLY}
    if name is None:
        return settings
    table = accounts[name]
    for key in IDENTITY_KEYS:
        settings.pop(key, None)
    for key, value in table.items():
        if key in TOP_LEVEL_ONLY:
            config.warnings.append(f"{path}: {key} belongs at the top level, not in [accounts.{one_line(name, 40)}]: "
                                   "ignored")
        elif key == "keymap" and isinstance(value, Mapping) and isinstance(settings.get("keymap"), Mapping):
            settings["keymap"] = {**settings["keymap"], **value}  # the account's bindings over the shared ones
        else:
            settings[key] = value
    config.account = str(name)
    return settings


# --- issue 12: keys out of plain text, notifications, theme ---------------------------------------

# `pass` may wait on gpg-agent's pinentry for a passphrase: long enough for a person to type it.
KEY_COMMAND_TIMEOUT = 60.0
# Each command's key, once found: "run once per process" (the TUI's account switch asks again).
_KEYS_FOUND: dict[tuple[str, ...], str] = {}

NOTIFY_MODES = ("auto", "terminal", "bell", "command", "off")
NOTIFY_SCOPES = ("mine", "all", "none")
# How j / k scroll the thread when the selection leaves the screen: by half a screen, or just
# enough to show the message (each such key then redraws the whole pane).
THREAD_SCROLLS = ("jump", "line")


def _split_command(value: object, key: str, path: Path) -> list[str]:
    """A command line as argv, split like a shell would but never run by one."""
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if not isinstance(value, str):
        raise ConfigError(f'{path}: {key} must be a command line (a string, e.g. "pass show heymarket/api-key")')
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise ConfigError(f"{path}: {key} is not a valid command line ({exc})") from None
    if not argv:
        raise ConfigError(f"{path}: {key} is empty")
    return argv


def _apply_daily(config: Config, data: Mapping[str, Any], path: Path) -> None:
    if "secret_key_command" in data:
        if "secret_key" in data:
            raise ConfigError(f"{path}: set secret_key_command or secret_key, not both "
                              "(secret_key_command keeps the key out of this file)")
        _split_command(data["secret_key_command"], "secret_key_command", path)  # a typo fails now, not later
        config.secret_key_command = str(data["secret_key_command"]).strip()
    if "theme" in data:
        theme = data["theme"]
        if not isinstance(theme, str) or not theme.strip():
            raise ConfigError(f'{path}: theme must be the name of a Textual theme, e.g. "nord"')
        config.theme = theme.strip()
    config.notify = _choice(data, "notify", NOTIFY_MODES, path, config.notify)
    config.notify_scope = _choice(data, "notify_scope", NOTIFY_SCOPES, path, config.notify_scope)
    config.thread_scroll = _choice(data, "thread_scroll", THREAD_SCROLLS, path, config.thread_scroll)
    if "notify_command" in data:
        config.notify_command = _split_command(data["notify_command"], "notify_command", path)
    if config.notify == "command" and not config.notify_command:
        raise ConfigError(f'{path}: notify = "command" needs notify_command, e.g. notify_command = "notify-send"')


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...], path: Path, default: str) -> str:
    value = data.get(key, default)
    if value not in choices:
        raise ConfigError(f"{path}: {key} must be one of {', '.join(choices)}, not {one_line(value, 30)!r}")
    return str(value)


def run_key_command(command: str, *, what: str = "secret_key_command", timeout: float = KEY_COMMAND_TIMEOUT) -> str:
    """The first line of what `command` prints: run without a shell, once per process, within
    `timeout` seconds. Every failure is one line that names the program, never its output (it
    may hold the key, or part of it)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"{what} is not a valid command line ({exc})") from None
    if not argv:
        raise ConfigError(f"{what} is empty")
    found = _KEYS_FOUND.get(tuple(argv))
    if found is not None:
        return found
    program = one_line(os.path.basename(argv[0]), 40)
    hint = f"run `{program} ...` yourself to see why"
    try:
        # Its own session, so a timeout ends the whole group (a script's children too); its
        # output is captured and dropped, stdin is closed (a prompt must use the terminal itself).
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        raise ConfigError(f"{what}: cannot run {program}: {exc.strerror or type(exc).__name__}") from None
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise ConfigError(f"{what} ({program}) gave no key within {timeout:g} s; {hint}") from None
    if process.returncode != 0:
        status = (f"was killed by signal {-process.returncode}" if process.returncode < 0
                  else f"failed with exit status {process.returncode}")
        raise ConfigError(f"{what} ({program}) {status}; {hint}")
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} ({program}) printed something that is not UTF-8 text") from None
    # `pass` convention: the key is the first line (later lines may hold notes).
    key = text.split("\n", 1)[0].strip()
    if not key:
        raise ConfigError(f"{what} ({program}) printed no key on its first line")
    _KEYS_FOUND[tuple(argv)] = key
    return key


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    try:
        process.communicate(timeout=5)
    except (subprocess.TimeoutExpired, OSError, ValueError):
        pass  # a grandchild holding the pipe open: its output is not waited for


def check_theme(name: str | None, extra: tuple[str, ...] = ()) -> str | None:
    """The config's theme if Textual (or `extra`, the app's own themes) has it; ConfigError
    otherwise. Called at the TUI's start, not at load: importing textual.theme costs about
    0.3 s, which every CLI command would pay."""
    if name is None:
        return None
    from textual.theme import BUILTIN_THEMES

    known = sorted({*BUILTIN_THEMES, *extra})
    if name in known:
        return name
    guess = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {guess[0]}?" if guess else f"known: {', '.join(known)}"
    raise ConfigError(f"theme {one_line(name, 40)!r} is not a Textual theme ({hint})")
