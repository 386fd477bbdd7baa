"""The package against the schema it was generated from, and the framing
core on its own (no daemon)."""
from __future__ import annotations

import dataclasses
import inspect
import re

import pytest

import sidecar_client as sc
from sidecar_client import _api, _protocol, _types
from sidecar_client._proto import sidecar_pb2, wire_pb2


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def all_methods():
    for service in sidecar_pb2.DESCRIPTOR.services_by_name.values():
        for method in service.methods:
            prefix = "" if service.name == "Sidecar" else snake(service.name) + "_"
            yield prefix + snake(method.name), method


@pytest.mark.parametrize("face", [sc.Client, sc.AsyncClient])
def test_every_method_of_the_schema_has_a_method_in_both_faces(face):
    names = [name for name, _ in all_methods()]
    assert len(names) == 21
    for name in names:
        assert callable(getattr(face, name, None)), f"{face.__name__} has no {name}()"
        assert "timeout" in inspect.signature(getattr(face, name)).parameters, f"{face.__name__}.{name} takes no timeout="
    assert sorted(_api.METHODS) == sorted(names)


def test_every_method_builds_the_wire_name_of_the_schema():
    examples = {
        "health": (), "ensure_image": ("x", None, None), "list_images": (7, "t"), "acquire_lease": ("t", "h", 1),
        "release_lease": ("id",), "list_leases": (7, "t"), "check_db": ("/p", False, None),
        "report_db_error": ("/p", "c", "m", None, False), "reserve_retry_slot": ("k", "e", None, None, "a/b:1"),
        "complete_attempt": ("k", True, None), "list_retries": ("active", "p", 7, "t"), "list_policies": (),
        "reset_retry": ("k",), "classify": ("m", None, None, "a/b:1"), "list_rules": (), "prune": (False,), "scrub": (),
        "metrics": (), "reload": (),
        "debug_sleep": (1,), "watch": (["a."],),
    }
    for name, method in all_methods():
        call = getattr(_api, name)(*examples[name])
        service = method.containing_service.name
        assert call.method == (method.name if service == "Sidecar" else f"{service}.{method.name}")
        method.input_type._concrete_class.FromString(call.payload)  # the request type parses


RESULTS = {
    "HealthResponse": _types.HealthResponse, "ClassifyResponse": _types.ClassifyResponse, "Event": _types.Event,
    "ReloadResponse": _types.ReloadResponse, "Lease": _types.Lease, "EnsureImageResponse": _types.EnsureImageResponse,
    "ImageInfo": _types.ImageInfo, "CheckDbResponse": _types.CheckDbResponse,
    "ReportDbErrorResponse": _types.ReportDbErrorResponse, "ReserveRetrySlotResponse": _types.ReserveRetrySlotResponse,
    "RetryInfo": _types.RetryInfo, "RetryPolicyInfo": _types.RetryPolicyInfo, "PruneResponse": _types.PruneResponse,
    "SleepResponse": _types.SleepResponse, "RuleInfo": _types.RuleInfo, "ScrubResponse": _types.ScrubResponse,
    "ScrubFinding": _types.ScrubFinding,
}


@pytest.mark.parametrize("message", sorted(RESULTS))
def test_every_result_has_the_fields_of_its_message(message):
    descriptor = sidecar_pb2.DESCRIPTOR.message_types_by_name[message]
    assert [f.name for f in dataclasses.fields(RESULTS[message])] == [f.name for f in descriptor.fields]


@pytest.mark.parametrize(
    "python_enum, proto_enum",
    [
        (_types.Outcome, sidecar_pb2.EnsureImageResponse.Outcome),
        (_types.DbVerdict, sidecar_pb2.DbVerdict),
        (_types.Action, sidecar_pb2.ReportDbErrorResponse.Action),
        (_types.Decision, sidecar_pb2.ReserveRetrySlotResponse.Decision),
    ],
)
def test_enums_are_named_and_numbered_as_in_the_proto(python_enum, proto_enum):
    assert {m.name: m.value for m in python_enum} == dict(proto_enum.items())


def test_results_convert_nested_messages_enums_lists_and_maps():
    message = sidecar_pb2.EnsureImageResponse(
        outcome=sidecar_pb2.EnsureImageResponse.BUILT, name="a", lease=sidecar_pb2.Lease(id="L1", holder="h")
    )
    result = _types.from_message(_types.EnsureImageResponse, message)
    assert result.outcome is sc.Outcome.BUILT and result.lease.id == "L1" and result.lease.holder == "h"
    assert _types.from_message(_types.EnsureImageResponse, sidecar_pb2.EnsureImageResponse()).lease is None
    event = _types.from_message(_types.Event, sidecar_pb2.Event(topic="t", attributes={"a": "1"}))
    assert event.attributes == {"a": "1"} and isinstance(event.attributes, dict)


