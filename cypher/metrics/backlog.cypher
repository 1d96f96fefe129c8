// name: metrics/backlog
// What /metrics reports from the graph, the same from every process: people and companies marked for live evaluation, webhook deliveries waiting (due, the oldest's age) and dead-lettered.
// mode: read
CALL () {
  MATCH (p:PendingEvaluation)
  RETURN count(p) AS pendingPeople
}
CALL () {
  MATCH (c:PendingCompanyEvaluation)
  RETURN count(c) AS pendingCompanies
}
CALL () {
  MATCH (o:Delivery {status: 'PENDING'})
  RETURN count(o) AS deliveriesPending,
         count(CASE WHEN o.nextAttemptAt <= datetime.realtime() THEN 1 END) AS deliveriesDue,
         min(o.createdAt) AS oldestPendingAt
}
CALL () {
  MATCH (o:Delivery {status: 'DEAD'})
  RETURN count(o) AS deliveriesDead
}
RETURN pendingPeople, pendingCompanies, deliveriesPending, deliveriesDue, deliveriesDead,
       CASE WHEN oldestPendingAt IS NULL THEN 0.0
            ELSE (datetime.realtime().epochMillis - oldestPendingAt.epochMillis) / 1000.0 END AS oldestPendingSeconds
