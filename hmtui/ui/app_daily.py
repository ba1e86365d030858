"""The app's part of issue 12's daily driving: it reports the terminal's focus, gives the
notifier and the title a way to write to the terminal, remembers the theme, and switches
accounts. What notifies, and what the title says, the workspace decides (hmtui/workspace/alerts.py).

The theme: the palette's theme switch is kept in this account's cache (`ui.theme`) and put back
at the next start. `theme = "..."` in the config file wins when it is set: the file is the user's
explicit choice, and the CLI applies it after the app is built.

Accounts: the palette offers "Switch account: NAME" for every other `[accounts.NAME]`. The switch
reads that account's config (its key command runs off the event loop), opens its own client,
cache and outbox, builds a new workspace and a new main screen; the old ones are closed, so
nothing of one account is ever drawn under the other.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timezone
from typing import TYPE_CHECKING, Any

from hmtui.config import Config, ConfigError, load_config
from hmtui.notify import notifier_from_config
from hmtui.safe_text import one_line
from hmtui.workspace.alerts import attach

if TYPE_CHECKING:
    from hmtui.api import HeymarketClient
    from hmtui.cache import Store
    from hmtui.ui.app import HmtuiApp

log = logging.getLogger("hmtui.ui")
THEME_PREF = "ui.theme"


class DailyApp:
    """Mixed into `HmtuiApp`."""

    _theme_at_start: str | None = None

    # -- notifications and the title ----------------------------------------------------------

    def terminal_write(self: HmtuiApp, text: str) -> None:
        """Text for the terminal itself (an OSC sequence, a bell), through Textual's driver so it
        never interleaves with a frame. Tests replace this to see what would be written."""
        driver = self._driver
        if driver is not None and text:
            driver.write(text)
            driver.flush()

    def _attach_daily(self: HmtuiApp) -> None:
        config = self.config
        notifier = notifier_from_config(config, write=lambda text: self.terminal_write(text))
        started = self.clock()
        if started.tzinfo is None:
            started = started.replace(tzinfo=timezone.utc)
        attach(self.workspace, notifier, scope=config.notify_scope, started=started,
               write=lambda text: self.terminal_write(text), account=config.account)
        self._restore_theme()

    def _detach_daily(self: HmtuiApp) -> None:
        alerts = self.workspace.alerts
        if alerts is not None:
            alerts.close()

    def watch_app_focus(self: HmtuiApp, focused: bool) -> None:
        # Textual sets app_focus from AppFocus/AppBlur (terminals that report focus), and back
        # to True on a key or click.
        alerts = self.workspace.alerts
        if alerts is not None:
            alerts.focused = focused

    def on_mount(self: HmtuiApp) -> None:
        alerts = self.workspace.alerts
        if alerts is not None:
            alerts.show_title()
        self._theme_at_start = self.theme
        self.theme_changed_signal.subscribe(self, self._theme_changed)  # type: ignore[arg-type]

    # -- the theme -------------------------------------------------------------------------------

    def _restore_theme(self: HmtuiApp) -> None:
        if self.config.theme:
            return  # the config's theme is set by the CLI and wins
        try:
            remembered = self.store.get_pref(THEME_PREF)
        except Exception:  # noqa: BLE001 - a broken cache keeps Textual's default
            remembered = None
        if remembered and remembered in self.available_themes:
            self.theme = remembered

    def _theme_changed(self: HmtuiApp, theme: Any) -> None:
        name = getattr(theme, "name", None)
        if not isinstance(name, str) or name == self._theme_at_start:
            return
        self._theme_at_start = name
        try:
            self.store.put_pref(THEME_PREF, name)
        except Exception as error:  # noqa: BLE001 - the theme still changes for this session
            self.notify(f"Cannot remember the theme: {one_line(str(error), 120)}", severity="warning",
                        markup=False)

    # -- accounts --------------------------------------------------------------------------------

    def other_accounts(self: HmtuiApp) -> list[str]:
        """The accounts the palette offers to switch to (every one but this)."""
        return [a.name for a in self.config.accounts if a.name != self.config.account]

    def start_account_switch(self: HmtuiApp, name: str) -> None:
        self.run_worker(self.switch_account(name), name="account", group="account", exclusive=True,
                        exit_on_error=False)

    async def open_account(self: HmtuiApp, name: str) -> tuple[HeymarketClient, Config, Store | None]:
        """That account's config, client and cache, built as the CLI builds them."""
        from hmtui.api import Credentials, HeymarketClient, RetryPolicy
        from hmtui.api.limiter import RequestLimiter
        from hmtui.cache import Store

        path = self.config.path

        def load() -> Config:
            config = load_config(path=path, account=name)
            config.resolve_secret_key()  # may wait on a pinentry: off the event loop
            return config

        config = await asyncio.to_thread(load)
        if not config.has_credentials:
            raise ConfigError(config.missing_credentials_message())
        assert config.secret_id and config.secret_key
        client = HeymarketClient(Credentials(config.secret_id, config.secret_key), base_url=config.base_url,
                                 timeout=config.http_timeout(), retry=RetryPolicy(attempts=config.retries + 1),
                                 limiter=RequestLimiter(config.max_requests_per_minute))
        store = None
        if self.store.enabled and config.cache:  # --no-cache holds for every account
            store = await asyncio.to_thread(Store.open, config.base_url, config.secret_id, account=config.account)
        return client, config, store

    async def switch_account(self: HmtuiApp, name: str) -> bool:
        """Leave this account for `name`: False (and one line said) if it cannot be opened."""
        self.notify(f"Switching to {one_line(name, 40)}…", markup=False, timeout=3)
        try:
            client, config, store = await self.open_account(name)
        except (ConfigError, ValueError, OSError) as error:
            self.notify(one_line(str(error), 300), title="Account", severity="error", markup=False, timeout=10)
            return False
        await self._replace_account(client, config, store)
        self.notify(f"Account {one_line(name, 40)}", markup=False)
        return True

    async def _replace_account(self: HmtuiApp, client: HeymarketClient, config: Config, store: Store | None) -> None:
        from hmtui.cache import NullStore, StoreWriter

        old_ws, old_client, old_writer, old_store = self.workspace, self.client, self.writer, self.store
        self._detach_daily()
        old_ws.close()
        if self.config.keymap and not config.keymap:
            config.keymap = self.config.keymap  # the keys stay as they were set at start
        self.client, self.config = client, config
        self.store = store or NullStore()
        self.writer = StoreWriter(self.store) if store is not None else None
        self.workspace = self.new_workspace(client)
        self.workspace.preview_delay = old_ws.preview_delay  # a test's (or a user's) setting stays
        self._attach_daily()
        while len(self.screen_stack) > 1:  # a modal of the old account's screen goes with it
            await self.pop_screen()
        # A new main screen: nothing of the old one. Textual's switch_screen pops a result
        # callback the default screen never had (it was not pushed): give it one to pop.
        self.screen._push_result_callback(self.screen, None)
        await self.switch_screen(self.get_default_screen())
        alerts = self.workspace.alerts
        if alerts is not None:
            alerts.show_title()
        await old_client.aclose()
        if old_writer is not None:
            await asyncio.to_thread(old_writer.close)
        old_store.close()
