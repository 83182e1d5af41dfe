"""The HTTP surface: the Starlette app, the /graphql endpoint, tokens and the playground."""
