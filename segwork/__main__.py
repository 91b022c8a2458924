"""``python -m segwork``: the ``segwork`` command, for where the environment's scripts folder is
not on ``PATH`` (a scheduler's job, a notebook's ``!`` line)."""

import sys

from segwork.cli import main

if __name__ == "__main__":
    sys.exit(main())
