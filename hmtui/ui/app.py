"""The hmtui Textual app: owns the API client, the clock, the keymap and error reporting."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual._context import active_message_pump
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerFailed

from hmtui.api import HeymarketClient, Id, Inbox
from hmtui.cache import NullStore, Store, StoreWriter
from hmtui.config import Config
from hmtui.safe_text import one_line
from hmtui.ui.app_daily import DailyApp
from hmtui.ui.errors import Guarded, file_logging_only, log_file, plain_traceback, signature
from hmtui.ui.screens.help import HelpScreen
from hmtui.ui.screens.main import MainScreen
from hmtui.ui.timefmt import Clock, local_tz, system_clock
from hmtui.ui.typeahead import Typeahead, is_typed
from hmtui.ui.widgets.conversation_list import ConversationList
from hmtui.ui.widgets.inbox_sidebar import InboxSidebar
from hmtui.ui.widgets.thread_view import ThreadView
from hmtui.workspace.workspace import PREVIEW_DELAY, Workspace

log = logging.getLogger("hmtui.ui")


class HmtuiApp(DailyApp, Guarded, App[int]):
    TITLE = "hmtui"
    CSS_PATH = "hmtui.tcss"
    COMMANDS = App.COMMANDS | {lambda: _commands_provider()}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        # f1 too: inside the composer ? is text, f1 still opens the help.
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("ctrl+p", "command_palette", "Commands", id="app.commands", show=False),
    ]

    def __init__(
        self,
        client: HeymarketClient,
        *,
        config: Config | None = None,
        start_inbox: Id | None = None,
        start_phone: str | None = None,
        clock: Clock = system_clock,
        tz: tzinfo | None = None,
        refresh_interval: float | None = None,
        export_dir: Path | None = None,
        debug: bool = False,
        prefetched_inboxes: Awaitable[list[Inbox]] | None = None,
        store: Store | None = None,
        reraise: bool = False,
    ) -> None:
        # Before the driver starts (it makes its key parser once): alt+enter from a terminal
        # (ESC CR) must be a newline in the composer, never enter, which would send.
        from hmtui.ui import alt_enter

        alt_enter.install()
        super().__init__()
        self.client = client
        self.config = config or Config()
        self.start_inbox = start_inbox
        self.start_phone = start_phone
        self.clock = clock
        self.tz = tz or local_tz()
        # 0 turns the background refresh off (tests drive refreshes themselves).
        self.refresh_interval = self.config.refresh_interval if refresh_interval is None else refresh_interval
        self.export_dir = export_dir
        self.debug_mode = debug
        # The test harness: an unexpected error fails the test (Textual re-raises it).
        self.reraise = reraise
        self._unexpected_seen: Counter[tuple[str, str, int]] = Counter()
        # A request for the inboxes started before the app, to paint them sooner.
        self.prefetched_inboxes = prefetched_inboxes
        # What was fetched is kept (hmtui.cache): the app starts on it and reads it offline.
        self.store: Store = store or NullStore()
        self.writer = StoreWriter(self.store) if store is not None else None
        # The app's state lives in the workspace (no Textual); its network work runs as this
        # app's workers, so Textual (and the tests' settle) sees it.
        self.workspace = self.new_workspace(client, start_inbox=start_inbox, start_phone=start_phone,
                                            prefetched_inboxes=prefetched_inboxes)
        self._attach_daily()  # notifications, the title, the remembered theme (app_daily.py)
        # Keys typed faster than the app reacts wait their turn (hmtui.ui.typeahead).
        self.typeahead = Typeahead(self, super().on_event)
        if self.config.keymap:
            self.set_keymap(self.config.keymap)

    def new_workspace(self, client: HeymarketClient, *, start_inbox: Id | None = None, start_phone: str | None = None,
                      prefetched_inboxes: Awaitable[list[Inbox]] | None = None) -> Workspace:
        """The workspace on this app's store, clock and config: at start, and on an account switch."""
        return Workspace(
            client, store=self.store, writer=self.writer, user_id=self.config.user_id, clock=self.clock,
            preview_delay=PREVIEW_DELAY, start_inbox=start_inbox, start_phone=start_phone,
            prefetched_inboxes=prefetched_inboxes, refresh_interval=self.refresh_interval,
            spawn=self._spawn,
        )

    def _spawn(self, kind: str, coro: Any) -> Worker[Any]:
        return self.run_worker(coro, name=kind, group=kind, exclusive=False, exit_on_error=False)

    @property
    def preview_delay(self) -> float:
        """How long the cursor rests on a row before its thread is fetched (0 in tests)."""
        return self.workspace.preview_delay

    @preview_delay.setter
    def preview_delay(self, value: float) -> None:
        self.workspace.preview_delay = value

    @property
    def connection_lost(self) -> str | None:
        """Why actions that change the server cannot work now (None while they can)."""
        return self.workspace.connection.lost

    def get_default_screen(self) -> MainScreen:
        warnings = [("Config", w, 15.0) for w in self.config.warnings]  # printed before the TUI too
        # e.g. a corrupt cache file that was set aside and rebuilt; later ones (a full disk) too.
        warnings += [("Cache", w, 10.0) for w in self.store.warnings]
        self.store.on_warning = self.cache_warning
        return MainScreen(self.workspace, clock=self.clock, tz=self.tz, export_dir=self.export_dir,
                          warnings=warnings, jump_scroll=self.config.thread_scroll == "jump")

    @property
    def main(self) -> MainScreen:
        screen = self.screen_stack[0]
        assert isinstance(screen, MainScreen)
        return screen

    async def on_unmount(self) -> None:
        self._detach_daily()  # the terminal's own title back
        self.workspace.close()
        await self.client.aclose()
        if self.writer is not None:
            await asyncio.to_thread(self.writer.close)
        self.store.close()

    class CacheWarning(Message):
        """A cache problem found while running (writes failing, a file set aside)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def cache_warning(self, text: str) -> None:
        """The store's `on_warning`: called from any thread (the writer's, mostly), so it only
        posts a message (thread-safe); the toast is shown on the event loop."""
        self.post_message(self.CacheWarning(text))

    def on_hmtui_app_cache_warning(self, event: CacheWarning) -> None:
        self.notify(one_line(event.text, 300), title="Cache", severity="warning", markup=False, timeout=10)
    # -- keys: one at a time, and only for the screen on top --------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if is_typed(event):
            await self.typeahead.receive(event)  # type: ignore[arg-type]
            return
        await super().on_event(event)

    async def run_action(self, action: str | object, default_namespace: DOMNode | None = None,
                         namespaces: object = None) -> bool:
        """Every action (bindings, the palette) passes here. One aimed at a screen that is no
        longer on top (a palette command picked twice, a key for a dismissed modal) does nothing."""
        if not self._on_current_screen(default_namespace):
            log.debug("ignored %r: its screen is not on top any more", action)
            return True
        try:
            return await super().run_action(action, default_namespace, namespaces)  # type: ignore[arg-type]
        except Exception as error:
            self.unexpected(error, where=f"the action {one_line(str(action), 60)}")
            return True

    def _on_current_screen(self, node: DOMNode | None) -> bool:
        if not isinstance(node, Widget):
            return True  # the app itself
        try:
            screen = node if isinstance(node, Screen) else node.screen
        except Exception:  # not mounted (any more)
            return False
        return screen is self.screen

    def action_command_palette(self) -> None:
        from hmtui.ui.commands import HmtuiPalette

        if self.use_command_palette and not HmtuiPalette.is_open(self):
            self.push_screen(HmtuiPalette(id="--command-palette"))

    def cache(self, method: str, *args: object) -> None:
        """Keep what just arrived: written on the writer's thread, never on the event loop."""
        if self.writer is not None:
            self.writer.submit(method, *args)

    # -- errors and connection state: the one place --------------------------------------------

    def report_error(self, error: BaseException, *, toast: bool = True) -> None:
        """A failure of the UI's own work: the workspace's one place decides what is said."""
        self.workspace.report(error)

    def unexpected(self, error: BaseException, *, where: str = "", fatal: bool = False) -> None:
        """The one place for an error nobody expected (a bug, or a library failing in a new way).

        The traceback goes to the log file (once per distinct error, redacted), the user sees one
        line, and the app goes on. With --debug the app stops and prints the traceback, without
        local variables (they hold the token). `fatal`: the part of Textual that failed cannot go
        on (its message loop stopped), so the app ends, with one line."""
        if isinstance(error, WorkerFailed) and isinstance(error.error, BaseException):
            error = error.error
        key = signature(error)
        seen = self._unexpected_seen[key]
        self._unexpected_seen[key] += 1
        if not seen:
            log.error("unexpected error in %s", where or "the app", exc_info=error)
        elif seen in (10, 100, 1000, 10000):
            log.error("the same unexpected error again (%d times): %s: %s", seen + 1, type(error).__name__,
                      one_line(str(error), 200))
        if self.reraise:
            super()._handle_exception(error)  # type: ignore[arg-type]  # the test fails on it
            return
        summary = f"{type(error).__name__}: {one_line(str(error), 200)}"
        if self.debug_mode or fatal:
            self._return_code = 1
            if self.debug_mode:
                shown = plain_traceback(error)
            else:
                where_log = log_file()
                shown = f"hmtui: unexpected error: {summary}" + (f" (details in {where_log})" if where_log else "")
            self.panic(Text(shown))
            return
        if not seen:
            where_log = log_file()
            details = f" (details in {where_log})" if where_log else ""
            self.notify(one_line(f"Unexpected error: {summary}{details}", 300), title="Error", severity="error",
                        markup=False, timeout=10)

    def _handle_exception(self, error: Exception) -> None:
        # Textual's own funnel. hmtui's pumps and actions catch their errors before it; what
        # arrives here is a failed worker (the app goes on) or a Textual widget whose message
        # loop has stopped (it cannot).
        pump = active_message_pump.get(None)
        recoverable = isinstance(error, WorkerFailed) or isinstance(pump, Guarded)
        self.unexpected(error, where=type(pump).__name__ if pump is not None else "", fatal=not recoverable)

    async def run_async(self, *args: object, **kwargs: object) -> int | None:
        # With --debug the log also goes to stderr: over the TUI it would scribble on the screen.
        with file_logging_only():
            return await super().run_async(*args, **kwargs)  # type: ignore[arg-type]

    def report_success(self) -> None:
        self.workspace.succeeded()

    def start_refresh_loop(self) -> None:
        self.workspace.start_refresh_loop()

    # -- actions ---------------------------------------------------------------------------------

    def open_link(self, url: str) -> bool:
        """Open `url` in a web browser; False, opening nothing, when there is none (a server
        over ssh): the caller says so instead of claiming it opened."""
        import webbrowser

        if not getattr(self._driver, "is_web", False):
            try:
                webbrowser.get()
            except webbrowser.Error:
                return False
        self.open_url(url)
        return True

    async def action_quit(self) -> None:
        # Unsent messages that live only in memory (--no-cache): the main screen asks first.
        main = self.screen_stack[0] if self.screen_stack else None
        confirm = getattr(main, "confirm_quit", None)
        if confirm is None or confirm(self.exit):
            self.exit()

    def action_help(self) -> None:
        sections = [
            ("Everywhere", _bindings(self.BINDINGS) + _bindings(MainScreen.BINDINGS)),
            ("Inbox sidebar", _bindings(InboxSidebar.BINDINGS)),
            ("Conversation list", _bindings(ConversationList.BINDINGS)),
            ("Thread", _bindings(ThreadView.BINDINGS)),
            *_reply_sections(),
        ]
        # Textual keeps the keymap private; the help shows the keys as remapped.
        self.push_screen(HelpScreen(sections, dict(self._keymap)))


def _reply_sections() -> list[tuple[str, list[Binding]]]:
    from hmtui.ui.screens.templates import TemplatePicker
    from hmtui.ui.widgets.composer import Composer

    return [("Composer (r reply, i note)", _bindings(Composer.BINDINGS)),
            ("Template picker (ctrl+t)", _bindings(TemplatePicker.BINDINGS))]


def _commands_provider() -> type:
    # textual.command costs ~15 ms to import: only when the palette first opens.
    from hmtui.ui.commands import HmtuiCommands

    return HmtuiCommands


def _bindings(items: object) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]  # type: ignore[attr-defined]
