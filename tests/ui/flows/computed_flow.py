"""A flow whose decorator argument is not a literal, so its IR needs its module imported.

Importing the module leaves a file named after the importing process's pid in
``$FLOWC_TEST_MARKER_DIR``: the UI tests prove the server never imports it itself.
"""

import os

from flowc import FlowSpec, retry, step

RETRIES = int("1")

if os.environ.get("FLOWC_TEST_MARKER_DIR"):
    with open(os.path.join(os.environ["FLOWC_TEST_MARKER_DIR"], f"imported-{os.getpid()}"), "w") as marker:
        marker.write("imported")


class ComputedFlow(FlowSpec):
    @retry(times=RETRIES)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    ComputedFlow()
