"""The JSON form of errors, without a server."""

from __future__ import annotations

from graphql import GraphQLError

from gateway.errors import MAX_MESSAGE, Code, GatewayError, client_error


def test_an_error_that_echoes_a_long_input_is_shortened_and_says_so() -> None:
    echoed = GatewayError(Code.BAD_USER_INPUT, "the cursor " + "x" * 90_000 + " is not valid")
    out = client_error(GraphQLError("x", path=["persons"], original_error=echoed), "c-1")
    assert len(out["message"]) <= MAX_MESSAGE
    assert out["message"].startswith("the cursor xxx") and out["message"].endswith("(shortened)")
    assert out["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_short_message_is_left_as_it_is() -> None:
    out = client_error(GraphQLError("Cannot query field 'nope' on type 'Query'."), "c-2")
    assert out["message"] == "Cannot query field 'nope' on type 'Query'."
