import sys

from hmtui.cli import main

sys.exit(main())
