// name: realtime/lease_take
// Take or renew a named lease for a holder, if it is free, expired or already the holder's; returns the holder after.
// mode: write
// A lease is held until `until`: the holder renews it each time it does the leased work, so when the
// holder dies another process takes it over once it expires.
MERGE (lease:Lease {name: $name})
WITH lease, lease.holder IS NULL OR lease.holder = $holder OR lease.until < datetime.realtime() AS free
FOREACH (_ IN CASE WHEN free THEN [1] ELSE [] END |
  SET lease.holder = $holder, lease.until = datetime.realtime() + duration({milliseconds: $milliseconds}))
RETURN lease.holder AS holder, lease.until AS until
