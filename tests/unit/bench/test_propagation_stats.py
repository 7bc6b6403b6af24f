"""The pure helpers of ``scripts/bench propagation``: topology, publishers and the arithmetic
that turns publish and arrival times into the reported figures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "benchmarks" / "propagation_stats.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("propagation_stats", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["propagation_stats"] = module  # dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module


ps = _load()
MS = 1_000_000


@given(st.integers(2, 40), st.integers(1, 5), st.integers(0, 1000))
def test_topology_is_connected_simple_and_sparse(n: int, dials: int, seed: int) -> None:
    edges = ps.topology(n, dials, seed)
    assert ps.is_connected(n, edges)
    pairs = {frozenset(e) for e in edges}
    assert len(pairs) == len(edges)  # no edge twice, in either direction
    assert all(a != b and 0 <= a < n and 0 <= b < n for a, b in edges)
    assert len(edges) <= n * min(dials, n - 1)


def test_topology_is_the_same_for_the_same_seed_and_differs_for_another() -> None:
    assert ps.topology(30, 3, 1) == ps.topology(30, 3, 1)
    assert ps.topology(30, 3, 1) != ps.topology(30, 3, 2)


def test_every_peer_dials_the_requested_number_of_others() -> None:
    edges = ps.topology(10, 3, 7)
    assert all(d >= 3 for d in ps.degrees(10, edges))


def test_is_connected_spots_two_islands() -> None:
    assert not ps.is_connected(4, [(0, 1), (2, 3)])
    assert ps.is_connected(4, [(0, 1), (2, 3), (1, 2)])


def test_publishers_are_seeded_and_in_range() -> None:
    first = ps.publishers(10, 100, 1)
    assert first == ps.publishers(10, 100, 1)
    assert all(0 <= p < 10 for p in first)
    assert len(set(first)) > 1


def test_percentile_is_nearest_rank() -> None:
    samples = [float(x) for x in range(1, 101)]
    assert ps.percentile(samples, 0.99) == 99.0
    assert ps.percentile(samples, 0.0) == 1.0
    assert ps.percentile([5.0], 0.99) == 5.0


def test_time_to_all_is_the_latest_arrival_and_the_publisher_is_not_counted() -> None:
    delivery = ps.Delivery(
        n=3,
        publisher=[0, 2],
        published_ns=[1000 * MS, 2000 * MS],
        received={
            (0, 1): 1010 * MS,
            (0, 2): 1030 * MS,
            (0, 0): 1000 * MS,  # the publisher's own copy: ignored
            (1, 0): 2020 * MS,
            (1, 1): 2040 * MS,
        },
    )
    out = ps.summarize(delivery)
    assert out["posts_reaching_all"] == 2
    assert out["per_post_ms"] == [30.0, 40.0]
    assert out["median_ms"] == 35.0
    assert out["p99_ms"] == 40.0
    assert out["delivered_fraction"] == 1.0
    assert out["per_peer_median_ms"] == pytest.approx(25.0)


def test_a_post_missing_one_peer_lowers_the_fraction_and_leaves_the_times() -> None:
    delivery = ps.Delivery(
        n=3,
        publisher=[0, 0],
        published_ns=[0, 100 * MS],
        received={(0, 1): 5 * MS, (0, 2): 7 * MS, (1, 1): 106 * MS},
    )
    out = ps.summarize(delivery)
    assert out["posts_reaching_all"] == 1
    assert out["delivered_fraction"] == 0.75
    assert out["median_ms"] == 7.0
    assert out["per_post_ms"] == [7.0, None]
    assert out["missed_by_peer"] == {"2": 1}


def test_a_failed_publish_counts_as_undelivered() -> None:
    delivery = ps.Delivery(n=2, publisher=[0, 1], published_ns=[0, None], received={(0, 1): MS})
    out = ps.summarize(delivery)
    assert out["posts_published"] == 1
    assert out["delivered_fraction"] == 0.5
    assert out["per_post_ms"] == [1.0, None]


def test_nothing_delivered_reports_no_times() -> None:
    out = ps.summarize(ps.Delivery(n=3, publisher=[0], published_ns=[0], received={}))
    assert out["delivered_fraction"] == 0.0
    assert "median_ms" not in out


def test_ratio_handles_missing_and_zero() -> None:
    assert ps.ratio(30.0, 10.0) == 3.0
    assert ps.ratio(None, 10.0) is None
    assert ps.ratio(3.0, 0.0) is None
