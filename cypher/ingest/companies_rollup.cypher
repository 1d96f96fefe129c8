// name: ingest/companies_rollup
// Recompute the opportunity figures each company holds (sum, count, max per status), returning the values before.
// mode: write
// Run in the transaction of every write that can change them, for the companies of the accounts it
// touched ($keys, by identity) or given by id ($ids: verify and repair). Each deal counts once; the
// sum adds the amounts in key order, so that a recomputation gives the very same float.
CALL () {
  UNWIND $keys AS key
  MATCH (:Account {source: key.source, sourceKey: key.sourceKey})-[:PART_OF]->(c:Company)
  RETURN c
  UNION
  UNWIND $ids AS id
  MATCH (c:Company {id: id})
  RETURN c
}
WITH DISTINCT c
CALL (c) {
  OPTIONAL MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity)
  WITH DISTINCT o
  ORDER BY o.source, o.sourceKey
  RETURN [o IN collect(o) | {amount: o.amount, won: o.isWon, closed: o.isClosed}] AS deals
}
WITH c, c {.wonSum, .wonCount, .wonMax, .lostSum, .lostCount, .lostMax, .openSum, .openCount, .openMax,
           .anySum, .anyCount, .anyMax} AS before,
     {won: [d IN deals WHERE d.won], lost: [d IN deals WHERE d.closed AND NOT d.won],
      open: [d IN deals WHERE NOT d.closed], any: deals} AS by
WITH c, before, [status IN ['won', 'lost', 'open', 'any'] |
                 {sum: reduce(total = 0.0, d IN by[status] | total + d.amount), count: size(by[status]),
                  max: reduce(top = null, d IN by[status] | CASE WHEN top IS NULL OR d.amount > top THEN d.amount ELSE top END)}] AS f
SET c.wonSum = f[0].sum, c.wonCount = f[0].count, c.wonMax = f[0].max,
    c.lostSum = f[1].sum, c.lostCount = f[1].count, c.lostMax = f[1].max,
    c.openSum = f[2].sum, c.openCount = f[2].count, c.openMax = f[2].max,
    c.anySum = f[3].sum, c.anyCount = f[3].count, c.anyMax = f[3].max
RETURN c.id AS id, before,
       c {.wonSum, .wonCount, .wonMax, .lostSum, .lostCount, .lostMax, .openSum, .openCount, .openMax,
          .anySum, .anyCount, .anyMax} AS after
