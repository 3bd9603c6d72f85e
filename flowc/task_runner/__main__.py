"""``python -m flowc.task_runner ARGV``: run one task (exit codes in docs/architecture.md)."""

import sys

from flowc.task_runner.entry import main

sys.exit(main(sys.argv[1:], supervised=True))
