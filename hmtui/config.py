"""Settings: environment variables first, then config.toml in the platformdirs config dir."""

from __future__ import annotations

import difflib
import math
import os
import stat
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
              "cache", "keymap", "max_requests_per_minute")
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

    @property
    def has_credentials(self) -> bool:
        return bool(self.secret_id and self.secret_key)

    def http_timeout(self) -> httpx.Timeout:
        # Connecting should be quick; a slow answer gets the full timeout.
        return httpx.Timeout(self.timeout, connect=min(self.timeout, 6.0))

    def missing_credentials_message(self) -> str:
        where = self.path or config_path()
        return (
            f"no Heymarket credentials: set {ENV_SECRET_ID} and {ENV_SECRET_KEY}, or secret_id and "
            f"secret_key in {where}; or try `hmtui demo` to explore without an account"
        )


def load_config(environ: Mapping[str, str] | None = None, path: Path | None = None) -> Config:
    """Read the config file (if any), then let the environment override it."""
    env = os.environ if environ is None else environ
    path = path or config_path()
    config = Config(path=path)
    data = _read_toml(path, config.warnings)
    _apply_file(config, data, path)
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
        if key not in KNOWN_KEYS:
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
