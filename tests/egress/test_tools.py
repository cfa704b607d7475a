"""Tools that `import requests`, run in real confined children: the happy paths, what a
result says about a call's requests, and the module a tool is handed."""

from __future__ import annotations

import collections
import types

import pytest

from sandbox.child import http as child_http
from sandbox.child.attributes import AttributeGuard
from sandbox.child.views import build_view
from sandbox.policy import DEFAULT_POLICY
from sandbox.result import Status
from tests.egress.conftest import API, http_lines, local_policy, run_tool, tls_policy
from tests.egress.servers import TLS_HOST


def test_get_json_params_headers(pool, server, token):
    source = f"""
import requests
def tool(conv):
    r = requests.get("http://{API}:{server.port}/echo/{token}", params={{"q": "a b", "n": [1, 2], "none": None}},
                     headers={{"X-Trace": "t-1"}}, timeout=3)
    data = r.json()
    return {{"content": str(r.status_code) + " " + str(r.ok) + " " + data["path"] + " " + data["headers"]["X-Trace"]
             + " " + r.headers["CONTENT-TYPE"] + " " + r.url}}
"""
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.OK, r.error
    assert r.action["content"] == (
        f"200 True /echo/{token}?q=a+b&n=1&n=2 t-1 application/json "
        f"http://{API}:{server.port}/echo/{token}?q=a+b&n=1&n=2"
    )
    assert r.usage.http_requests == 1 and r.usage.http_bytes > 0
    assert len(http_lines(r)) == 1 and http_lines(r)[0].startswith(f"http GET {API}:{server.port} 200 ")


def test_post_put_patch_delete_bodies(pool, server, token):
    source = f"""
import requests
def tool(conv):
    base = "http://{API}:{server.port}/echo/{token}"
    out = []
    out.append(requests.post(base, json={{"a": [1, 2], "b": None}}).json())
    out.append(requests.post(base, data={{"x": "1", "y": ["2", "3"]}}).json())
    out.append(requests.put(base, data="plain text é").json())
    out.append(requests.patch(base, data=b"raw", headers={{"Content-Type": "application/octet-stream"}}).json())
    out.append(requests.delete(base).json())
    out.append(requests.request("options", base).json())
    return {{"content": "|".join(o["method"] + " " + o["body"] + " " + str(o["headers"].get("Content-Type")) for o in out)}}
"""
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.OK, r.error
    assert r.action["content"].split("|") == [
        'POST {"a": [1, 2], "b": null} application/json',
        "POST x=1&y=2&y=3 application/x-www-form-urlencoded",
        "PUT plain text é None",
        "PATCH raw application/octet-stream",
        "DELETE  None",
        "OPTIONS  None",
    ]
    assert r.usage.http_requests == 6


def test_http_errors_and_raise_for_status(pool, server):
    source = f"""
import requests
from requests.exceptions import HTTPError
def tool(conv):
    r = requests.get("http://{API}:{server.port}/status/404")
    seen = [str(r.status_code), str(r.ok), r.text]
    try:
        r.raise_for_status()
    except HTTPError as e:
        seen.append(str(e.response.status_code))
        seen.append(str(e))
    try:
        requests.get("http://{API}:{server.port}/status/500").json()
    except requests.JSONDecodeError as e:
        seen.append("not json")
    except ValueError:
        seen.append("wrong class")
    return {{"content": "|".join(seen)}}
"""
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.OK, r.error
    assert r.action["content"] == (
        f"404|False|status 404|404|404 Client Error: Not Found for url: http://{API}:{server.port}/status/404|not json"
    )
    assert [line.split()[3] for line in http_lines(r)] == ["404", "500"]


def test_redirects(pool, server, token):
    source = f"""
import requests
def tool(conv):
    r = requests.get("http://{API}:{server.port}/redirect?to=/echo/{token}")
    no = requests.get("http://{API}:{server.port}/redirect?to=/echo/{token}", allow_redirects=False)
    return {{"content": f"{{r.status_code}} {{[h.status_code for h in r.history]}} {{r.url}} {{no.status_code}} {{no.headers['location']}}"}}
"""
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.OK, r.error
    assert r.action["content"] == f"200 [302] http://{API}:{server.port}/echo/{token} 302 /echo/{token}"
    assert r.usage.http_requests == 3  # a followed redirect is two requests


def test_timeouts_the_tool_can_catch(pool, server):
    source = f"""
import requests
def tool(conv):
    try:
        requests.get("http://{API}:{server.port}/slow?delay=3", timeout=0.3)
    except requests.ReadTimeout as e:
        return {{"content": "ReadTimeout: " + str(e)}}
    return "no timeout"
"""
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.OK, r.error
    assert r.action["content"] == f"ReadTimeout: reading from {API} timed out (timeout=0.3 s)"
    assert "read_timeout" in http_lines(r)[0]


def test_https_with_sni_and_verification(pool, tls_server, token):
    source = f"""
import requests
def tool(conv):
    return requests.get("https://{TLS_HOST}:{tls_server.port}/echo/{token}").json()["headers"]["Host"]
"""
    r = run_tool(pool, source, egress=tls_policy(tls_server))
    assert r.status is Status.OK, r.error
    assert r.action["content"] == f"{TLS_HOST}:{tls_server.port}"


def test_an_uncaught_request_error_is_a_runtime_error_on_the_tools_line(pool, server):
    source = f"""
import requests
def tool(conv):
    return requests.get("http://unknown.test:{server.port}/json").text
"""
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.RUNTIME_ERROR
    assert r.error.kind == "EgressRefused" and r.error.line == 4
    assert "unknown.test is not in this tenant's egress allowlist" in r.error.message
    assert "sandbox" not in r.error.traceback


