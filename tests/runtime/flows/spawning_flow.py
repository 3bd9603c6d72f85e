"""Reliability tests: each foreach task starts a child in its own session and a double-forked
daemon (in a session of its own too), writes their pids and its own to FAULT_DIR/<index>.pids,
then (with SPAWN_WAIT set) sleeps until it is stopped."""

import os
import subprocess
import sys
import time

from flowc import FlowSpec, step

DAEMON = """
import os, time
if os.fork() == 0:
    os.setsid()
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        time.sleep(300)
        os._exit(0)
    print(pid, flush=True)
    os._exit(0)
os.wait()
"""


class SpawningFlow(FlowSpec):
    @step
    def start(self):
        self.items = [0, 1]
        self.next(self.spawn, foreach="items")

    @step
    def spawn(self):
        folder = os.environ["FAULT_DIR"]
        own_session = subprocess.Popen(["sleep", "300"], start_new_session=True)
        daemon = subprocess.run([sys.executable, "-c", DAEMON], capture_output=True, text=True, check=True)
        pids = f"{os.getpid()} {own_session.pid} {daemon.stdout.strip()}"
        with open(os.path.join(folder, f"{self.input}.tmp"), "w") as handle:
            handle.write(pids)
        os.rename(os.path.join(folder, f"{self.input}.tmp"), os.path.join(folder, f"{self.input}.pids"))
        if os.environ.get("SPAWN_WAIT"):
            time.sleep(300)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    SpawningFlow()
