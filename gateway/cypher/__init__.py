"""GraphQL selections translated into parameterised Cypher."""