def test_without_an_egress_policy_every_request_is_refused_naming_the_host(pool, server):
    source = f"""
import requests
def tool(conv):
    try:
        requests.get("http://{API}:{server.port}/json")
    except requests.ConnectionError as e:
        return str(e)
"""
    r = run_tool(pool, source, egress=None)
    assert r.status is Status.OK, r.error
    assert r.action["content"] == f"outbound HTTP is not enabled for this tenant: the request to {API} is refused"
    assert r.usage.http_requests == 1


def test_arguments_requests_has_but_toolpool_refuses(pool, server):
    source = f'''
import requests
def tool(conv):
    seen = []
    for kwargs in ({{"verify": False}}, {{"proxies": {{"http": "x"}}}}, {{"stream": True}}):
        try:
            requests.get("http://{API}:{server.port}/json", **kwargs)
        except TypeError as e:
            seen.append(str(e))
    try:
        requests.get("{API}/json")
    except requests.MissingSchema:
        seen.append("missing schema")
    try:
        requests.get("ftp://{API}/json")
    except requests.InvalidSchema:
        seen.append("invalid schema")
    return {{"content": "|".join(seen)}}
'''
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.OK, r.error
    parts = r.action["content"].split("|")
    assert "certificates are always verified" in parts[0] and "proxies" in parts[1] and "stream" in parts[2]
    assert parts[3:] == ["missing schema", "invalid schema"]
    assert r.usage.http_requests == 0  # refused in the child: nothing reached the supervisor


def test_a_response_is_read_only_to_the_tool(pool, server):
    source = f"""
import requests
def tool(conv):
    r = requests.get("http://{API}:{server.port}/json")
    for attempt in ("status", "headers"):
        try:
            if attempt == "status":
                r.status_code = 500
            else:
                r.headers["x"] = "y"
        except (TypeError, AttributeError) as e:
            log.info("refused")
    return str(r.status_code)
"""
    r = run_tool(pool, source, egress=local_policy(server))
    assert r.status is Status.OK, r.error
    assert r.action["content"] == "200"
    assert [rec["message"] for rec in r.logs[:2]] == ["refused", "refused"]


def test_requests_logs_survive_a_timeout(pool, server):
    source = f"""
import requests
def tool(conv):
    requests.get("http://{API}:{server.port}/json")
    while True:
        pass
"""
    r = run_tool(pool, source, egress=local_policy(server), deadline_ms=400)
    assert r.status is Status.TIMEOUT
    assert len(http_lines(r)) == 1 and r.usage.http_requests == 1  # the supervisor's own record


# ---------------------------------------------------------------------------------------
# the module a tool is handed: no path of attribute reads leads into the interpreter
# ---------------------------------------------------------------------------------------

_DANGEROUS = (types.ModuleType, types.FrameType, types.CodeType, types.TracebackType, types.CellType)


def _sample_objects():
    answer = {
        "status": 404,
        "reason": "Not Found",
        "url": "https://a.example.com/",
        "elapsed_ms": 1.5,
        "headers": [["Content-Type", "application/json"], ["Set-Cookie", "a=1"], ["set-cookie", "b=2"]],
        "body": "e30=",
    }
    response = child_http._response(answer, [child_http._response(answer, [])])
    objects = {"response": response}
    try:
        response.raise_for_status()
    except child_http.HTTPError as exc:
        objects["HTTPError"] = exc
    try:
        child_http.Response().json()
    except child_http.JSONDecodeError as exc:
        objects["JSONDecodeError"] = exc
    for kind, cls in child_http._KIND_EXCEPTIONS.items():
        objects[kind] = cls("x", response=response)
    return objects


def test_joined_headers_and_response_basics():
    response = _sample_objects()["response"]
    assert response.headers["set-cookie"] == "a=1, b=2"
    assert response.json() == {} and not response.ok and repr(response) == "<Response [404]>"
    assert response.history[0].status_code == 404 and response.elapsed.total_seconds() == 0.0015


def test_nothing_dangerous_is_reachable_from_the_requests_module():
    guard = AttributeGuard(frozenset(DEFAULT_POLICY.forbidden_attributes)).get
    names = DEFAULT_POLICY.modules["requests"].names
    roots = {f"requests.{n}": v for n, v in vars_of(build_view("requests", names)).items()}
    roots.update(_sample_objects())
    dangerous = {id(v) for v in (eval, exec, compile, open, getattr, setattr, globals, vars, __import__)}
    seen, found = set(), []
    per_type: collections.Counter = collections.Counter()
    keep_alive = []  # so that no id is reused while walking
    queue = collections.deque((obj, path, 0) for path, obj in roots.items())
    while queue:
        obj, path, depth = queue.popleft()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        keep_alive.append(obj)
        if isinstance(obj, _DANGEROUS) or id(obj) in dangerous:
            found.append(path)
            continue
        # What a read reaches depends on the object's type and its names: past a few
        # dozen instances of one type, more of the same adds time, not paths.
        per_type[type(obj)] += 1
        if depth >= 6 or per_type[type(obj)] > 40:
            continue
        for name in dir(obj):
            try:
                value = guard(obj, name)
            except Exception:  # noqa: BLE001 - refused or failing reads end the path
                continue
            queue.append((value, f"{path}.{name}", depth + 1))
            if isinstance(value, list):
                queue.extend((item, f"{path}.{name}[{i}]", depth + 1) for i, item in enumerate(value))
    assert len(seen) > 300
    assert found == []


def vars_of(view):
    from sandbox.child.views import view_names

    return {name: getattr(view, name) for name in view_names(view)}


@pytest.mark.parametrize("module", ["requests", "requests.exceptions"])
def test_the_views_hold_exactly_the_listed_names(module):
    names = DEFAULT_POLICY.modules[module].names
    assert set(vars_of(build_view(module, names))) == set(names)
