import sys

from curate.cli.app import main

sys.exit(main())
