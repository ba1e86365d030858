"""Issue 12 without its TUI wiring: the key command, several accounts, notifications config,
themes, shell completion and the non-editable install's smoke; issue 10 item 2's demo cache
on signals and crashes."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hmtui import config as config_module
from hmtui.config import ConfigError, check_theme, load_config, run_key_command
from hmtui.fake import FakeHeymarket, FakeOptions

from conftest import ANCHOR, SEED, env_for, run_cli

KEY_SCRIPT = """import sys
from pathlib import Path
count = Path(sys.argv[1])
count.write_text(str(int(count.read_text() or 0) + 1) if count.exists() else "1")
print(sys.argv[2])
print("url: https://example.invalid (a note on pass's later lines)")
"""
FAIL_SCRIPT = """import sys
print("sk_live_LEAKED_KEY_0123456789")
print("gpg: decryption failed: sk_live_LEAKED_KEY_0123456789", file=sys.stderr)
sys.exit(3)
"""
HANG_SCRIPT = "import time\ntime.sleep(600)\n"
EMPTY_SCRIPT = "print()\n"
LEAK = "sk_live_LEAKED_KEY_0123456789"


@pytest.fixture(autouse=True)
def forget_found_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test is its own "process" for the once-per-process rule."""
    monkeypatch.setattr(config_module, "_KEYS_FOUND", {})


