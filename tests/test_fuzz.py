"""Key fuzz (issue 15, item 4): random key streams from a seed, against a fake server with faults.

Every stream mixes bound keys, letters, escapes, enters, bursts of keys that piled up and "/"
followed by pasted text, then leaves any modal, checks the app still answers a key, and quits
with `q` followed by more typeahead. It runs in the pilot (bursts posted at once) and in a real
pty (bytes written at once or a few ms apart, parsed by Textual's driver).

Checked: no exception (the harness re-raises any), the app answers a key, no triage request that
no key meant (`fuzz_keys.TriageLedger`), no message sent that no compose step (`r`/`i`, text,
enter) typed (`fuzz_keys.SendLedger`), and `q` exits 0. A few seeds run by default;
`HMTUI_FUZZ_SEEDS=200` runs 200 (in each mode), `HMTUI_FUZZ_SEED=17` just that one.
"""

from __future__ import annotations

import os
import webbrowser
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input, TextArea

from hmtui.fake import Fault, FakeHeymarket
from hmtui.ui.screens.main import MainScreen

from app_harness import running
from conftest import env_for, new_server
from fuzz_keys import KeyStream, SendLedger, Terminal, TriageLedger, burst, drain, key_stream, terminal_bytes


def seeds(default: int) -> list[int]:
    if os.environ.get("HMTUI_FUZZ_SEED"):
        return [int(os.environ["HMTUI_FUZZ_SEED"])]
    return list(range(int(os.environ.get("HMTUI_FUZZ_SEEDS", default))))


def faulty_server() -> FakeHeymarket:
    """Slow answers, some 429s and 500s (before the server acts, so a refused triage did not
    happen), and one read that stalls past the client's timeout."""
    server = new_server(latency=0.003)
    for fault in (Fault("429", every=9, retry_after=0), Fault("500", every=13),
                  Fault("stall", times=1, stall=2.5, method="GET", path="/v1/team")):
        server.inject(fault)
    return server


@pytest.fixture
def fuzz_server() -> Iterator[FakeHeymarket]:
    with faulty_server() as server:
        yield server


# -- in the pilot ---------------------------------------------------------------------------------


async def back_to_the_main_screen(pilot, app) -> None:
    for _ in range(8):
        if isinstance(app.screen, MainScreen) and not isinstance(app.focused, (Input, TextArea)):
            return
        burst(app, ["escape"])
        await drain(pilot, app)
    assert isinstance(app.screen, MainScreen), app.screen


@pytest.mark.parametrize("seed", seeds(3))
async def test_key_fuzz_in_the_pilot(seed: int, fuzz_server, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda *a, **k: True)  # `o` opens links
    stream = key_stream(seed)
    async with running(fuzz_server, tmp_path=tmp_path, timeout=1.0, size=(120, 40)) as (app, pilot):
        for step in stream.steps:
            burst(app, step.keys)
            if step.gap:  # else the next step piles up behind this one
                await pilot.pause()
        await drain(pilot, app)
        await back_to_the_main_screen(pilot, app)
        burst(app, ["question_mark"])  # it still answers a key
        await drain(pilot, app)
        assert type(app.screen).__name__ == "HelpScreen", stream.describe()
        burst(app, ["escape"])
        await drain(pilot, app)
        await app.workspace.idle()  # the sends the stream made have ended
        if app.workspace.replies.lost_on_quit():  # unsent, in memory only: q asks first
            burst(app, ["q"])
            await drain(pilot, app)
            assert type(app.screen).__name__ == "PickerScreen", stream.describe()
            burst(app, ["G", "enter"])  # "Quit and lose them"
        else:
            burst(app, ["q", *stream.after_q])  # typeahead after q does nothing
        await drain(pilot, app)
    assert app.return_code == 0, stream.describe()
    assert not [n for n in app.notified if n.message.startswith("Unexpected error")]
    assert TriageLedger(stream).problems(fuzz_server.requests) == [], stream.describe()
    assert SendLedger(stream).problems(fuzz_server.requests) == [], stream.describe()


# -- in a real terminal ---------------------------------------------------------------------------


ESCAPE_PAUSE = 0.3


def write_steps(term: Terminal, stream: KeyStream) -> None:
    for step in stream.steps:
        term.write(b"".join(terminal_bytes(k) for k in step.keys))
        # A lone ESC is a key only once the terminal's escape delay (100 ms) has passed; written
        # together with what follows it is alt+key (what a terminal sends too). The margin is for
        # a loaded machine, where the app may read late and see both at once.
        pause = max(step.gap, ESCAPE_PAUSE if step.keys[-1] == "escape" else 0.0)
        term.pump(pause)


@pytest.mark.parametrize("seed", seeds(1))
def test_key_fuzz_in_a_terminal(seed: int, fuzz_server, isolated_env) -> None:
    stream = key_stream(1000 + seed)
    env = {**env_for(fuzz_server, isolated_env), "BROWSER": "true"}
    # With the cache (in the isolated dirs): the outbox is durable, so `q` never has to ask about
    # a message a compose step sent that is still on its way.
    term = Terminal([], env)
    try:
        assert term.wait_for("Field Ops"), term.diagnose(env)
        write_steps(term, stream)
        for _ in range(5):  # leave any modal and input
            term.write(b"\x1b")
            term.pump(ESCAPE_PAUSE)
        mark = len(term.output)
        term.write(b"?")  # it still answers a key
        assert term.wait_for("remap any of them", start=mark), stream.describe() + term.text(mark)[-3000:]
        term.write(b"?")  # closes the help (no ESC: it could merge with the q that follows)
        term.pump(0.1)
        term.write(b"q" + b"".join(terminal_bytes(k) for k in stream.after_q))
        code = term.wait_exit()
        assert code == 0, stream.describe() + "\n" + term.text()[-3000:]
        assert "Traceback" not in term.text() and "Unexpected error" not in term.text(), stream.describe()
    finally:
        term.close()
    assert TriageLedger(stream).problems(fuzz_server.requests) == [], stream.describe()
    assert SendLedger(stream).problems(fuzz_server.requests) == [], stream.describe()
    logs = "".join(p.read_text("utf-8", "replace") for p in Path(env["XDG_STATE_HOME"]).rglob("hmtui.log*"))
    assert "unexpected error" not in logs, logs[-3000:]
