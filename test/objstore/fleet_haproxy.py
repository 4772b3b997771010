"""HAProxy for the fleet test (fleet_test.py): the shipped deploy/haproxy/haproxy.cfg made concrete
for loopback, run in the foreground, and driven through its runtime socket.

What is changed in the shipped file, and nothing else (each change must match exactly, so the test
fails when the file's shape changes instead of silently testing something else):
- the runtime socket moves into the test's directory;
- `maxconn` drops to 2000: HAProxy wants two file descriptors per connection, and a test machine's
  limit (20,000 here) is below what 20,000 connections need;
- both frontends bind loopback ports with TLS (the certificate of `nobus dev-certs`; the SDKs
  speak https, and gRPC over TLS needs ALPN h2);
- the example servers n1..n3 become the three nodes, reached over TLS (verified against the dev
  CA), with their health checks in plaintext on each node's ops port."""
import re
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "deploy/haproxy/haproxy.cfg"


def free_ports(n):
    """n distinct loopback ports free now (bound together, then released)."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class HAProxy:
    def __init__(self, work, certs, nodes):
        self.work = Path(work)
        self.nodes = nodes
        self.grpc_port, self.http_port = free_ports(2)
        self.socket_path = self.work / "haproxy.sock"
        self.config_path = self.work / "haproxy.cfg"
        self.log_path = self.work / "haproxy.log"
        pem = self.work / "lb.pem"
        pem.write_text((certs / "server.pem").read_text() + (certs / "server.key").read_text())
        self.config_path.write_text(self.render(pem, certs / "ca.pem"))
        self.proc = None

    def render(self, pem, ca):
        text = SHIPPED.read_text()

        def sub(pattern, repl, count):
            nonlocal text
            text, n = re.subn(pattern, repl, text, flags=re.M)
            assert n == count, f"{SHIPPED}: {pattern!r} matched {n} times, not {count}"

        sub(r"stats socket /run/haproxy/admin\.sock", f"stats socket {self.socket_path}", 1)
        sub(r"^    maxconn 20000$", "    maxconn 2000", 1)
        sub(r"bind :7070 proto h2 .*$", f"bind 127.0.0.1:{self.grpc_port} ssl crt {pem} alpn h2", 1)
        sub(r"bind :7071 .*$", f"bind 127.0.0.1:{self.http_port} ssl crt {pem} alpn http/1.1", 1)
        tls = f"ssl verify required ca-file {ca} verifyhost localhost"
        by_name = {n.name: n for n in self.nodes}
        sub(r"server (n\d) 10\.0\.0\.\d:7070 check check-proto h1 port 7072$",
            lambda m: (f"server {m[1]} 127.0.0.1:{by_name[m[1]].grpc} {tls} alpn h2 check "
                       f"check-proto h1 port {by_name[m[1]].ops} no-check-ssl"), 3)
        sub(r"server (n\d) 10\.0\.0\.\d:7071 check port 7072$",
            lambda m: (f"server {m[1]} 127.0.0.1:{by_name[m[1]].http} {tls} check "
                       f"port {by_name[m[1]].ops} no-check-ssl"), 3)
        return text

    def start(self):
        check = subprocess.run(["haproxy", "-c", "-f", str(self.config_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert check.returncode == 0, f"haproxy -c: {check.stdout}"
        with open(self.log_path, "a") as out:
            self.proc = subprocess.Popen(["haproxy", "-db", "-f", str(self.config_path)],
                                         stdout=out, stderr=out, stdin=subprocess.DEVNULL)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def admin(self, command):
        """One runtime API command; its answer."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.socket_path))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def statuses(self):
        """{(backend, server): status} from `show stat` ("UP", "DOWN", "DRAIN", "UP 1/2", ...)."""
        lines = self.admin("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        out = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(",")))
            if row.get("svname") not in ("FRONTEND", "BACKEND", None):
                out[(row["pxname"], row["svname"])] = row["status"]
        return out

    def wait_until(self, ok, what, timeout_s=60):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"haproxy exited {self.proc.returncode}: "
                                   f"{self.log_path.read_text()[-2000:]}")
            try:
                if ok(self.statuses()):
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.1)
        raise TimeoutError(f"haproxy: {what} within {timeout_s} s (log {self.log_path})")

    def wait_all_up(self):
        self.wait_until(lambda s: s and all(v == "UP" for v in s.values()), "every server UP")

    def wait_status(self, server, status):
        self.wait_until(lambda s: s[("be_zerobus", server)] == status, f"{server} {status}")

    def set_state(self, server, state):
        for backend in ("be_zerobus", "be_http"):
            answer = self.admin(f"set server {backend}/{server} state {state}").strip()
            assert not answer, f"haproxy: set server {backend}/{server} state {state}: {answer}"
