// name: outbox/delivery_redrive
// Send a dead-lettered delivery again: the same batches, tried afresh from the next round.
// mode: write
MATCH (o:Delivery {id: $id})
WHERE o.status = 'DEAD'
SET o.status = 'PENDING', o.attempts = 0, o.nextAttemptAt = datetime.realtime(), o.redriven = true,
    o.redrivenAt = datetime.realtime()
RETURN o.id AS id
