"""The server log is fit for personal data: one JSON line per request without query text,
variables or results; a traceback only for unexpected errors, under the correlation id the
client was given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from neo4j import Driver

from tests.conftest import Client, GatewayProcess

SCREEN = "query Screen($input: ScreeningInput!) { screen(input: $input) { outcome } }"
# Distinct enough to be found anywhere in the log if they were written.
NAME, GIVEN, BIRTH = "Quarmbyfield", "Ottoline", "1961-07-29"


def lines(gateway: GatewayProcess) -> list[dict[str, Any]]:
    text = Path(gateway.log.name).read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def request_line(gateway: GatewayProcess, correlation: str) -> dict[str, Any]:
    found = [r for r in lines(gateway) if r.get("correlationId") == correlation and r["message"] == "request"]
    assert len(found) == 1, found
    return found[0]


def test_a_refused_screening_logs_neither_the_name_nor_the_date_of_birth(
    gateway: GatewayProcess, client: Client
) -> None:
    variables = {"input": {"familyName": NAME, "givenNames": GIVEN, "dateOfBirth": BIRTH}}
    refused = [
        client.post(SCREEN, variables, purpose="ASYLUM_SCREENING"),  # anonymous: may not screen
        client.post(SCREEN, variables, agency="asylum-nl", purpose="CURIOSITY"),  # unknown purpose
        client.post(  # the values in the query text, and a type error that quotes them back
            f'{{ screen(input: {{familyName: "{NAME}", givenNames: "{GIVEN}", dateOfBirth: "{BIRTH}", x: 1}}) {{ outcome }} }}',
            agency="asylum-nl",
            purpose="ASYLUM_SCREENING",
        ),
        client.post(
            SCREEN, {"input": {**variables["input"], "dateOfBirth": f"{BIRTH}-{NAME}"}}, agency="asylum-nl"
        ),
    ]
    for response in refused:
        assert response.json()["errors"], response.text
    # Correlation ids are random hex, so "1961" may occur in one by chance: leave them out.
    text = "".join(json.dumps({k: v for k, v in r.items() if k != "correlationId"}) for r in lines(gateway))
    for value in (NAME, GIVEN, BIRTH, "1961"):
        assert value not in text
    assert "Traceback" not in "".join(
        json.dumps(r)
        for r in lines(gateway)
        if r.get("correlationId") in {x.headers["x-correlation-id"] for x in refused}
    )
    first = request_line(gateway, refused[0].headers["x-correlation-id"])
    assert first["operation"] == "Screen" and first["outcome"] == "FORBIDDEN" and first["status"] == 200
    assert {"ms", "path", "method", "correlationId"} <= first.keys() and "agency" not in first
    second = request_line(gateway, refused[1].headers["x-correlation-id"])
    assert (
        second["agency"] == "asylum-nl"
        and second["outcome"] == "PURPOSE_REQUIRED"
        and second["status"] == 400
    )


def test_an_internal_error_logs_its_traceback_under_the_correlation_id_the_client_got(
    gateway: GatewayProcess, client: Client, seeded: Driver
) -> None:
    # A value of the wrong type in the graph makes serialising the answer fail unexpectedly.
    seeded.execute_query(
        "MATCH (p:Person {id: 'P-DEMO-003'}) SET p.savedDob = p.dateOfBirth, p.dateOfBirth = 'garbage'"
    )
    try:
        response = client.post('{ person(id: "P-DEMO-003") { id dateOfBirth } }', agency="ncb-fr")
    finally:
        seeded.execute_query(
            "MATCH (p:Person {id: 'P-DEMO-003'}) SET p.dateOfBirth = p.savedDob REMOVE p.savedDob"
        )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    correlation = error["extensions"]["correlationId"]
    assert correlation == response.headers["x-correlation-id"]
    assert "Traceback" not in response.text and correlation in error["message"]
    logged = [r for r in lines(gateway) if r.get("correlationId") == correlation]
    tracebacks = [r for r in logged if "traceback" in r]
    assert tracebacks and all(r["level"] == "ERROR" for r in tracebacks)
    assert request_line(gateway, correlation)["outcome"] == "INTERNAL_SERVER_ERROR"
    assert "garbage" not in json.dumps(logged).replace(tracebacks[0]["traceback"], "")


def test_every_line_is_json_and_no_url_query_string_is_logged(gateway: GatewayProcess) -> None:
    httpx.get(f"{gateway.url}/healthz?name={NAME}")
    httpx.get(f"{gateway.url}/graphql?query=%7B{NAME}%7D", follow_redirects=False)
    records = lines(gateway)  # json.loads of every line
    assert records and NAME not in json.dumps(records)
    assert any(r.get("path") == "/healthz" and r.get("status") == 200 for r in records)
