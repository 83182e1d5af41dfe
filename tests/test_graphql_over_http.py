"""GraphQL over HTTP: media types, status codes, the request envelope and caching, through
HTTP against the live gateway; and the graphql-http conformance audit (npm) run against it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import GatewayProcess, token

AUDIT_DIR = Path(__file__).parent / "http-audit"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON_HEADERS = {"content-type": "application/json"}


def post(gateway: GatewayProcess, body: object = None, content: bytes | None = None,
         headers: dict[str, str] | None = None) -> httpx.Response:  # fmt: skip
    data = content if content is not None else json.dumps(body).encode()
    return httpx.post(
        f"{gateway.url}/graphql", content=data, headers={**JSON_HEADERS, **(headers or {})}, timeout=30
    )


def test_graphql_response_json_is_served_when_accepted_and_json_otherwise(gateway: GatewayProcess) -> None:
    query = {"query": "{ countries { code } }"}
    new = post(gateway, query, headers={"accept": GRAPHQL_RESPONSE})
    assert new.status_code == 200 and new.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    for accept in ("application/json", "*/*", None):
        old = post(gateway, query, headers={"accept": accept} if accept else {})
        assert old.status_code == 200 and old.headers["content-type"].startswith("application/json"), accept
    assert post(gateway, query, headers={"accept": "text/html"}).status_code == 406


@pytest.mark.parametrize(
    "query", ["{ countries { code ", "{ countries { nope } }"], ids=["parse", "validation"]
)
def test_request_errors_answer_400_without_data_in_the_new_media_type_and_200_in_json(
    gateway: GatewayProcess, query: str
) -> None:
    new = post(gateway, {"query": query}, headers={"accept": GRAPHQL_RESPONSE})
    assert new.status_code == 400 and "data" not in new.json() and new.json()["errors"]
    old = post(gateway, {"query": query}, headers={"accept": "application/json"})
    assert old.status_code == 200 and old.json()["errors"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, b'{"query": "{ countries { code } }"}'),
        ("text/plain", b'{"query": "{ countries { code } }"}'),
        ("application/x-www-form-urlencoded", b"query=%7B%20countries%20%7B%20code%20%7D%20%7D"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ countries { code } }\r\n--x--',
        ),
        ("application/json; charset=latin-1", b'{"query": "{ countries { code } }"}'),
    ],
    ids=["none", "text-plain", "form", "multipart", "latin-1"],
)
def test_bodies_that_are_not_json_are_refused_with_415(
    gateway: GatewayProcess, content_type: str | None, body: bytes
) -> None:
    # These are what a page on another site can send without a CORS preflight.
    headers = {"content-type": content_type} if content_type else {}
    response = httpx.post(f"{gateway.url}/graphql", content=body, headers=headers, timeout=30)
    if content_type is None:
        assert "content-type" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": "query A { countries { code } }", "operationName": 0}, "operationName"),
        ({"query": "query A { countries { code } }", "operationName": False}, "operationName"),
        ({"query": "query A { countries { code } }", "operationName": ""}, "operationName"),
        ({"query": "query A { countries { code } }", "operationName": "B"}, "names no operation"),
        ({"query": "{ countries { code } }", "operationName": "A"}, "names no operation"),
        ({"query": "query A { countries { code } } query B { countries { name } }"}, "several operations"),
        ({"query": "{ countries { code } }", "variables": "{}"}, "variables"),
        ({"query": "{ countries { code } }", "extensions": [1]}, "extensions"),
        ({"query": 0}, "query"),
        ({"notquery": "{ countries { code } }"}, "query"),
    ],
    ids=["op-0", "op-false", "op-empty", "op-unknown", "op-on-anonymous", "two-ops", "vars-string",
         "ext-list", "query-0", "no-query"],
)  # fmt: skip
def test_a_bad_envelope_is_400_with_a_clear_message(
    gateway: GatewayProcess, body: object, message: str
) -> None:
    for accept in ("application/json", GRAPHQL_RESPONSE):
        response = post(gateway, body, headers={"accept": accept})
        assert response.status_code == 400, (accept, response.text)
        assert message in response.json()["errors"][0]["message"]


def test_the_named_operation_of_several_runs(gateway: GatewayProcess) -> None:
    body = {"query": "query A { countries { code } } query B { __typename }", "operationName": "B"}
    assert post(gateway, body).json() == {"data": {"__typename": "Query"}}


def test_json_nested_5000_deep_is_400_not_500(gateway: GatewayProcess) -> None:
    deep = b'{"query": "{ countries { code } }", "variables": {"x": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    response = post(gateway, content=deep)
    assert response.status_code == 400
    assert "nested" in response.json()["errors"][0]["message"]
    assert post(gateway, content=b"[" * 100 + b"]" * 100).status_code == 400  # below the parser's limit too


def test_lone_surrogates_in_variables_are_400(gateway: GatewayProcess) -> None:
    body = b'{"query": "query($n: String!) { persons(filter: {name: $n}) { totalCount } }", "variables": {"n": "ab\\ud800cd"}}'
    response = post(
        gateway,
        content=body,
        headers={"Authorization": f"Bearer {token('ncb-fr')}", "X-Purpose": "INVESTIGATION"},
    )
    assert response.status_code == 400
    assert "surrogate" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("method", "body", "headers"),
    [
        ("POST", {"query": "{ countries { code } }"}, {}),
        ("POST", {"query": "{ countries { nope } }"}, {"accept": GRAPHQL_RESPONSE}),
        ("POST", {"query": "{ persons { totalCount } }"}, {"Authorization": "Bearer nonsense"}),
        ("POST", {"query": '{ person(id: "P-DEMO-003") { id } }'}, {"X-Purpose": "INVESTIGATION"}),
        ("GET", None, {}),
    ],
    ids=["ok", "invalid", "unauthenticated", "personal", "get"],
)
def test_every_answer_of_graphql_is_no_store(
    gateway: GatewayProcess, method: str, body: object, headers: dict[str, str]
) -> None:
    if method == "GET":
        response = httpx.get(f"{gateway.url}/graphql", headers=headers)
    else:
        response = post(gateway, body, headers=headers)
    assert response.headers["cache-control"] == "no-store", response.status_code


def test_graphql_http_audit_passes_every_must_and_at_least_21_of_23_shoulds(gateway: GatewayProcess) -> None:
    if shutil.which("node") is None or not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        pytest.fail(
            "the graphql-http audit is not installed: run `make setup` (npm ci --prefix tests/http-audit)"
        )
    run = subprocess.run(
        ["node", "audit.mjs", f"{gateway.url}/graphql"],
        cwd=AUDIT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    counts = json.loads(run.stdout)
    print(json.dumps(counts, indent=1))  # the report shows what failed, with -s or on failure
    assert counts["MUST"]["ok"] == counts["MUST"]["total"] == 13, counts["MUST"]["failed"]
    assert counts["SHOULD"]["total"] == 23
    assert counts["SHOULD"]["ok"] >= 21, counts["SHOULD"]["failed"]
