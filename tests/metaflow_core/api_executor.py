"""``python -m tests.metaflow_core.api_executor run|resume [STEP]``: one command of a case through
flowc's programmatic executor, as ``run_tests.py``'s ``api`` executor runs Metaflow's ``Runner``.

``run_tests.py`` turns the context's options into keyword arguments (``construct_arg_dict``: the
top-level ones for ``Runner(...)``, the run options plus ``run_id_file="run-id"`` for ``.run()``
and ``.resume()``), reads what the command printed from ``result.command_obj.log_files`` and its
exit code from ``result.command_obj.process.returncode``. This does the same against
``flowc.Runner``, in a process of its own so the case's timeout stops it with its tasks; it prints
the command's output and exits with its code, so the case reads it as it reads a CLI command's.
The options come as JSON in ``FLOWC_CORE_API_OPTIONS``: ``{"top": [...], "run": [...]}``.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from flowc import Runner

__all__ = ["keyword_arguments"]

#: Metaflow's click parameter names where they differ from the option's (``--tag`` is ``tags``).
_PARAMETER_NAMES = {"tag": "tags"}
#: Parameters that click declares ``multiple=True`` (a list of values).
_MULTIPLE = frozenset({"tags"})


def keyword_arguments(options: list[str]) -> dict[str, Any]:
    """``["--max-workers=50", "--tag=a", "--tag=b", "--quiet"]`` -> ``{"max_workers": 50,
    "tags": ["a", "b"], "quiet": True}`` (``construct_arg_dict``: integers typed as click types them)."""
    arguments: dict[str, Any] = {}
    for option in options:
        name, has_value, text = option.removeprefix("--").partition("=")
        key = name.replace("-", "_")
        key = _PARAMETER_NAMES.get(key, key)
        value: Any = (int(text) if text.isdigit() else text) if has_value else True
        if key in _MULTIPLE:
            arguments.setdefault(key, []).append(value)
        else:
            arguments[key] = value
    return arguments


def main(argv: list[str]) -> int:
    mode, *step = argv
    options = json.loads(os.environ["FLOWC_CORE_API_OPTIONS"])
    command_arguments = {**keyword_arguments(options["run"]), "run_id_file": "run-id"}
    with Runner(
        "test_flow.py", show_output=False, env=dict(os.environ), **keyword_arguments(options["top"])
    ) as runner:
        if mode == "run":
            result = runner.run(**command_arguments)
        else:
            result = runner.resume(*step, **command_arguments)
        for stream, name in ((sys.stdout, "stdout"), (sys.stderr, "stderr")):
            with open(result.command_obj.log_files[name], encoding="utf-8") as log:
                stream.write(log.read())
        return result.command_obj.process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