def script(tmp_path: Path, name: str, text: str, *args: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return shlex.join([sys.executable, str(path), *args])


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


def toml(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


# -- secret_key_command -----------------------------------------------------------------------------


def test_the_key_command_gives_the_first_line_once_per_process(tmp_path: Path) -> None:
    count = tmp_path / "count"
    command = script(tmp_path, "key.py", KEY_SCRIPT, str(count), "the-key-from-pass")
    path = write_config(tmp_path, f'secret_id = "id"\nsecret_key_command = {toml(command)}\n')
    config = load_config({}, path)
    assert config.secret_key is None and not count.exists()  # loading runs nothing
    config.resolve_secret_key()
    assert config.secret_key == "the-key-from-pass" and config.has_credentials
    again = load_config({}, path)
    again.resolve_secret_key()
    assert again.secret_key == "the-key-from-pass" and count.read_text() == "1"  # run once
    # The environment's key wins, and then nothing runs at all.
    env_config = load_config({"HEYMARKET_SECRET_KEY": "from-env"}, path)
    env_config.resolve_secret_key()
    assert env_config.secret_key == "from-env"


@pytest.mark.parametrize("body, needle", [(FAIL_SCRIPT, "exit status 3"), (EMPTY_SCRIPT, "no key"),
                                          (HANG_SCRIPT, "no key within 0.5 s")],
                         ids=["failure", "empty", "timeout"])
def test_a_failing_key_command_is_one_line_without_its_output(tmp_path: Path, body: str, needle: str) -> None:
    command = script(tmp_path, "cmd.py", body)
    with pytest.raises(ConfigError) as caught:
        run_key_command(command, timeout=0.5)
    message = str(caught.value)
    assert needle in message and "\n" not in message
    assert LEAK not in message and "gpg" not in message
    assert "python" in message  # names the program, so the user knows what to run


def test_a_key_command_that_cannot_run_or_is_misquoted(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot run"):
        run_key_command(str(tmp_path / "no-such-program"))
    with pytest.raises(ConfigError, match="not a valid command line"):
        load_config({}, write_config(tmp_path, "secret_key_command = 'pass show \"unclosed'\n"))
    with pytest.raises(ConfigError, match="not both"):
        load_config({}, write_config(tmp_path, 'secret_key = "k"\nsecret_key_command = "pass show x"\n'))


def test_the_cli_uses_the_key_command_and_never_shows_the_key(server: FakeHeymarket, isolated_env: dict[str, str],
                                                              tmp_path: Path) -> None:
    count = tmp_path / "count"
    command = script(tmp_path, "key.py", KEY_SCRIPT, str(count), server.secret_key)
    write_config(tmp_path, f"secret_key_command = {toml(command)}\n")
    env = env_for(server, isolated_env)
    del env["HEYMARKET_SECRET_KEY"]
    result = run_cli("--debug", "inboxes", env=env)
    assert result.returncode == 0, result.stderr
    assert "Support" in result.stdout and count.read_text() == "1"
    logs = "".join(p.read_text(errors="replace") for p in (tmp_path / "state").rglob("*.log*"))
    assert logs  # something was logged (with --debug, on stderr too)
    for text in (result.stdout, result.stderr, logs):
        assert server.secret_key not in text
    # A failing command: exit 2, one line, nothing of what it printed.
    write_config(tmp_path, f"secret_key_command = {toml(script(tmp_path, 'fail.py', FAIL_SCRIPT))}\n")
    result = run_cli("inboxes", env=env)
    assert result.returncode == 2 and LEAK not in result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "secret_key_command" in result.stderr


def test_commands_that_need_no_key_never_run_the_command(isolated_env: dict[str, str], tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = script(tmp_path, "key.py", KEY_SCRIPT, str(marker), "k")
    write_config(tmp_path, f'secret_id = "id"\nsecret_key_command = {toml(command)}\n'
                           f'[accounts.work]\nsecret_id = "w"\nsecret_key_command = {toml(command)}\n')
    for args in (["cache", "info"], ["accounts"], ["--version"], ["completion", "bash"],
                 ["--account", "work", "accounts"], ["demo", "--smoke"]):
        result = run_cli(*args, env=isolated_env)
        assert result.returncode == 0, (args, result.stderr)
        assert not marker.exists(), args
    assert "hmtui" in run_cli("--version", env=isolated_env).stdout


# -- several accounts -------------------------------------------------------------------------------

ACCOUNTS = """
refresh_interval = 30
theme = "nord"
default_account = "support"

[accounts.support]
secret_id = "id-support"
secret_key = "key-support-0123456789"
base_url = "http://127.0.0.1:9"
user_id = 101

[accounts.sales]
secret_id = "id-sales"
secret_key_command = "pass show heymarket/sales"
refresh_interval = 60
"""


def test_accounts_pick_and_inherit(tmp_path: Path) -> None:
    path = write_config(tmp_path, ACCOUNTS)
    chosen = load_config({}, path)
    assert chosen.account == "support" and chosen.secret_id == "id-support" and chosen.user_id == 101
    assert chosen.refresh_interval == 30 and chosen.theme == "nord"  # shared settings are inherited
    sales = load_config({}, path, account="sales")
    assert sales.account == "sales" and sales.refresh_interval == 60
    assert sales.base_url == "https://api.heymarket.com" and sales.user_id is None  # identity is not inherited
    assert sales.secret_key is None and sales.secret_key_command == "pass show heymarket/sales"
    assert load_config({"HMTUI_ACCOUNT": "sales"}, path).account == "sales"
    assert load_config({"HMTUI_ACCOUNT": "sales"}, path, account="support").account == "support"
    assert [(a.name, a.default) for a in chosen.accounts] == [("sales", False), ("support", True)]


def test_an_unknown_account_is_one_line_naming_the_known_ones(tmp_path: Path, isolated_env: dict[str, str]) -> None:
    path = write_config(tmp_path, ACCOUNTS)
    with pytest.raises(ConfigError) as caught:
        load_config({}, path, account="billing")
    assert "'billing'" in str(caught.value) and "sales, support" in str(caught.value)
    for args in (["--account", "billing", "inboxes"], ["inboxes", "--account", "billing"], ["cache", "info"]):
        env = {**isolated_env, "HMTUI_ACCOUNT": "billing"} if args == ["cache", "info"] else isolated_env
        result = run_cli(*args, env=env)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "sales, support" in result.stderr
    with pytest.raises(ConfigError, match="default_account 'nope' is not one of the accounts"):
        load_config({}, write_config(tmp_path, 'default_account = "nope"\n[accounts.a]\nsecret_id = "x"\n'))


def test_several_accounts_without_a_default_ask_which(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[accounts.a]\nsecret_id = "x"\n[accounts.b]\nsecret_id = "y"\n')
    config = load_config({}, path)
    assert config.account is None and not config.has_credentials
    assert "--account NAME" in config.missing_credentials_message()
    only = load_config({}, write_config(tmp_path, '[accounts.a]\nsecret_id = "x"\nsecret_key = "k"\n'))
    assert only.account == "a" and only.has_credentials


def test_hmtui_accounts_lists_them_without_keys(tmp_path: Path, isolated_env: dict[str, str]) -> None:
    write_config(tmp_path, ACCOUNTS)
    result = run_cli("accounts", env=isolated_env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "BASE", "URL", "SECRET", "ID", "KEY"]
    assert lines[1].split() == ["sales", "https://api.heymarket.com", "id-sales", "command"]
    assert lines[2].split() == ["*<", "support", "http://127.0.0.1:9", "id-support", "in", "the", "file"]
    assert "key-support" not in result.stdout + result.stderr
    records = [json.loads(line) for line in run_cli("accounts", "--json", "--account", "sales",
                                                    env=isolated_env).stdout.splitlines()]
    assert [(r["name"], r["key"], r["selected"]) for r in records] == [
        ("sales", "secret_key_command", True), ("support", "secret_key", False)]


def test_two_accounts_on_two_fake_servers_never_share_a_cache(isolated_env: dict[str, str], tmp_path: Path) -> None:
    """Both servers are on loopback with the demo's secret id: only the account tells them apart."""
    with FakeHeymarket(seed=SEED, anchor=ANCHOR, options=FakeOptions(rate_limit=0)) as one, \
            FakeHeymarket(seed=SEED + 1, anchor=ANCHOR, options=FakeOptions(rate_limit=0)) as two:
        assert one.secret_id == two.secret_id
        write_config(tmp_path, "".join(
            f'[accounts.{name}]\nbase_url = "{s.url}"\nsecret_id = "{s.secret_id}"\nsecret_key = "{s.secret_key}"\n'
            for name, s in (("one", one), ("two", two))))
        conversation = next(c for c in one.data.conversations if c["status"] == "open")
        inbox, target = conversation["inbox"], conversation["target"]
        texts = [m["text"] for m in one.data.messages_for(inbox, target) if m.get("text")]
        word = max(texts[0].split(), key=len).strip(".,;:!?'\"()")
        history = run_cli("--account", "one", "history", "--inbox", str(inbox), "--phone", target, env=isolated_env)
        assert history.returncode == 0 and texts[0].split()[0] in history.stdout, history.stderr
        found = run_cli("--account", "one", "search", word, env=isolated_env)
        assert found.returncode == 0 and word.lower() in found.stdout.lower(), found.stderr
        # Under the other account, neither the cache nor its server knows that thread.
        other = run_cli("search", word, env={**isolated_env, "HMTUI_ACCOUNT": "two"})
        assert other.returncode == 0 and other.stdout == "" and "no matches" in other.stderr
        elsewhere = run_cli("--account", "two", "history", "--inbox", str(inbox), "--phone", target,
                            env=isolated_env)
        assert elsewhere.returncode == 0 and elsewhere.stdout != history.stdout  # its own server's thread
        files = sorted(p.name for p in (tmp_path / "cache" / "hmtui").glob("*.sqlite3"))
        assert len(files) == 2 and files[0].startswith("one.") and files[1].startswith("two."), files


# -- notifications and theme config -----------------------------------------------------------------


def test_notification_and_theme_settings(tmp_path: Path) -> None:
    config = load_config({}, write_config(tmp_path, 'notify = "command"\nnotify_command = "notify-send -a hmtui"\n'
                                                    'notify_scope = "all"\n'))
    assert config.notify == "command" and config.notify_command == ["notify-send", "-a", "hmtui"]
    assert config.notify_scope == "all"
    defaults = load_config({}, tmp_path / "none.toml")
    assert (defaults.notify, defaults.notify_scope, defaults.notify_command, defaults.theme) == ("auto", "mine", None, None)
    for text, needle in [('notify = "loud"', "notify must be one of"), ('notify_scope = "team"', "notify_scope"),
                         ('notify = "command"', "needs notify_command"), ("theme = 3", "theme")]:
        with pytest.raises(ConfigError, match=needle):
            load_config({}, write_config(tmp_path, text + "\n"))
    assert check_theme("nord") == "nord" and check_theme(None) is None
    assert defaults.thread_scroll == "jump"
    assert load_config({}, write_config(tmp_path, 'thread_scroll = "line"\n')).thread_scroll == "line"
    with pytest.raises(ConfigError, match="thread_scroll"):
        load_config({}, write_config(tmp_path, 'thread_scroll = "smooth"\n'))
    with pytest.raises(ConfigError, match="did you mean gruvbox"):
        check_theme("gruvbx")


def test_an_unknown_theme_stops_the_tui_with_one_line(server: FakeHeymarket, isolated_env: dict[str, str],
                                                     tmp_path: Path) -> None:
    write_config(tmp_path, 'theme = "solarised-dark"\n')
    result = run_cli("--no-cache", env=env_for(server, isolated_env))
    assert result.returncode == 2 and "did you mean solarized-dark?" in result.stderr
    assert result.stderr.count("\n") == 1
    # `inboxes` never imports the themes (their import costs every command 0.3 s), so it runs.
    assert run_cli("--no-cache", "inboxes", env=env_for(server, isolated_env)).returncode == 0


def test_no_color_turns_the_app_monochrome(server: FakeHeymarket, monkeypatch: pytest.MonkeyPatch) -> None:
    """Textual itself honours NO_COLOR (App.__init__ pops it and adds a Monochrome filter)."""
    from textual.filter import Monochrome

    from app_harness import make_app

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(server)
    assert app.no_color and any(isinstance(f, Monochrome) for f in app._filters)  # noqa: SLF001
    monkeypatch.delenv("NO_COLOR")
    assert not make_app(server).no_color


# -- completion ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_know_every_command_and_parse(shell: str, isolated_env: dict[str, str],
                                                         tmp_path: Path) -> None:
    result = run_cli("completion", shell, env=isolated_env)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for word in ("inboxes", "conversations", "history", "search", "cache", "demo", "accounts", "completion",
                 "no-cache", "base-url"):
        assert word in text, word
    if shell == "zsh":
        assert text.startswith("#compdef hmtui\n")  # autoload reads the tag on the first line only
    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"{shell} is not installed: the script's syntax is not checked")
    path = tmp_path / f"hmtui.{shell}"
    path.write_text(text)
    check = [program, "--no-execute", str(path)] if shell == "fish" else [program, "-n", str(path)]
    checked = subprocess.run(check, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert run_cli("completion", "tcsh", env=isolated_env).returncode == 2


# -- the demo's cache on a signal, a crash, and after a kill ----------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_the_demo_cache_is_deleted_on_a_signal(isolated_env: dict[str, str], tmp_path: Path, signum: int) -> None:
    from test_robust_signals import signal_in_terminal

    temp = tmp_path / "tmp"
    temp.mkdir()
    code, before, _ = signal_in_terminal(["demo"], {**isolated_env, "TMPDIR": str(temp)},
                                         until=["Field Ops"], signum=signum)
    assert code == 128 + signum and "Traceback" not in before
    assert list(temp.iterdir()) == []


def test_the_demo_cache_is_deleted_on_a_crash_and_stale_ones_are_swept(isolated_env: dict[str, str], tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from hmtui import cli

    from app_harness import use_env

    use_env(monkeypatch, isolated_env)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    stale = temp / "hmtui-demo-999999999-abc"  # a demo killed with SIGKILL (no such pid)
    stale.mkdir()
    (stale / "x.sqlite3").write_text("")
    seen: list[Path] = []

    async def crash(client, config, args) -> int:
        seen.append(args.demo_cache_dir)
        assert args.demo_cache_dir.is_dir() and args.demo_cache_dir.parent == temp
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "cmd_tui", crash)
    assert cli.main(["demo"]) == 1
    assert seen and list(temp.iterdir()) == []


def test_the_config_theme_is_the_apps(isolated_env: dict[str, str], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from app_harness import run_tui_like_the_cli, use_env

    use_env(monkeypatch, isolated_env)
    write_config(tmp_path, 'theme = "nord"\n')

    async def theme(app, pilot) -> str:
        return app.theme

    code, _, shown = run_tui_like_the_cli(["demo", "--no-cache"], monkeypatch, theme)
    assert code == 0 and shown == "nord"


def test_the_notifier_follows_the_config(tmp_path: Path) -> None:
    from hmtui.notify import notifier_from_config

    config = load_config({}, write_config(tmp_path, 'notify = "terminal"\n'))
    assert notifier_from_config(config, environ={"TERM": "foot"}).method == "terminal"
    config = load_config({}, write_config(tmp_path, 'notify_command = "notify-send"\n'))
    notifier = notifier_from_config(config, environ={"TERM": "foot"})
    assert notifier.method == "command" and notifier.argv("t", "-b") == ["notify-send", "t", " -b"]


def test_the_tui_gets_the_accounts_name_and_its_own_cache(server: FakeHeymarket, isolated_env: dict[str, str],
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app_harness import run_tui_like_the_cli, use_env

    use_env(monkeypatch, isolated_env)
    write_config(tmp_path, f'[accounts.work]\nbase_url = "{server.url}"\nsecret_id = "{server.secret_id}"\n'
                           f'secret_key = "{server.secret_key}"\n')

    async def whose(app, pilot) -> tuple[str | None, Path | None]:
        return app.config.account, app.store.path

    code, _, (account, path) = run_tui_like_the_cli(["--account", "work"], monkeypatch, whose)
    assert code == 0 and account == "work"
    assert path is not None and path.name.startswith("work.") and path.parent == tmp_path / "cache" / "hmtui"
