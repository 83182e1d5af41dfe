// The peer of `make bench`: the Neo4j GraphQL Library on Apollo Server, configured as its
// best users would run it (production mode, no introspection, TCP_NODELAY on Bolt sockets).
// Environment: NEO4J_URI, NEO4J_PASSWORD, PEER_JWT_SECRET (HS256), PORT.
import net from "node:net";
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

// neo4j-driver 6 leaves Nagle's algorithm on and writes a long statement in ~1,400-byte
// chunks, so the last chunk waits for the server's delayed ACK (~40 ms). The driver offers
// no option for it: every socket this process connects gets TCP_NODELAY, counted so that
// /nodelay shows it took effect.
let noDelaySockets = 0;
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  this.setNoDelay(true);
  this.once("connect", () => { noDelaySockets += 1; });
  return connect.apply(this, args);
};

const typeDefs = readFileSync(new URL("./typeDefs.graphql", import.meta.url), "utf8");
const driver = neo4j.driver(
  process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687",
  neo4j.auth.basic("neo4j", process.env.NEO4J_PASSWORD ?? ""),
  { maxConnectionPoolSize: 100, disableLosslessIntegers: true },
);
const neoSchema = new Neo4jGraphQL({
  typeDefs,
  driver,
  features: { authorization: { key: process.env.PEER_JWT_SECRET } },
});
const schema = await neoSchema.getSchema();
// The indexes exist (graph_schema's migrations); fail at start if the @fulltext one does not.
await neoSchema.assertIndexesAndConstraints();

const server = new ApolloServer({ schema, introspection: false, includeStacktraceInErrorResponses: false });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env.PORT ?? 4000), host: "127.0.0.1" },
  context: async ({ req }) => ({ token: req.headers.authorization }),
});
console.log(`peer ready at ${url}`);
process.on("SIGTERM", async () => {
  console.log(`TCP_NODELAY was set on ${noDelaySockets} Bolt sockets`);
  await server.stop();
  await driver.close();
  process.exit(0);
});
