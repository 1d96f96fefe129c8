// The Neo4j GraphQL Library over accountgraph's graph (docs/graph-model.md), read-only, for the
// side-by-side benchmark (benchmarks/neo4j_graphql.py starts it).
//
//   NEO4J_URI=bolt://127.0.0.1:7687 NEO4J_USER=neo4j NEO4J_PASSWORD=... PORT=4000 node server.mjs
//
// GraphQL at http://127.0.0.1:$PORT/graphql (POST JSON). No mutations are generated, and the
// library's schema checks (assertIndexesAndConstraints) are never called: the graph, its
// constraints and its indexes are the project's.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import neo4j from "neo4j-driver";

// People who visited the page within the window (an index seek on WebVisit(url, visitedAt)),
// associated with an account of a company whose closed-won total is above the amount. The total
// is the company's `wonSum`, the figure accountgraph's writes keep on each company (docs/graph-model.md):
// this server reads the same precomputed figure as the product, so the comparison is of the
// GraphQL layers, not of who precomputes.
const AUDIENCE_COUNT = `
MATCH (v:WebVisit)
WHERE v.url = $visitedPage AND v.visitedAt >= datetime() - duration({days: $withinDays})
MATCH (p:Person)-[:VISITED]->(v)
WITH DISTINCT p
MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company)
WHERE c.wonSum > $minCompanyWonAmount
RETURN count(DISTINCT p) AS count
`;

const typeDefs = /* GraphQL */ `
  type Person @node @mutation(operations: []) {
    email: String!
    firstName: String
    lastName: String
    title: String
    accounts: [Account!]! @relationship(type: "ASSOCIATED_WITH", direction: OUT)
  }

  type Account @node @mutation(operations: []) {
    source: String!
    sourceKey: String!
    name: String
    industry: String
    country: String
  }

  type Segment @node @mutation(operations: []) {
    id: ID!
    name: String!
    members: [Person!]! @relationship(type: "IN_SEGMENT", direction: IN)
  }

  type Query {
    audienceCount(minCompanyWonAmount: Float!, visitedPage: String!, withinDays: Int!): Int!
      @cypher(statement: """${AUDIENCE_COUNT}""", columnName: "count")
  }
`;

const env = process.env;
const database = env.NEO4J_DATABASE || "neo4j";
const port = Number(env.PORT || 4000);
const driver = neo4j.driver(env.NEO4J_URI, neo4j.auth.basic(env.NEO4J_USER, env.NEO4J_PASSWORD));
const schema = await new Neo4jGraphQL({ typeDefs, driver }).getSchema();
const server = new ApolloServer({ schema, stopOnTerminationSignals: false });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port },
  context: async () => ({ sessionConfig: { database } }),
});
console.log(`listening on ${url}graphql`);

async function shutdown() {
  await server.stop();
  await driver.close();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
