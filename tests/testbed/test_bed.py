"""The bed itself: the delay line (round trip the kernel measures, loss, per-flow order), the
isolation check, and that nothing is left behind after a run or a killed run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from netbed import Bed, IsolationError, netns, registry
from testbed.conftest import REPO, probe

ECHO_PORT = 7000
UDP_PORT = 7001


def start_echo(bed: Bed, name: str) -> None:
    server = bed.hosts[name]
    log = server.dir / "echo.log"
    echo = server.popen(probe("tcp-echo", "--bind", f"{server.address}:{ECHO_PORT}"), log=log)
    deadline = time.monotonic() + 10
    while "listening" not in log.read_text():
        assert echo.poll() is None, "the echo server exited"
        assert time.monotonic() < deadline, "the echo server did not start"
        time.sleep(0.05)


def measure_rtt(bed: Bed, a: str, b: str) -> dict[str, float]:
    """Round trip from host a to host b as TCP_INFO reports it after 20 ping-pongs."""
    start_echo(bed, b)
    server = bed.hosts[b]
    done = bed.hosts[a].exec(*probe("tcp-ping", "--to", f"{server.address}:{ECHO_PORT}"))
    return dict(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("one_way_a", "jitter_a", "one_way_b", "jitter_b"),
    [(40, 10, 40, 10), (10, 0, 60, 0), (100, 0, 100, 30)],
)
def test_round_trip_the_kernel_reports_is_within_20_percent_of_the_set_latency(
    bed: Bed, one_way_a: float, jitter_a: float, one_way_b: float, jitter_b: float
) -> None:
    bed.add_host("a", latency_ms=one_way_a, jitter_ms=jitter_a)
    bed.add_host("b", latency_ms=one_way_b, jitter_ms=jitter_b)
    expected = 2 * (one_way_a + one_way_b)  # each way: a's link, then b's link
    measured = measure_rtt(bed, "a", "b")
    print(f"RTT set {expected} ms, kernel (TCP_INFO) {measured['tcpi_rtt_ms']:.1f} ms")
    assert abs(measured["tcpi_rtt_ms"] - expected) <= 0.2 * expected, measured


def udp_run(bed: Bed, a: str, b: str, count: int, interval: float) -> dict[str, int]:
    sink_host = bed.hosts[b]
    log = sink_host.dir / "sink.log"
    sink = sink_host.popen(
        probe("udp-sink", "--bind", f"{sink_host.address}:{UDP_PORT}", "--seconds", "30"),
        log=log,
    )
    deadline = time.monotonic() + 10
    while "listening" not in log.read_text():
        assert time.monotonic() < deadline, "the sink did not start"
        time.sleep(0.05)
    bed.hosts[a].exec(
        *probe("udp-send", "--to", f"{sink_host.address}:{UDP_PORT}"),
        *("--count", str(count), "--interval", str(interval)),
    )
    sink.wait(40)  # it stops 2 s after the last datagram
    lines = [line for line in log.read_text().splitlines() if line.startswith('{"received"')]
    assert lines, f"the sink printed no result: {log.read_text()}"
    return dict(json.loads(lines[-1]))


def test_loss_is_close_to_the_rate_set(bed: Bed) -> None:
    bed.add_host("a", latency_ms=5, loss=0.10)
    bed.add_host("b", latency_ms=5, loss=0.0)
    result = udp_run(bed, "a", "b", count=2000, interval=0.0005)
    share = result["received"] / 2000
    print(f"loss set 10 %, measured {100 * (1 - share):.1f} % of 2000 datagrams")
    assert 0.86 <= share <= 0.94, result  # ±4 points: 6 standard deviations of 2000 draws


def test_jitter_keeps_each_flows_packet_order(bed: Bed) -> None:
    # ±20 ms of jitter on 1 ms spacing would reorder most packets if each were delayed alone
    bed.add_host("a", latency_ms=20, jitter_ms=20)
    bed.add_host("b", latency_ms=20, jitter_ms=20)
    result = udp_run(bed, "a", "b", count=1000, interval=0.001)
    assert result["received"] == 1000, result
    assert result["reordered"] == 0, result


def test_the_isolation_check_refuses_a_bed_with_a_route_out(bed: Bed) -> None:
    a = bed.add_host("a")
    bed.check_isolation()  # a fresh bed passes
    netns.ip(a.ns, "route", "add", "10.0.0.0/8", "dev", "eth0")
    with pytest.raises(IsolationError, match=r"route out: 10\.0\.0\.0/8"):
        a.exec("true")
    with pytest.raises(IsolationError, match="route out"):
        a.run_peer()
    with pytest.raises(IsolationError, match="route out"):
        bed.add_host("b")
    netns.ip(a.ns, "route", "del", "10.0.0.0/8", "dev", "eth0")
    netns.ip(a.ns, "route", "add", "default", "via", a.gateway)
    with pytest.raises(IsolationError, match="route out: default"):
        a.exec("true")
    netns.ip(a.ns, "route", "del", "default")
    a.exec("true")  # isolated again: it runs


def test_the_isolation_check_refuses_foreign_links_and_addresses(bed: Bed) -> None:
    a = bed.add_host("a")
    netns.ip(a.ns, "tuntap", "add", "dev", "extra", "mode", "tun")
    with pytest.raises(IsolationError, match="link extra of kind tun"):
        a.exec("true")
    netns.ip(a.ns, "link", "del", "extra")
    netns.ip(a.ns, "addr", "add", "192.168.7.1/32", "dev", "eth0")
    with pytest.raises(IsolationError, match=r"address 192\.168\.7\.1 is outside"):
        a.exec("true")


def leftovers(run_id: str, inodes: list[int]) -> dict[str, object]:
    """What a run left: namespaces, links in the root namespace, processes, its record."""
    links = netns.run("ip", "-o", "link", "show")
    return {
        "namespaces": registry.namespaces_of(run_id),
        "root_links": [line for line in links.splitlines() if run_id in line],
        "processes": [pid for inode in inodes for pid in netns.pids_with_netns_inode(inode)],
        "record": (registry.RECORDS_DIR / f"{run_id}.json").exists(),
    }


NOTHING = {"namespaces": [], "root_links": [], "processes": [], "record": False}


def test_nothing_is_left_behind_after_a_run(tmp_path: Path) -> None:
    with Bed(tmp_path / "bed") as bed:
        for name in ("a", "b"):
            bed.add_host(name, latency_ms=5)
        start_echo(bed, "b")
        inodes = [netns.inode_of(ns) for ns in bed.namespaces]
        pids = [pid for inode in inodes for pid in netns.pids_with_netns_inode(inode)]
        assert len(pids) >= 2  # the delay line and the echo server
        assert leftovers(bed.run_id, inodes) != NOTHING
    assert leftovers(bed.run_id, inodes) == NOTHING


def test_a_killed_run_is_removed_at_the_next_start_and_a_live_one_is_not(
    tmp_path: Path, bed: Bed
) -> None:
    bed.add_host("live")
    holder = subprocess.Popen(
        [sys.executable, "-m", "netbed", "hold", "--hosts", "2", "--workdir", str(tmp_path / "k")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        start_new_session=True,
    )
    assert holder.stdout is not None
    info = json.loads(holder.stdout.readline())
    run_id = info["run_id"]
    inodes = [netns.inode_of(ns) for ns in registry.namespaces_of(run_id)]
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    holder.stdout.close()
    left = leftovers(run_id, inodes)
    assert len(left["namespaces"]) == 3  # type: ignore[arg-type]
    assert left["processes"], "the killed run's delay line should still be running"
    assert run_id in registry.dead_runs()
    assert bed.run_id not in registry.dead_runs()
    with Bed(tmp_path / "next") as following:
        assert leftovers(run_id, inodes) == NOTHING
        assert following.run_id not in registry.dead_runs()
    assert registry.namespaces_of(bed.run_id)  # the live run was not touched
    bed.hosts["live"].exec("true")


def test_the_command_line_brings_a_bed_up_and_down(tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "netbed", *args],
            capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        )  # fmt: skip

    up = cli("up", "--hosts", "2", "--workdir", str(tmp_path / "cli"))
    assert up.returncode == 0, up.stdout + up.stderr
    info = json.loads(up.stdout)
    assert set(info["hosts"]) == {"h1", "h2"}
    assert all(h["address"].startswith("198.1") for h in info["hosts"].values())
    status = json.loads(cli("status", "--json").stdout)
    assert {"run_id": info["run_id"], "alive": True} in [
        {"run_id": r["run_id"], "alive": r["alive"]} for r in status
    ]
    down = cli("down", info["run_id"])
    assert down.returncode == 0, down.stderr
    assert registry.namespaces_of(info["run_id"]) == []
