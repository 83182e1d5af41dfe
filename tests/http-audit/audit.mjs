// Runs graphql-http's server audits against a live endpoint and prints one JSON object:
// {"MUST": {"ok": n, "total": n, "failed": [...]}, "SHOULD": ..., "MAY": ...}.
//   node audit.mjs http://127.0.0.1:8000/graphql
import { auditServer } from "graphql-http";

const url = process.argv[2];
const results = await auditServer({ url });
const counts = {};
for (const result of results) {
  const level = result.name.split(" ")[0];
  const entry = (counts[level] ??= { ok: 0, total: 0, failed: [] });
  entry.total += 1;
  if (result.status === "ok") entry.ok += 1;
  else entry.failed.push(`${result.id} ${result.name}: ${result.reason}`);
}
console.log(JSON.stringify(counts));
