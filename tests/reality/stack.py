"""The system under test and its clients as processes: nginx in front of gunicorn, and Locust.

Writes nginx's configuration into the run's folder (listening on 127.0.0.1 on a free port, the
combined log format followed by $request_time and $upstream_response_time for `surge fit`, a
second log with $msec for the harness's own windows, its own proxy timeouts), starts gunicorn
(127.0.0.1, sync workers, an explicit --backlog and worker timeout) and nginx in the foreground
(`daemon off`, so both stay children of the harness), and runs Locust headless against nginx,
bounded by --run-time and by `timeout`. Every process started is recorded with its pid and
stopped by that pid (TERM, then KILL) however the harness ends: `Processes.stop_all` runs from
a finally block and from the signal handlers reality.py installs; children also get SIGTERM from
the kernel if the harness dies (PR_SET_PDEATHSIG).

It measures nothing itself except the load generator's CPU (from /proc/PID/stat, once a second).
"""

import ctypes
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PR_SET_PDEATHSIG = 1

COMBINED_TIMES = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent" $request_time $upstream_response_time'
)
PRECISE = "$msec $status $request_time $upstream_response_time"


def free_port():
    """A port free on 127.0.0.1 now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The stack and Locust run at this priority when the harness can raise it (root): together they
# use well under a core, and on a machine shared with builds, a niced-down build must not
# delay nginx's and Locust's clocks (a starved Locust times out late).
PRIORITY = -10


def _child_setup():
    """In the child before exec: die with the harness, own process group, many open files, and
    a raised priority where allowed."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass
    os.setpgid(0, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, PRIORITY)
    except OSError:
        pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))


class Processes:
    """Every process the harness started, by pid, to stop them all however it ends."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, env=None, stdout=None):
        out = open(stdout, "w") if stdout else subprocess.DEVNULL
        # No standard input: Locust reads keys from a terminal, and a process group of its own
        # reading the terminal would be stopped (SIGTTIN).
        p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, preexec_fn=_child_setup)
        self.procs.append((name, p))
        return p

    def stop(self, p, grace=5.0):
        if p.poll() is not None:
            return
        try:
            os.kill(p.pid, signal.SIGTERM)
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
        except ProcessLookupError:
            pass

    def stop_all(self):
        for _name, p in reversed(self.procs):
            self.stop(p)
        self.procs.clear()


def nginx_binary():
    for path in ("/usr/sbin/nginx", "/usr/bin/nginx"):
        if os.path.exists(path):
            return path
    return "nginx"


def write_nginx_conf(folder, port, upstream_port, cfg):
    user = "www-data" if os.geteuid() == 0 else ""
    conf = f"""# Written by tests/reality/stack.py for one run of the reality check.
{f"user {user};" if user else ""}
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
    log_format combined_times '{COMBINED_TIMES}';
    log_format precise '{PRECISE}';
    access_log {folder}/access.log combined_times;
    access_log {folder}/precise.log precise;
    client_body_temp_path {folder}/tmp-body;
    proxy_temp_path {folder}/tmp-proxy;
    fastcgi_temp_path {folder}/tmp-fastcgi;
    uwsgi_temp_path {folder}/tmp-uwsgi;
    scgi_temp_path {folder}/tmp-scgi;
    keepalive_timeout 75s;
    upstream app {{ server 127.0.0.1:{upstream_port}; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://app;
            proxy_connect_timeout {round(cfg['nginx_connect_timeout'] * 1000)}ms;
            proxy_read_timeout {round(cfg['nginx_read_timeout'] * 1000)}ms;
            proxy_send_timeout {round(cfg['nginx_read_timeout'] * 1000)}ms;
        }}
    }}
}}
"""
    path = os.path.join(folder, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def wait_port(port, deadline_s=15.0):
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {deadline_s:.0f} s")


def start_stack(procs, folder, cfg, venv_bin):
    """gunicorn then nginx, both on 127.0.0.1; returns nginx's port."""
    os.makedirs(folder, exist_ok=True)
    served = os.path.join(folder, "served")
    os.makedirs(served, exist_ok=True)
    gport, nport = free_port(), free_port()
    env = dict(os.environ,
               REALITY_SERVICE_MEAN=str(cfg["service_mean"]),
               REALITY_SERVICE_CV=str(cfg["service_cv"]),
               REALITY_SEED=str(cfg["seed"]),
               REALITY_SERVED_DIR=served,
               PYTHONPATH=HERE)
    argv = [os.path.join(venv_bin, "gunicorn"), "app:app",
            "--config", os.path.join(HERE, "gunicorn_conf.py"),
            "--bind", f"127.0.0.1:{gport}",
            "--worker-class", "sync",
            "--workers", str(cfg["workers"]),
            "--backlog", str(cfg["backlog"]),
            "--timeout", str(cfg["worker_timeout"]),
            "--chdir", HERE]
    procs.start("gunicorn", argv, env=env, stdout=os.path.join(folder, "gunicorn.out"))
    wait_port(gport)
    conf = write_nginx_conf(folder, nport, gport, cfg)
    nginx = nginx_binary()
    test = subprocess.run([nginx, "-t", "-q", "-p", folder, "-c", conf],
                          capture_output=True, text=True)
    if test.returncode != 0:
        raise RuntimeError(f"nginx refuses {conf}: {test.stderr.strip()}")
    procs.start("nginx", [nginx, "-p", folder, "-c", conf],
                stdout=os.path.join(folder, "nginx.out"))
    wait_port(nport)
    return nport


