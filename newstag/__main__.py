import sys

from newstag.cli import main

sys.exit(main())
