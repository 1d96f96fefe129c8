// name: outbox/delivery_failed
// Record a failed attempt of a claimed delivery: try again after $delayMilliseconds, or dead-letter it after $maxAttempts tries (at once when $final).
// mode: write
MATCH (o:Delivery {id: $id})
WHERE o.claimedBy = $holder
SET o.attempts = o.attempts + 1, o.lastError = $error, o.lastAttemptAt = datetime.realtime(),
    o.claimedBy = null, o.claimUntil = null
SET o.status = CASE WHEN $final OR o.attempts >= $maxAttempts THEN 'DEAD' ELSE 'PENDING' END,
    o.nextAttemptAt = datetime.realtime() + duration({milliseconds: $delayMilliseconds})
RETURN o.status AS status, o.attempts AS attempts
