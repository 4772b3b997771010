"""What the Python kill loops of this folder (mqtt_kill_loop.py, kafka_kill_loop.py,
persistent_kill_loop.py) share beyond test/server/nobusd_process.py: the append-only files a
client process keeps across SIGKILLs, a free loopback port for an endpoint that must come back on
the same port after a restart, and the client processes themselves (the loop's own file run again
in another mode, one process at a time, SIGKILLed and started again by the driver)."""
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def append_lines(path):
    """A line-buffered appender to path; a line a killed predecessor left unfinished is ended
    first (it is then malformed and skipped by the readers, not glued to our first line)."""
    try:
        with open(path, "rb") as f:
            unfinished = False
            if f.seek(0, os.SEEK_END) > 0:
                f.seek(-1, os.SEEK_END)
                unfinished = f.read(1) != b"\n"
    except OSError:
        unfinished = False
    out = open(path, "a", buffering=1)
    if unfinished:
        out.write("\n")
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Child:
    """A client process of a kill loop, one at a time: `python SCRIPT MODE ARGS...` (the loop's own
    file in another mode), stdin and stdout closed, stderr appended to log_path. `label` names
    the current process in failures (a subclass names its sessions)."""

    @property
    def label(self):
        return self.log_path.stem

    def __init__(self, log_path):
        self.log_path = Path(log_path)
        self.proc = None

    def spawn(self, script, mode, *args):
        with open(self.log_path, "a") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(Path(script).resolve()), mode, *map(str, args)],
                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """SIGKILL (unless it has ended already), and reap it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def finish(self, timeout_s):
        """Its exit code once it ends by itself within timeout_s; else kill() and "timeout"."""
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            return "timeout"

    def finish_failure(self, timeout_s):
        """finish(): None when it exited 0, else the failure."""
        code = self.finish(timeout_s)
        if code == 0:
            return None
        return f"{self.label} did not finish cleanly: exit {code} (log {self.log_path})"


def exited_early(children, round_no):
    """The failures of the children that have ended while the kill rounds go on."""
    return [f"round {round_no}: {c.label} exited {c.proc.returncode} (log {c.log_path})"
            for c in children if c.proc.poll() is not None]
