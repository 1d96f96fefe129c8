// name: last_sweep
// When time windows were last swept for expiries.
MATCH (sweep:Sweep {name: 'expiry'})
RETURN sweep.at AS at
