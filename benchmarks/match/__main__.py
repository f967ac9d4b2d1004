import sys

from benchmarks.match.cli import main

sys.exit(main())
