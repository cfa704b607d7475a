from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    INVALID_FIELD: _ClassVar[ErrorReason]
    VERSION_NOT_FOUND: _ClassVar[ErrorReason]
    ALIAS_NOT_FOUND: _ClassVar[ErrorReason]
    FUNCTION_NOT_FOUND: _ClassVar[ErrorReason]
    OVERLOADED: _ClassVar[ErrorReason]
    TENANT_LIMIT: _ClassVar[ErrorReason]
    DEADLINE_TOO_SHORT: _ClassVar[ErrorReason]
    DRAINING: _ClassVar[ErrorReason]
    POOL_UNAVAILABLE: _ClassVar[ErrorReason]
    UNAUTHENTICATED_CLIENT: _ClassVar[ErrorReason]
    TENANT_NOT_ALLOWED: _ClassVar[ErrorReason]
    INTERNAL_FAILURE: _ClassVar[ErrorReason]
    OPERATOR_ONLY: _ClassVar[ErrorReason]
    STORAGE_UNAVAILABLE: _ClassVar[ErrorReason]
    UPLOAD_LIMIT: _ClassVar[ErrorReason]

class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATUS_UNSPECIFIED: _ClassVar[Status]
    OK: _ClassVar[Status]
    COMPILE_ERROR: _ClassVar[Status]
    RUNTIME_ERROR: _ClassVar[Status]
    INVALID_RETURN: _ClassVar[Status]
    TIMEOUT: _ClassVar[Status]
    MEMORY_LIMIT: _ClassVar[Status]
    CPU_LIMIT: _ClassVar[Status]
    OUTPUT_LIMIT: _ClassVar[Status]
    NOT_FOUND: _ClassVar[Status]
    INTERNAL_ERROR: _ClassVar[Status]
ERROR_REASON_UNSPECIFIED: ErrorReason
INVALID_FIELD: ErrorReason
VERSION_NOT_FOUND: ErrorReason
ALIAS_NOT_FOUND: ErrorReason
FUNCTION_NOT_FOUND: ErrorReason
OVERLOADED: ErrorReason
TENANT_LIMIT: ErrorReason
DEADLINE_TOO_SHORT: ErrorReason
DRAINING: ErrorReason
POOL_UNAVAILABLE: ErrorReason
UNAUTHENTICATED_CLIENT: ErrorReason
TENANT_NOT_ALLOWED: ErrorReason
INTERNAL_FAILURE: ErrorReason
OPERATOR_ONLY: ErrorReason
STORAGE_UNAVAILABLE: ErrorReason
UPLOAD_LIMIT: ErrorReason
STATUS_UNSPECIFIED: Status
OK: Status
COMPILE_ERROR: Status
RUNTIME_ERROR: Status
INVALID_RETURN: Status
TIMEOUT: Status
MEMORY_LIMIT: Status
CPU_LIMIT: Status
OUTPUT_LIMIT: Status
NOT_FOUND: Status
INTERNAL_ERROR: Status

