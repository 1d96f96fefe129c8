// name: realtime/sweep_last
// When time windows were last swept for expiries.
// mode: read
MATCH (sweep:Sweep {name: 'expiry'})
RETURN sweep.at AS at
