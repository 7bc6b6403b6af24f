"""Bad input gets a 4xx, never a 500, and is refused before any work starts (issue 18 §5).

The session's temporary devnet daemon (A of tests/support/shared_peers.py, shared with
the robustness tests). First the inputs a fuzzing run found (each gave a
500 or was wrongly accepted), then a property-based run over every operation of the OpenAPI
document with generated valid and invalid requests (schemathesis): at most 20 examples per
operation (5 valid, 5 invalid). Values that reach the file system or the network (paths,
multiaddrs) and token amounts come from a safe fixture, so nothing outside the data dir's
temporary folder is read, nothing beyond 127.0.0.1 is dialled, and every buy happens on this
throw-away devnet. The same daemon also runs the API suite (``support.api_suite``) that the UI
tests' fake passes in ``tests/unit/webui/test_fake_api_suite.py``, last.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from support.api_suite import ApiSuite, HttpApi
from support.daemon import Daemon
from support.shared_peers import SharedPeers

from peer.cli.client import DaemonClient
from peer.datadir import DataDir, read_credentials
from peer.errors import DaemonError

pytestmark = pytest.mark.integration

EXAMPLES_PER_MODE = 5  # valid + invalid = 10 per operation (the issue allows 20)
ZERO = "0x" + "0" * 40


@dataclass
class Target:
    daemon: Daemon
    client: DaemonClient
    token: str
    me: str
    small_file: Path


@pytest.fixture(scope="module")
def target(shared_peers: SharedPeers, tmp_path_factory: pytest.TempPathFactory) -> Target:
    daemon = shared_peers.a
    creds = read_credentials(DataDir(daemon.data_dir.resolve()))
    assert creds is not None
    client = DaemonClient(creds)
    token = client.post("/api/v1/token", {"name": "Fuzz", "symbol": "FUZZ"})["address"]
    me = client.get("/api/v1/profile")["address"]
    small = tmp_path_factory.mktemp("inputs") / "small.txt"
    small.write_text("not a video\n")
    return Target(daemon, client, token, me, small)


def refused(target: Target, method: str, path: str, body: Any = None) -> tuple[int, str | None]:
    try:
        if method == "GET":
            target.client.get(path)
        else:
            target.client.post(path, body)
    except DaemonError as exc:
        return exc.status, exc.code
    return 200, None


def test_amounts_outside_uint256_and_non_ascii_digits_are_400(target: Target) -> None:
    token = target.token
    huge = str(2**256)
    for amount in (huge, "٣", "１", " 1", "1 ", "²", "1e3", "-1", "0", "+1", "0x10", "1.", ""):
        quote = f"/api/v1/tokens/{token}/quote?side=buy&amount={requests.utils.quote(amount)}"
        assert refused(target, "GET", quote) == (400, "bad_amount"), amount
        for side in ("buy", "sell"):
            body = {"amount": amount, "confirm": True}
            got = refused(target, "POST", f"/api/v1/tokens/{token}/{side}", body)
            assert got == (400, "bad_amount"), (side, amount)
    holders = target.client.get(f"/api/v1/tokens/{token}/holders")["holders"]
    assert holders == [], "nothing was bought"


def test_bounds_in_other_digits_are_400(target: Target) -> None:
    token = target.token
    for name, side in (("max_cost", "buy"), ("min_refund", "sell")):
        for bound in ("²", "٣", str(2**256)):
            body = {"amount": "1", name: bound, "confirm": True}
            got = refused(target, "POST", f"/api/v1/tokens/{token}/{side}", body)
            assert got == (400, "bad_amount"), (name, bound)


def test_zero_and_unknown_token_addresses_are_4xx(target: Target) -> None:
    unknown = "0x" + secrets.token_hex(20)
    for address, expected in ((ZERO, (400, "bad_address")), (unknown, (404, "unknown_token"))):
        for path in ("", "/quote?side=buy&amount=1", "/history", "/holders"):
            assert refused(target, "GET", f"/api/v1/tokens/{address}{path}") == expected, path
        got = refused(target, "POST", f"/api/v1/tokens/{address}/buy", {"amount": "1"})
        assert got == expected


def test_min_balance_beyond_the_supply_cap_is_refused_at_submit(target: Target) -> None:
    for min_balance in ("²", str(10**9 + 1), str(2**256), 2**256):
        body = {
            "path": str(target.small_file),
            "title": "too dear",
            "premium": True,
            "min_balance": min_balance,
        }
        status, code = refused(target, "POST", "/api/v1/publish/file", body)
        assert (status, code) in {(400, "bad_amount"), (400, "bad_request")}, min_balance


def test_profile_names_with_control_characters_or_lone_surrogates_are_400(
    target: Target,
) -> None:
    for name in ("\ud800", "nul\x00", "bell\x07", "esc\x1b[31m", "del\x7f", "c1\x85"):
        assert refused(target, "POST", "/api/v1/profile", {"name": name}) == (400, "bad_name")
    assert target.client.post("/api/v1/profile", {"name": "Plain Name"})["name"] == "Plain Name"


def test_titles_with_control_characters_are_refused_before_any_work(target: Target) -> None:
    body = {"path": str(target.small_file), "title": "a\x00b", "tags": ["x"]}
    assert refused(target, "POST", "/api/v1/publish/file", body) == (400, "bad_request")
    body = {"path": str(target.small_file), "title": "ok", "tags": ["t\x1b"]}
    assert refused(target, "POST", "/api/v1/publish/file", body) == (400, "bad_request")


# -- property-based run over the whole OpenAPI document ----------------------------------------


def safe_values(target: Target) -> dict[str, list[Any]]:
    """What path parameters and the body fields that touch files, peers or money may be."""
    closed_port = "/ip4/127.0.0.1/tcp/9/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
    return {
        "token": [target.token, ZERO, "0x" + "ab" * 20, "nonsense"],
        "address": [target.me, "0x" + "cd" * 20, "0x12"],
        "post_id": ["0x" + "11" * 32, "0x" + "zz" * 32, "1"],
        "job": ["nojob", "x" * 300],
        "rendition": ["720p", "x"],
        "path": [str(target.small_file), str(target.small_file.parent / "missing"), "rel/a"],
        "multiaddr": [closed_port, "/ip4/127.0.0.1/tcp/notaport", "garbage"],
        "peer": [closed_port, "garbage"],
        "amount": ["1", "0.5", str(2**256), "٣", "-1", "x", 1],
    }


def test_no_generated_request_gets_a_500(target: Target) -> None:
    creds = target.client.creds
    base = creds.url.rstrip("/")
    document = target.client.get("/api/v1/openapi.json")
    schema = schemathesis.openapi.from_dict(document)
    values = safe_values(target)
    auth = {"Origin": base, "Authorization": f"Bearer {creds.cli_token}"}  # the CLI's credential
    session = requests.Session()
    failures: list[str] = []
    calls = 0
    statuses: Counter[int] = Counter()

    def run(operation: Any, mode: schemathesis.GenerationMode) -> None:
        @given(data=st.data())
        @settings(
            max_examples=EXAMPLES_PER_MODE,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def one(data: st.DataObject) -> None:
            nonlocal calls
            case = data.draw(operation.as_strategy(mode))
            for name in list(case.path_parameters or {}):
                if name in values:
                    case.path_parameters[name] = data.draw(st.sampled_from(values[name]))
            if isinstance(case.body, dict):
                for name in list(case.body):
                    if name in values:
                        case.body[name] = data.draw(st.sampled_from(values[name]))
            if case.headers and "Origin" in case.headers:
                case.headers["Origin"] = base
            kwargs = case.as_transport_kwargs(base_url=base, headers=auth)
            # stream: the event stream never ends; only the status line matters here
            response = session.request(**kwargs, stream=True, timeout=60)
            calls += 1
            statuses[response.status_code] += 1
            try:
                if response.status_code == 500:  # 502-504 name a peer, the chain or a timeout
                    sent = json.dumps(case.body, default=str)[:200] if case.body else ""
                    failures.append(
                        f"{response.status_code} {case.method} {case.formatted_path} "
                        f"query={case.query} body={sent}"
                    )
            finally:
                response.close()

        try:
            one()
        except Unsatisfiable:
            # an operation without parameters or body has no invalid request to generate
            if mode is not schemathesis.GenerationMode.NEGATIVE:
                raise

    for operation in schema.get_all_operations():
        op = operation.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            run(op, mode)
    print(f"schemathesis: {calls} requests, statuses {sorted(statuses.items())}")  # -rP
    assert calls > 0
    assert not failures, "\n".join(failures)
    assert target.daemon.process.poll() is None, "the daemon is still running"
    assert os.path.exists(target.small_file), "the fixture file was not touched"


@pytest.fixture(scope="module")
def api(target: Target) -> HttpApi:
    creds = json.loads((target.daemon.data_dir / "api.json").read_text())
    return HttpApi(target.daemon.url, creds["cli_token"], target.me)


class TestApiSuiteOnTheDaemon(ApiSuite):
    """Every case of the suite, on the session's shared devnet daemon (after the fuzzing above)."""