class CpuSampler(threading.Thread):
    """Samples a process's CPU (user + system, share of one core) once a second."""

    def __init__(self, pid, t0_file):
        super().__init__(daemon=True)
        self.pid, self.t0_file = pid, t0_file
        self.samples = []  # (seconds since the test's start, share of one core over the last second)
        self.done = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    def cpu_s(self):
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.tick

    def run(self):
        try:
            last_t, last_c = time.time(), self.cpu_s()
            while not self.done.wait(1.0):
                now, c = time.time(), self.cpu_s()
                self.samples.append((now, (c - last_c) / (now - last_t)))
                last_t, last_c = now, c
        except (OSError, IndexError, ValueError):
            return


def run_locust(procs, folder, port, cfg, stages, venv_bin):
    """Locust headless against nginx for the stages; returns (t0 epoch, CPU samples)."""
    run_time = int(stages[-1][0])
    t0_file = os.path.join(folder, "t0.txt")
    env = dict(os.environ,
               REALITY_THINK=str(cfg["think"]),
               REALITY_TIMEOUT=str(cfg["client_timeout"]),
               REALITY_REFRESH=str(cfg["refresh"]),
               REALITY_GIVE_UP=str(cfg["give_up"]),
               REALITY_SEED=str(cfg["seed"]),
               REALITY_STAGES=str([[float(a), int(b)] for a, b in stages]),
               REALITY_T0_FILE=t0_file)
    argv = ["timeout", "-k", "5", str(run_time + 30),
            os.path.join(venv_bin, "locust"), "-f", os.path.join(HERE, "locustfile.py"),
            "--headless", "--host", f"http://127.0.0.1:{port}",
            "--run-time", f"{run_time}s", "--stop-timeout", "0",
            "--csv", os.path.join(folder, "locust"), "--only-summary",
            "--loglevel", "WARNING"]
    p = procs.start("locust", argv, env=env, stdout=os.path.join(folder, "locust.out"))
    # `timeout` runs locust as its child: sample the child, once it exists.
    sampler = None
    for _ in range(100):
        kids = _children(p.pid)
        if kids:
            sampler = CpuSampler(kids[0], t0_file)
            sampler.start()
            break
        time.sleep(0.05)
    rc = p.wait()
    if sampler:
        sampler.done.set()
        sampler.join()
    if rc not in (0, 1):
        tail = open(os.path.join(folder, "locust.out")).read()[-2000:]
        raise RuntimeError(f"locust exited with {rc}:\n{tail}")
    with open(t0_file) as f:
        t0 = float(f.read())
    return t0, [(t - t0, share) for t, share in (sampler.samples if sampler else [])]


def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


if __name__ == "__main__":
    sys.exit("stack.py is a module of tests/reality/reality.py")
