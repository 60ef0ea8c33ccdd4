"""`gage ray up --workers N`: a local Ray cluster to try distributed runs on (Ctrl-C stops it).

It is `ray start --head --block` with the options a gage run needs; on a real cluster use Ray's own tooling
(`ray start --head` on the head node, `ray start --address HEAD:6379` on the others) and pass
`--ray-address auto` (on a node) or `ray://HEAD:10001` (from elsewhere) to `gage run`.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Optional

import typer

from gage_eval.errors import ConfigError, GageError

ray_app = typer.Typer(help="a local Ray cluster for distributed runs (`gage run --ray-address`)",
                      no_args_is_help=True)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@ray_app.command("up")
def up(
    workers: Optional[int] = typer.Option(None, "--workers", help="CPUs the cluster offers (one per gage worker) "
                                                                 "[default: this machine's CPU count]"),
    port: int = typer.Option(6379, "--port", help="GCS port (the address for --ray-address HOST:PORT)"),
    client_port: int = typer.Option(10001, "--client-port", help="Ray Client port (--ray-address ray://HOST:PORT)"),
) -> None:
    """Start a Ray head node on this machine and keep it in the foreground until Ctrl-C."""
    from gage_eval.distributed.ray_pool import import_ray

    import_ray("gage ray up")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ConfigError("--workers must be at least 1", path="--workers", fix="give a positive number")
    for option, value in (("--port", port), ("--client-port", client_port)):
        if _listening(value):
            raise ConfigError(f"port {value} is already in use (a Ray cluster may be running)", path=option,
                              fix=f"pass another {option}, or use the running cluster with --ray-address auto")
    cmd = [sys.executable, "-c", "from ray.scripts.scripts import main; main()", "start", "--head",
           f"--num-cpus={workers}", f"--port={port}", f"--ray-client-server-port={client_port}",
           "--include-dashboard=false", "--disable-usage-stats", "--block"]
    proc = subprocess.Popen(cmd)
    try:
        deadline = time.monotonic() + 120
        while not (_listening(port) and _listening(client_port)):
            if proc.poll() is not None:
                raise GageError(f"ray start exited with code {proc.returncode}", fix="see its output above")
            if time.monotonic() > deadline:
                raise GageError("the Ray cluster did not come up within 120 s", fix="see the output of ray start above")
            time.sleep(0.2)
        host = socket.gethostname()
        typer.echo(f"ready: a Ray cluster with {workers} CPUs. Run on it with\n"
                   f"  gage run CONFIG --ray-address auto --workers {workers}        (on this machine)\n"
                   f"  gage run CONFIG --ray-address ray://{host}:{client_port}     (from another machine)\n"
                   f"Ctrl-C stops the cluster.", err=False)
        sys.stdout.flush()
        proc.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # ray start --block drains and stops its processes
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        _forget_address(port)


def _forget_address(port: int) -> None:
    """A stopped cluster's address left in Ray's "current cluster" file would send a later `ray.init()` or
    `--ray-address auto` to a dead port; `ray stop` removes it, a signalled `ray start --block` does not."""
    try:
        from ray._common.utils import get_ray_address_file
    except ImportError:
        return
    path = get_ray_address_file(None)
    try:
        with open(path) as fh:
            if fh.read().strip().endswith(f":{port}"):
                os.remove(path)
    except OSError:
        pass


def register(app: typer.Typer) -> None:
    app.add_typer(ray_app, name="ray")