class SourceFile(_message.Message):
    __slots__ = ("name", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    source: str
    def __init__(self, name: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...

class DeployRequest(_message.Message):
    __slots__ = ("tenant", "files", "alias")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    files: _containers.RepeatedCompositeFieldContainer[SourceFile]
    alias: str
    def __init__(self, tenant: _Optional[str] = ..., files: _Optional[_Iterable[_Union[SourceFile, _Mapping]]] = ..., alias: _Optional[str] = ...) -> None: ...

class CompileError(_message.Message):
    __slots__ = ("file", "line", "message")
    FILE_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    file: str
    line: int
    message: str
    def __init__(self, file: _Optional[str] = ..., line: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class Deployed(_message.Message):
    __slots__ = ("version_id", "functions", "created")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    functions: _containers.RepeatedScalarFieldContainer[str]
    created: bool
    def __init__(self, version_id: _Optional[str] = ..., functions: _Optional[_Iterable[str]] = ..., created: _Optional[bool] = ...) -> None: ...

class CompileErrors(_message.Message):
    __slots__ = ("errors",)
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    errors: _containers.RepeatedCompositeFieldContainer[CompileError]
    def __init__(self, errors: _Optional[_Iterable[_Union[CompileError, _Mapping]]] = ...) -> None: ...

class DeployResponse(_message.Message):
    __slots__ = ("deployed", "compile_errors")
    DEPLOYED_FIELD_NUMBER: _ClassVar[int]
    COMPILE_ERRORS_FIELD_NUMBER: _ClassVar[int]
    deployed: Deployed
    compile_errors: CompileErrors
    def __init__(self, deployed: _Optional[_Union[Deployed, _Mapping]] = ..., compile_errors: _Optional[_Union[CompileErrors, _Mapping]] = ...) -> None: ...

class ExecuteRequest(_message.Message):
    __slots__ = ("tenant", "version_id", "alias", "function", "args_json", "conversation_json", "deadline_ms", "call_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    ARGS_JSON_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_JSON_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_MS_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    version_id: str
    alias: str
    function: str
    args_json: str
    conversation_json: str
    deadline_ms: int
    call_id: str
    def __init__(self, tenant: _Optional[str] = ..., version_id: _Optional[str] = ..., alias: _Optional[str] = ..., function: _Optional[str] = ..., args_json: _Optional[str] = ..., conversation_json: _Optional[str] = ..., deadline_ms: _Optional[int] = ..., call_id: _Optional[str] = ...) -> None: ...

class LogRecord(_message.Message):
    __slots__ = ("level", "message")
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    level: str
    message: str
    def __init__(self, level: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ToolError(_message.Message):
    __slots__ = ("kind", "message", "file", "line", "traceback")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    TRACEBACK_FIELD_NUMBER: _ClassVar[int]
    kind: str
    message: str
    file: str
    line: int
    traceback: str
    def __init__(self, kind: _Optional[str] = ..., message: _Optional[str] = ..., file: _Optional[str] = ..., line: _Optional[int] = ..., traceback: _Optional[str] = ...) -> None: ...

class Usage(_message.Message):
    __slots__ = ("wall_ms", "cpu_ms", "peak_rss_bytes", "http_requests", "http_bytes")
    WALL_MS_FIELD_NUMBER: _ClassVar[int]
    CPU_MS_FIELD_NUMBER: _ClassVar[int]
    PEAK_RSS_BYTES_FIELD_NUMBER: _ClassVar[int]
    HTTP_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    HTTP_BYTES_FIELD_NUMBER: _ClassVar[int]
    wall_ms: float
    cpu_ms: float
    peak_rss_bytes: int
    http_requests: int
    http_bytes: int
    def __init__(self, wall_ms: _Optional[float] = ..., cpu_ms: _Optional[float] = ..., peak_rss_bytes: _Optional[int] = ..., http_requests: _Optional[int] = ..., http_bytes: _Optional[int] = ...) -> None: ...

class Result(_message.Message):
    __slots__ = ("status", "action_json", "state_json", "state_changes_json", "logs", "error", "usage")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTION_JSON_FIELD_NUMBER: _ClassVar[int]
    STATE_JSON_FIELD_NUMBER: _ClassVar[int]
    STATE_CHANGES_JSON_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    status: Status
    action_json: str
    state_json: str
    state_changes_json: str
    logs: _containers.RepeatedCompositeFieldContainer[LogRecord]
    error: ToolError
    usage: Usage
    def __init__(self, status: _Optional[_Union[Status, str]] = ..., action_json: _Optional[str] = ..., state_json: _Optional[str] = ..., state_changes_json: _Optional[str] = ..., logs: _Optional[_Iterable[_Union[LogRecord, _Mapping]]] = ..., error: _Optional[_Union[ToolError, _Mapping]] = ..., usage: _Optional[_Union[Usage, _Mapping]] = ...) -> None: ...

class ExecuteResponse(_message.Message):
    __slots__ = ("result", "version_id", "call_id")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    result: Result
    version_id: str
    call_id: str
    def __init__(self, result: _Optional[_Union[Result, _Mapping]] = ..., version_id: _Optional[str] = ..., call_id: _Optional[str] = ...) -> None: ...

class GetVersionRequest(_message.Message):
    __slots__ = ("tenant", "version_id", "alias", "include_sources")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    version_id: str
    alias: str
    include_sources: bool
    def __init__(self, tenant: _Optional[str] = ..., version_id: _Optional[str] = ..., alias: _Optional[str] = ..., include_sources: _Optional[bool] = ...) -> None: ...

class VersionInfo(_message.Message):
    __slots__ = ("version_id", "functions", "file_names", "aliases", "created_unix_ms")
    VERSION_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    FILE_NAMES_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    version_id: str
    functions: _containers.RepeatedScalarFieldContainer[str]
    file_names: _containers.RepeatedScalarFieldContainer[str]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    created_unix_ms: int
    def __init__(self, version_id: _Optional[str] = ..., functions: _Optional[_Iterable[str]] = ..., file_names: _Optional[_Iterable[str]] = ..., aliases: _Optional[_Iterable[str]] = ..., created_unix_ms: _Optional[int] = ...) -> None: ...

class GetVersionResponse(_message.Message):
    __slots__ = ("version", "files")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    version: VersionInfo
    files: _containers.RepeatedCompositeFieldContainer[SourceFile]
    def __init__(self, version: _Optional[_Union[VersionInfo, _Mapping]] = ..., files: _Optional[_Iterable[_Union[SourceFile, _Mapping]]] = ...) -> None: ...

class ListVersionsRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class ListVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[VersionInfo]
    def __init__(self, versions: _Optional[_Iterable[_Union[VersionInfo, _Mapping]]] = ...) -> None: ...

class SetSecretRequest(_message.Message):
    __slots__ = ("tenant", "name", "value")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    name: str
    value: str
    def __init__(self, tenant: _Optional[str] = ..., name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class SetSecretResponse(_message.Message):
    __slots__ = ("created",)
    CREATED_FIELD_NUMBER: _ClassVar[int]
    created: bool
    def __init__(self, created: _Optional[bool] = ...) -> None: ...

class DeleteSecretRequest(_message.Message):
    __slots__ = ("tenant", "name")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    name: str
    def __init__(self, tenant: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class DeleteSecretResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class ListSecretNamesRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class ListSecretNamesResponse(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class EgressPolicy(_message.Message):
    __slots__ = ("hosts", "addresses", "max_requests", "max_response_bytes", "max_request_bytes", "max_redirects", "ca_pem")
    HOSTS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    MAX_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    MAX_RESPONSE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_REQUEST_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_REDIRECTS_FIELD_NUMBER: _ClassVar[int]
    CA_PEM_FIELD_NUMBER: _ClassVar[int]
    hosts: _containers.RepeatedCompositeFieldContainer[EgressHostRule]
    addresses: _containers.RepeatedCompositeFieldContainer[EgressAddressRule]
    max_requests: int
    max_response_bytes: int
    max_request_bytes: int
    max_redirects: int
    ca_pem: str
    def __init__(self, hosts: _Optional[_Iterable[_Union[EgressHostRule, _Mapping]]] = ..., addresses: _Optional[_Iterable[_Union[EgressAddressRule, _Mapping]]] = ..., max_requests: _Optional[int] = ..., max_response_bytes: _Optional[int] = ..., max_request_bytes: _Optional[int] = ..., max_redirects: _Optional[int] = ..., ca_pem: _Optional[str] = ...) -> None: ...

class EgressHostRule(_message.Message):
    __slots__ = ("pattern", "ports", "schemes")
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    SCHEMES_FIELD_NUMBER: _ClassVar[int]
    pattern: str
    ports: _containers.RepeatedScalarFieldContainer[int]
    schemes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, pattern: _Optional[str] = ..., ports: _Optional[_Iterable[int]] = ..., schemes: _Optional[_Iterable[str]] = ...) -> None: ...

class EgressAddressRule(_message.Message):
    __slots__ = ("network", "ports")
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    network: str
    ports: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, network: _Optional[str] = ..., ports: _Optional[_Iterable[int]] = ...) -> None: ...

class SetEgressPolicyRequest(_message.Message):
    __slots__ = ("tenant", "policy")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    policy: EgressPolicy
    def __init__(self, tenant: _Optional[str] = ..., policy: _Optional[_Union[EgressPolicy, _Mapping]] = ...) -> None: ...

class SetEgressPolicyResponse(_message.Message):
    __slots__ = ("policy", "updated_unix_ms")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    policy: EgressPolicy
    updated_unix_ms: int
    def __init__(self, policy: _Optional[_Union[EgressPolicy, _Mapping]] = ..., updated_unix_ms: _Optional[int] = ...) -> None: ...

class GetEgressPolicyRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class GetEgressPolicyResponse(_message.Message):
    __slots__ = ("policy", "updated_unix_ms")
    POLICY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_UNIX_MS_FIELD_NUMBER: _ClassVar[int]
    policy: EgressPolicy
    updated_unix_ms: int
    def __init__(self, policy: _Optional[_Union[EgressPolicy, _Mapping]] = ..., updated_unix_ms: _Optional[int] = ...) -> None: ...
