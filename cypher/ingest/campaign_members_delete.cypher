// name: ingest/campaign_members_delete
// Remove campaign memberships of one source.
// mode: write
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:MEMBER_OF]->(:Campaign {source: $source, sourceKey: row.campaignKey})
DELETE r
