"""`python -m data …` — see data/cli.py and docs/cli.md."""

import sys

from data.cli import main

if __name__ == "__main__":
    sys.exit(main())
