import os

import pytest

from hmtui.config import ConfigError, load_config

KEY = "file-secret-key-abcdefghijklmnop"


def write(tmp_path, text, mode=0o600):
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def test_environment_wins_over_the_file(tmp_path) -> None:
    path = write(tmp_path, f'secret_id = "file-id"\nsecret_key = "{KEY}"\nbase_url = "https://file.invalid"\nuser_id = 101\n')
    config = load_config({"HEYMARKET_SECRET_ID": "env-id", "HEYMARKET_BASE_URL": "http://127.0.0.1:9"}, path)
    assert config.secret_id == "env-id" and config.secret_key == KEY
    assert config.base_url == "http://127.0.0.1:9" and config.user_id == 101
    assert config.warnings == [] and config.has_credentials


def test_defaults_without_a_file(tmp_path) -> None:
    config = load_config({}, tmp_path / "missing.toml")
    assert not config.has_credentials
    assert config.base_url == "https://api.heymarket.com"
    assert config.refresh_interval == 15
    message = config.missing_credentials_message()
    for needle in ("HEYMARKET_SECRET_ID", "HEYMARKET_SECRET_KEY", "missing.toml", "hmtui demo"):
        assert needle in message


def test_a_file_readable_by_others_warns_without_quoting_the_key(tmp_path) -> None:
    path = write(tmp_path, f'secret_id = "id"\nsecret_key = "{KEY}"\n', mode=0o644)
    config = load_config({}, path)
    assert len(config.warnings) == 1 and "chmod 600" in config.warnings[0]
    assert KEY not in config.warnings[0]


@pytest.mark.parametrize(
    "text, needle",
    [
        ("secret_id = ", "not valid TOML"),
        ("secret_id = 5", "secret_id must be a string"),
        ("user_id = 'abc def'", "user_id"),
        ("refresh_interval = 0", "refresh_interval"),
        ("timeout = 'x'", "timeout"),
        ("retries = 1.5", "retries"),
        ("[keymap]\n'conversation.close' = 5", "keymap"),
    ],
)
def test_bad_values_are_one_clear_error(tmp_path, text, needle) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({}, write(tmp_path, text))
    assert needle in str(caught.value) and "\n" not in str(caught.value)


def test_tuning_and_keymap(tmp_path) -> None:
    path = write(tmp_path, 'refresh_interval = 30\ntimeout = 2.5\nretries = 0\n[keymap]\n"conversation.close" = "x"\n')
    config = load_config({}, path)
    assert config.refresh_interval == 30 and config.timeout == 2.5 and config.retries == 0
    assert config.keymap == {"conversation.close": "x"}


# -- `retries` is "retries after the first try": count what reaches the server -------------------


@pytest.mark.parametrize("retries", [0, 1, 3, None])
def test_retries_are_the_tries_after_the_first_counted_at_the_server(server, isolated_env, tmp_path, retries) -> None:
    from hmtui.config import DEFAULT_RETRIES
    from hmtui.fake import Fault

    from conftest import env_for, run_cli

    if retries is not None:
        write(tmp_path, f"retries = {retries}\n")
    expected = 1 + (DEFAULT_RETRIES if retries is None else retries)
    env = env_for(server, isolated_env)
    # 429 with Retry-After: 0 is retried without a backoff sleep, so the count is all that varies.
    server.inject(Fault("429", every=1, path="/v1/inboxes", retry_after=0))
    result = run_cli("inboxes", env=env)
    assert result.returncode == 1 and "429" in result.stderr, result.stderr
    assert server.counts["GET /v1/inboxes"] == expected
    # One failure fewer than the tries allowed: the last try succeeds, and nothing more is sent.
    server.clear_faults()
    server.inject(Fault("429", times=expected - 1, path="/v1/inboxes", retry_after=0))
    result = run_cli("inboxes", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert server.counts["GET /v1/inboxes"] == 2 * expected
