"""The GraphQL contract: types, the query and mutation roots, limits and request context."""
