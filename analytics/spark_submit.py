"""The command line as a file for spark-submit, which runs a script rather than a module:

    spark-submit [--master ... --conf ...] analytics/spark_submit.py refresh --engine spark --lake DIR --db FILE

A script's own folder goes first on Python's path, where analytics/org.py would stand in for the standard
library's `org` lookups; this file takes its folder off the path and puts the repository on it before importing
anything else, then runs `python -m analytics` with the same arguments."""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _here]
sys.path.insert(0, os.path.dirname(_here))

from analytics.cli import main  # noqa: E402 - the path above first

sys.exit(main())
