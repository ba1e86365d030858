"""`python -m hmtui` and the `hmtui` command (pyproject's entry point is `run` here, so both
pause the collector before the first import of the app)."""

import sys

from hmtui.startup import pause_gc

pause_gc()

from hmtui.cli import main  # noqa: E402  (after pause_gc: that is the point)


def run() -> int:
    return main()


if __name__ == "__main__":
    sys.exit(run())
