"""Issue 15, item 12: every config problem is one line and exit 2 (a misspelled key only warns),
through the real CLI; a keymap cannot take q or ? away."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from hmtui.ui.keymap import KeymapError, default_bindings, normalize_key, validate_keymap

from conftest import env_for, run_cli


def write_config(env: dict[str, str], content: str | bytes) -> Path:
    path = Path(env["HMTUI_CONFIG"])
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    os.chmod(path, 0o600)
    return path


def assert_config_error(result, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    err = result.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("hmtui: error: ") and "Traceback" not in err and "unexpected error" not in err
    for needle in needles:
        assert needle in err, err
    return err


@pytest.mark.parametrize(
    "content, needles",
    [
        (b'secret_id = "caf\xe9"\n', ("not UTF-8",)),
        ("timeout = nan\n", ("timeout",)),
        ("timeout = inf\n", ("timeout",)),
        ("timeout = -inf\n", ("timeout",)),
        ("refresh_interval = nan\n", ("refresh_interval",)),
        ("retries = 1000000000\n", ("retries", "20")),
        ("user_id = -5\n", ("user_id",)),
        ("user_id = 0\n", ("user_id",)),
        ("[keymap]\n[keymap.nested]\nx = 'y'\n", ("keymap",)),
    ],
    ids=["not-utf8", "timeout-nan", "timeout-inf", "timeout-minus-inf", "refresh-nan", "retries-huge",
         "user-id-negative", "user-id-zero", "keymap-nested"],
)
def test_bad_values_are_one_line_and_exit_2(shared_server, isolated_env, content, needles) -> None:
    env = env_for(shared_server, isolated_env)
    write_config(env, content)
    assert_config_error(run_cli("inboxes", env=env), *needles)


def test_a_misspelled_key_warns_naming_it_and_the_command_runs(shared_server, isolated_env) -> None:
    env = env_for(shared_server, isolated_env)
    write_config(env, "timeot = 5\nrefresh_intervall = 30\n")
    result = run_cli("inboxes", env=env)
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 2
    assert "'timeot'" in warnings[0] and "did you mean timeout" in warnings[0]
    assert "'refresh_intervall'" in warnings[1] and "refresh_interval" in warnings[1]
    assert result.stdout.startswith("ID")


@pytest.mark.parametrize(
    "keymap, needles",
    [
        ('"conversation.clse" = "x"', ("conversation.clse", "did you mean 'conversation.close'")),
        ('"no.such.binding" = "x"', ("no.such.binding",)),
        ('"conversation.close" = "ctrl+bogus"', ("ctrl+bogus", "not a key name")),
        ('"conversation.close" = "hyperx+k"', ("hyperx", "not a modifier")),
        ('"conversation.close" = "x,"', ("empty key",)),
        ('"conversation.close" = "q"', ("conversation.close", "'q'", "app.quit")),
        ('"thread.export" = "?"', ("thread.export", "'?'", "app.help")),
        ('"thread.export" = "question_mark"', ("thread.export", "app.help")),
        ('"app.quit" = "ctrl+q"', ("app.quit", "must keep 'q'")),
        ('"app.help" = "f1"', ("app.help", "must keep '?'")),
    ],
    ids=["misspelled-id", "unknown-id", "bogus-key", "bogus-modifier", "empty-key", "close-takes-q",
         "export-takes-?", "export-takes-question_mark", "quit-moved", "help-moved"],
)
@pytest.mark.parametrize("command", [(), ("demo",)], ids=["tui", "demo"])
def test_a_bad_keymap_is_refused_before_the_app_starts(shared_server, isolated_env, keymap, needles, command) -> None:
    env = env_for(shared_server, isolated_env)
    path = write_config(env, f"[keymap]\n{keymap}\n")
    err = assert_config_error(run_cli(*command, env=env), *needles)
    assert str(path) in err and "[keymap]" in err
    assert shared_server.counts["POST /v1/conversations/close"] == 0


def test_a_good_keymap_is_normalized_for_textual() -> None:
    known = default_bindings()
    assert validate_keymap({"app.help": "?,f1", "conversation.close": " x , ctrl+K "}, known) == {
        "app.help": "question_mark,f1", "conversation.close": "x,ctrl+K",
    }
    assert validate_keymap({"app.quit": "q,ctrl+q", "help.close": "escape"}, known)
    assert normalize_key("/") == "slash" and normalize_key("f12") == "f12" and normalize_key("shift+tab") == "shift+tab"
    for bad in ("", " ", "\x1b", "ctrl+", "escpae", "f99"):
        with pytest.raises(KeymapError):
            normalize_key(bad)


def test_the_known_ids_are_every_binding_id_in_the_ui_source() -> None:
    # default_bindings() finds ids by walking the classes; the source is the other witness.
    source = Path(__file__).parent.parent / "hmtui" / "ui"
    literal = set()
    for path in source.rglob("*.py"):
        literal |= set(re.findall(r'Binding\(.*\bid="([^"]+)"', path.read_text(encoding="utf-8")))
    known = default_bindings()
    assert literal and literal <= set(known)
    for prefix in ("inboxes", "conversations", "search.results"):  # ids made by list_bindings(prefix)
        assert {f"{prefix}.down", f"{prefix}.open"} <= set(known)
    assert known["app.quit"].split(",")[0] == "q" and "question_mark" in known["app.help"]
