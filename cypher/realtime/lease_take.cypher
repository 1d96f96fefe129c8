// name: realtime/lease_take
// Take or renew a named lease for a holder, if it is free, expired or already the holder's; returns the holder after.
// mode: write
// A lease is held until `until`: the holder renews it each time it does the leased work, so when the
// holder dies another process takes it over once it expires. The first SET reads the lease in its
// own right-hand side, so Cypher takes the node's write lock before reading: two processes taking
// an expired lease at once are serialised, and the second sees the first's holder.
MERGE (lease:Lease {name: $name})
SET lease.holder = CASE WHEN lease.holder IS NULL OR lease.holder = $holder OR lease.until < datetime.realtime()
                        THEN $holder ELSE lease.holder END
SET lease.until = CASE WHEN lease.holder = $holder THEN datetime.realtime() + duration({milliseconds: $milliseconds})
                       ELSE lease.until END
RETURN lease.holder AS holder, lease.until AS until
