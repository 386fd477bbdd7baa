from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
PROTOCOL_VERSION_1: ProtocolVersion
PROTOCOL_VERSION_UNSPECIFIED: ProtocolVersion

class ClientFrame(_message.Message):
    __slots__ = ["call_id", "client_name", "kind", "method", "payload", "protocol_version", "timeout_ms"]
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    CALL: ClientFrame.Kind
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL: ClientFrame.Kind
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    HELLO: ClientFrame.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    KIND_UNSPECIFIED: ClientFrame.Kind
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    call_id: int
    client_name: str
    kind: ClientFrame.Kind
    method: str
    payload: bytes
    protocol_version: ProtocolVersion
    timeout_ms: int
    def __init__(self, call_id: _Optional[int] = ..., kind: _Optional[_Union[ClientFrame.Kind, str]] = ..., method: _Optional[str] = ..., timeout_ms: _Optional[int] = ..., payload: _Optional[bytes] = ..., protocol_version: _Optional[_Union[ProtocolVersion, str]] = ..., client_name: _Optional[str] = ...) -> None: ...

class ErrorDetail(_message.Message):
    __slots__ = ["category", "permanent", "remedy", "retry_after_seconds"]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    category: str
    permanent: bool
    remedy: str
    retry_after_seconds: float
    def __init__(self, category: _Optional[str] = ..., permanent: bool = ..., remedy: _Optional[str] = ..., retry_after_seconds: _Optional[float] = ...) -> None: ...

class ServerFrame(_message.Message):
    __slots__ = ["call_id", "kind", "max_inflight_calls", "max_message_bytes", "payload", "protocol_version", "server_version", "status_code", "status_message"]
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = []
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    GOAWAY: ServerFrame.Kind
    HELLO_ACK: ServerFrame.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    KIND_UNSPECIFIED: ServerFrame.Kind
    MAX_INFLIGHT_CALLS_FIELD_NUMBER: _ClassVar[int]
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_VERSION_FIELD_NUMBER: _ClassVar[int]
    REPLY: ServerFrame.Kind
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STREAM_MESSAGE: ServerFrame.Kind
    call_id: int
    kind: ServerFrame.Kind
    max_inflight_calls: int
    max_message_bytes: int
    payload: bytes
    protocol_version: ProtocolVersion
    server_version: str
    status_code: int
    status_message: str
    def __init__(self, call_id: _Optional[int] = ..., kind: _Optional[_Union[ServerFrame.Kind, str]] = ..., status_code: _Optional[int] = ..., status_message: _Optional[str] = ..., payload: _Optional[bytes] = ..., protocol_version: _Optional[_Union[ProtocolVersion, str]] = ..., server_version: _Optional[str] = ..., max_message_bytes: _Optional[int] = ..., max_inflight_calls: _Optional[int] = ...) -> None: ...

class ProtocolVersion(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
