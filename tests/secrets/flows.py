"""A flow whose steps read secrets from several providers; it stores only digests of the values
(a value never becomes an artifact), so a test can search the datastore and logs for the values."""

FLOW = """import hashlib
import os

from flowc import FlowSpec, secrets, step


def digest(name):
    return hashlib.sha256(os.environ[name].encode()).hexdigest()


class SecretsFlow(FlowSpec):
    @secrets(sources={sources})
    @step
    def start(self):
        self.digests = {{name: digest(name) for name in {names}}}
        self.next(self.end)

    @step
    def end(self):
        self.leaked = [name for name in {names} if name in os.environ]
"""


def secrets_flow(sources: list, names: list[str]) -> str:
    """The flow's source: ``start`` has ``@secrets(sources=sources)`` and digests ``names``."""
    return FLOW.format(sources=repr(sources), names=repr(names))
