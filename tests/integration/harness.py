"""Runs the three real Nonaxis daemons against a private GOVERNANCE_BASE_DIR.

Each daemon gets only the keys its role needs, exactly as in production. As root,
the daemons drop to their own users (created here if missing), so directory
rights are enforced by the kernel, not by convention.
"""
import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time

BIN = os.environ.get("NONAXIS_BIN_DIR", "")
ROLES = ("operator", "ciso", "arbiter")


def binary(name):
    path = os.path.join(BIN, name)
    if not os.path.exists(path):
        raise RuntimeError(f"{path} not built; set NONAXIS_BIN_DIR")
    return path


def ensure_users():
    """As root: the shared read group and one user per role."""
    if os.geteuid() != 0:
        return
    subprocess.run(["groupadd", "-f", "--system", "nonaxis"], check=True)
    for role in ROLES:
        try:
            pwd.getpwnam(f"nonaxis-{role}")
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            "-g", "nonaxis", f"nonaxis-{role}"], check=True)


class Pipeline:
    def __init__(self, extra_env=None):
        ensure_users()
        self.base = tempfile.mkdtemp(prefix="nonaxis-it-")
        os.chmod(self.base, 0o755)
        self.keys = {
            "GOVERNANCE_SIGNING_KEY_OPERATOR": secrets.token_hex(32),
            "GOVERNANCE_SIGNING_KEY_CISO": secrets.token_hex(32),
            "GOVERNANCE_SIGNING_KEY_ARBITER": secrets.token_hex(32),
            "ARBITER_TOKEN_SECRET": secrets.token_hex(32),
            "GOVERNANCE_SIGNING_KEY_SANDBOX": secrets.token_hex(32),
        }
        self.extra_env = dict(extra_env or {})
        self.procs = {}
        self.logs = {}

    # Which keys each role holds (docs/ARCHITECTURE.md).
    ROLE_KEYS = {
        "operator": ["GOVERNANCE_SIGNING_KEY_OPERATOR"],
        "ciso": ["GOVERNANCE_SIGNING_KEY_CISO", "GOVERNANCE_SIGNING_KEY_OPERATOR"],
        "arbiter": ["GOVERNANCE_SIGNING_KEY_ARBITER", "GOVERNANCE_SIGNING_KEY_CISO",
                    "GOVERNANCE_SIGNING_KEY_OPERATOR", "ARBITER_TOKEN_SECRET", "GOVERNANCE_SIGNING_KEY_SANDBOX"],
    }

    def env(self, role, **over):
        # Port 0: each daemon's HTTP surface takes a free port and logs it, so tests
        # running side by side never collide.
        e = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "GOVERNANCE_BASE_DIR": self.base,
             "NONAXIS_RESCAN_SECONDS": "2", "ARBITER_PORT": "0", "CISO_HTTP_PORT": "0", "OPERATOR_HTTP_PORT": "0"}
        for k in self.ROLE_KEYS[role]:
            e[k] = self.keys[k]
        for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if k in os.environ:
                e[k] = os.environ[k]
        e.update(self.extra_env)
        e.update(over)
        return e

    def start(self, role):
        path = os.path.join(tempfile.gettempdir(), f"{os.path.basename(self.base)}-{role}.log")
        self.logs[role] = path
        with open(path, "ab") as log:  # the child keeps its own descriptor
            self.procs[role] = subprocess.Popen([binary(f"nonaxis-{role}"), "serve"], env=self.env(role),
                                                stdout=log, stderr=log)

    def start_all(self):
        self.operator("init")
        self.start("ciso")
        self.start("arbiter")
        self.wait_ready()

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        needed = {"ciso": "ciso_ready", "arbiter": "arbiter_ready", "operator": "operator_ready"}
        while time.time() < deadline:
            ok = True
            for role, marker in needed.items():
                if role in self.procs:
                    if self.procs[role].poll() is not None:
                        raise RuntimeError(f"{role} exited: {self.log_text(role)[-2000:]}")
                    ok = ok and marker in self.log_text(role)
            if ok:
                return
            time.sleep(0.05)
        raise RuntimeError("daemons not ready: " + " | ".join(self.log_text(r)[-500:] for r in self.procs))

    def port(self, role):
        """The HTTP port the role's daemon logged at start (http_listening)."""
        for line in self.log_text(role).splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("event") == "http_listening":
                return ev["port"]
        raise RuntimeError(f"{role} logged no http_listening event")

    def url(self, role, path):
        return f"http://127.0.0.1:{self.port(role)}{path}"

    def log_text(self, role):
        with open(self.logs[role], "r", errors="replace") as f:
            return f.read()

    def kill(self, role, sig=signal.SIGKILL):
        p = self.procs.get(role)
        if p and p.poll() is None:
            p.send_signal(sig)
            p.wait(timeout=30)

    def stop_all(self):
        for role in list(self.procs):
            self.kill(role, signal.SIGTERM)

    def close(self):
        self.stop_all()
        shutil.rmtree(self.base, ignore_errors=True)  # logs stay in /tmp for post-mortems

    def operator(self, *args, check=False, **env_over):
        return subprocess.run([binary("nonaxis-operator"), *args], env=self.env("operator", **env_over),
                              capture_output=True, text=True, timeout=120, check=check)

    def submit(self, action, *, command=None, file=None, hosts=(), wait=20, context=None):
        args = ["submit", "--action", action, "--json", "--wait", str(wait)]
        if command is not None:
            args += ["--command", command]
        if file is not None:
            args += ["--file", file]
        for h in hosts:
            args += ["--host", h]
        if context:
            args += ["--context", context]
        r = self.operator(*args)
        out = json.loads(r.stdout) if r.stdout.strip() else None
        return r.returncode, out, r.stderr

    def arbiter_cli(self, *args):
        return subprocess.run([binary("nonaxis-arbiter"), *args], env=self.env("arbiter"),
                              capture_output=True, text=True, timeout=120)

    def path(self, *parts):
        return os.path.join(self.base, *parts)

    def json_files(self, sub):
        d = self.path(sub)
        return sorted(f for f in os.listdir(d) if not f.startswith("."))
