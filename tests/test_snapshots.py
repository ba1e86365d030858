"""Snapshots of the scenes in hmtui.ui.scenes (seeded data, frozen clock, UTC).

Update them after an intended change with `pytest tests/test_snapshots.py --snapshot-update`, and
regenerate screenshots/ with `python -m hmtui.ui.scenes`.
"""

import pytest

from hmtui.ui.scenes import SCENES, make_app, start_server


@pytest.mark.parametrize("scene", SCENES, ids=lambda scene: scene.name)
def test_scene(snap_compare, scene) -> None:
    server = start_server()
    try:
        app = make_app(server, **dict(scene.kwargs))
        assert snap_compare(app, terminal_size=scene.size, run_before=scene.run)
    finally:
        server.stop()
