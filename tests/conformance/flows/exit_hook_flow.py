"""@exit_hook: one hook per outcome that prints a line (and appends it to $HOOK_LOG when set), and
one that always raises (logged; the run's status stays)."""

import os

from flowc import FlowSpec, Parameter, exit_hook, step


def _append(line):
    print(f"hook-fired: {line}", flush=True)
    path = os.environ.get("HOOK_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def announce_success(run):
    _append(f"success {run.pathspec} successful={run.successful}")


def announce_failure(run):
    _append(f"error {run.pathspec} successful={run.successful}")


def broken_hook():
    raise RuntimeError("this hook always fails")


@exit_hook(on_success=[broken_hook, announce_success], on_error=["announce_failure", broken_hook])
class ExitHookFlow(FlowSpec):
    fail = Parameter("fail", default=False, type=bool)

    @step
    def start(self):
        if self.fail:
            raise ValueError("asked to fail")
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ExitHookFlow()
