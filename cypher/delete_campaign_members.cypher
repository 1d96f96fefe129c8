// name: delete_campaign_members
// Remove campaign memberships of one source.
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:MEMBER_OF]->(:Campaign {source: $source, sourceKey: row.campaignKey})
DELETE r
