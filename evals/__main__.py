"""`python -m evals ...`: the same as `assistant eval ...`."""

import os
import sys

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from evals.runner import main  # noqa: E402

sys.exit(main())
