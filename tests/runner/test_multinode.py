"""Two "machines" on this one: two network namespaces joined by a veth pair, one torchrun
agent in each (`--nnodes 2`, c10d rendezvous over the veth addresses, gloo), one
`evalkit run` into a shared run directory. The result equals the single-process run at
the same per-process thread count: the same image bytes and the same numbers.

.ci/run creates the namespaces and exports EVALKIT_TEST_NETNS ("nsA=addrA,nsB=addrB");
without it the test creates (and removes) its own, which needs root and iproute2 —
missing those, it is skipped locally and fails under CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.config import load_spec
from evalkit.runner.run import run_benchmark
from launcher import free_port, tiny_sd_spec  # tests/runner/launcher.py

PROMPTS = "id,text,category\na,A red cube.,Colors\nb,Two dogs.,Counting\nc,A blue ball.,Colors\n"


def _need(ok: bool, why: str) -> None:
    if not ok:
        (pytest.fail if os.environ.get("CI") else pytest.skip)(why)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def hosts():
    """[(namespace, address, interface)] for the two hosts."""
    given = os.environ.get("EVALKIT_TEST_NETNS")
    if given:
        pairs = [item.split("=") for item in given.split(",")]
        yield [(ns, addr, f"ek-veth{i}") for i, (ns, addr) in enumerate(pairs)]
        return
    _need(shutil.which("ip") is not None and os.geteuid() == 0, "needs root and iproute2 to make network namespaces")
    tag = os.getpid() % 10000
    names, addrs = [f"ek{tag}a", f"ek{tag}b"], [f"10.213.{tag % 250}.1", f"10.213.{tag % 250}.2"]
    for ns in names:
        _ip("netns", "add", ns)
    try:
        _ip("link", "add", "ek-veth0", "netns", names[0], "type", "veth", "peer", "name", "ek-veth1", "netns", names[1])
        for i, (ns, addr) in enumerate(zip(names, addrs)):
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", f"ek-veth{i}")
            _ip("-n", ns, "link", "set", f"ek-veth{i}", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield [(ns, addr, f"ek-veth{i}") for i, (ns, addr) in enumerate(zip(names, addrs))]
    finally:
        for ns in names:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory) -> Path:
    metrics = {"fid": {"bootstrap": 5}, "kid": {"subset_size": 4, "subsets": 5}, "clip_score": {"model": "builtin:tiny-clip"}}
    return tiny_sd_spec(tmp_path_factory.mktemp("nodes"), "nodes", 11, PROMPTS, metrics)


def node_command(host, master: str, port: int, spec: Path, out: Path) -> list[str]:
    ns, addr, iface = host
    torchrun = str(Path(sys.executable).parent / "torchrun")
    # The hostname is the same in both namespaces, so say which agent hosts the rendezvous store.
    is_host = "true" if addr == master else "false"
    return ["ip", "netns", "exec", ns, "env", f"GLOO_SOCKET_IFNAME={iface}", torchrun, "--nnodes", "2",
            "--nproc_per_node", "1", "--rdzv_backend", "c10d", "--rdzv_endpoint", f"{master}:{port}", "--rdzv_id", "evalkit",
            "--rdzv_conf", f"is_host={is_host}", "--local_addr", addr, "-m", "evalkit", "run", str(spec), "--out", str(out)]


def images(run: Path) -> dict[str, bytes]:
    return {p.relative_to(run).as_posix(): p.read_bytes() for p in sorted((run / "images").rglob("*.png"))}


@pytest.mark.slow
def test_two_network_namespaces_make_the_single_process_run(hosts, spec_path, tmp_path):
    from evalkit.runner.run_dir import load_results

    one = run_benchmark(load_spec(spec_path), tmp_path / "one")  # 2 threads, as each node process uses
    shared = tmp_path / "shared"
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # evalkit then gives each single-process node both cores
    nodes = [subprocess.Popen(node_command(h, hosts[0][1], port, spec_path, shared), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for h in hosts]
    logs = [p.communicate(timeout=600)[0] for p in nodes]
    for p, log in zip(nodes, logs):
        assert p.returncode == 0, log[-3000:]
    (run_dir,) = shared.iterdir()
    assert run_dir.name == one.run_dir.name
    assert images(run_dir) == images(one.run_dir) and len(images(run_dir)) == 6
    journals = sorted(p.name for p in run_dir.glob("samples.rank*.jsonl"))
    assert journals == ["samples.rank0.jsonl", "samples.rank1.jsonl"]  # both machines made images
    assert load_results(run_dir)[0].flat() == pytest.approx(one.results.flat(), rel=1e-6, abs=1e-9)
    assert json.loads((run_dir / "metrics.json").read_text())["n_images"] == 6