def test_fleet_fields_are_decoded_from_the_wire():
    health = sidecar_pb2.HealthResponse(
        state="serving", fleet_state="degraded", fleet_host_id="host-a", fleet_reason="connection refused",
        fleet_degraded_since_unix_ms=1700000000123, fleet_claims=["agent (epoch 3)", "", "db (epoch 1)"],
        fleet_waits=["web (claimed by node-2)"],
    )
    result = _api.health().decode(health.SerializeToString())
    assert (result.fleet_state, result.fleet_host_id, result.fleet_reason, result.fleet_degraded_since_unix_ms) == (
        "degraded", "host-a", "connection refused", 1700000000123)
    assert result.fleet_claims == ["agent (epoch 3)", "", "db (epoch 1)"] and type(result.fleet_claims) is list
    assert result.fleet_waits == ["web (claimed by node-2)"] and type(result.fleet_waits) is list
    assert _api.health().decode(b"").fleet_claims == [] == _api.health().decode(b"").fleet_waits
    slot = sidecar_pb2.ReserveRetrySlotResponse(decision=sidecar_pb2.ReserveRetrySlotResponse.GRANTED, answered_locally=True)
    result = _api.reserve_retry_slot("k", "e", None, None).decode(slot.SerializeToString())
    assert result.decision is sc.Decision.GRANTED and result.answered_locally is True


def server_frame(**fields) -> bytes:
    body = wire_pb2.ServerFrame(**fields).SerializeToString()
    return len(body).to_bytes(4, "big") + body


def test_session_reassembles_frames_split_anywhere():
    session = _protocol.Session("/s")
    data = (
        server_frame(kind=wire_pb2.ServerFrame.HELLO_ACK, server_version="9.9", max_message_bytes=1000)
        + server_frame(kind=wire_pb2.ServerFrame.REPLY, call_id=2, payload=b"xyz")
        + server_frame(kind=wire_pb2.ServerFrame.REPLY, call_id=1)
    )
    frames = []
    for i in range(len(data)):  # one byte at a time
        frames += session.receive(data[i : i + 1])
    assert [(f.call_id, f.payload) for f in frames] == [(2, b"xyz"), (1, b"")]
    assert session.server_version == "9.9" and session.max_message_bytes == 1000
    with pytest.raises(sc.SidecarError) as raised:
        session.call("Health", b"x" * 1000, 0)
    assert raised.value.code == sc.StatusCode.RESOURCE_EXHAUSTED


def test_calls_are_numbered_and_framed_as_the_protocol_page_says():
    session = _protocol.Session("/s")
    assert session.hello("n")[4:] == wire_pb2.ClientFrame(
        kind=wire_pb2.ClientFrame.HELLO, protocol_version=1, client_name="n"
    ).SerializeToString()
    first, frame = session.call("Health", b"", 0)
    second, _ = session.call("Health", b"", 0)
    assert (first, second) == (1, 2)
    # The page's example: CALL id=1 "Health" is 0000000c 08 01 10 02 1a 06 Health.
    assert frame.hex() == "0000000c" + "0801" + "1002" + "1a06" + b"Health".hex()
    assert session.call("Debug.Sleep", b"", 1500)[1][4:] == wire_pb2.ClientFrame(
        kind=wire_pb2.ClientFrame.CALL, call_id=3, method="Debug.Sleep", timeout_ms=1500
    ).SerializeToString()


def test_a_failed_reply_carries_its_error_detail_and_goaway_is_unavailable():
    detail = wire_pb2.ErrorDetail(category="build_failed", permanent=True, remedy="fix it", retry_after_seconds=2.5)
    frame = wire_pb2.ServerFrame(kind=3, call_id=1, status_code=10, status_message="boom", payload=detail.SerializeToString())
    with pytest.raises(sc.SidecarError) as raised:
        _protocol.payload_of(frame)
    assert raised.value.code == sc.StatusCode.ABORTED and raised.value.message == "boom"
    assert raised.value.detail == sc.ErrorDetail("build_failed", True, "fix it", 2.5)
    with pytest.raises(sc.SidecarError) as goaway:
        _protocol.Session("/x.sock").receive(server_frame(kind=4, status_code=8, status_message="too many"))
    assert goaway.value.code == sc.StatusCode.UNAVAILABLE
    assert "/x.sock" in goaway.value.message and "RESOURCE_EXHAUSTED: too many" in goaway.value.message


def test_timeouts_become_whole_milliseconds_on_the_wire():
    assert _protocol.timeout_ms(None) == 0
    assert _protocol.timeout_ms(0.0001) == 1
    assert _protocol.timeout_ms(1.5) == 1500
    with pytest.raises(ValueError):
        _protocol.timeout_ms(-1)


def test_the_default_socket_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIDECAR_SOCKET", "/somewhere/s.sock")
    assert sc.default_socket_path() == ("/somewhere/s.sock", ["/somewhere/s.sock"])
    monkeypatch.delenv("SIDECAR_SOCKET")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    path, tried = sc.default_socket_path()
    if _protocol.os.path.exists(_protocol.ROOT_SOCKET):
        assert path == _protocol.ROOT_SOCKET
    else:
        assert (path, tried) == (f"{tmp_path}/sidecar.sock", [_protocol.ROOT_SOCKET, f"{tmp_path}/sidecar.sock"])
