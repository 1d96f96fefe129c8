// name: schema
// Constraints and indexes of the graph model; every statement is idempotent (IF NOT EXISTS).
// mode: schema
CREATE CONSTRAINT person_email IF NOT EXISTS FOR (p:Person) REQUIRE p.email IS UNIQUE;
CREATE CONSTRAINT source_name IF NOT EXISTS FOR (s:Source) REQUIRE s.name IS UNIQUE;
CREATE CONSTRAINT company_id IF NOT EXISTS FOR (c:Company) REQUIRE c.id IS UNIQUE;
CREATE CONSTRAINT account_key IF NOT EXISTS FOR (a:Account) REQUIRE (a.source, a.sourceKey) IS UNIQUE;
CREATE CONSTRAINT opportunity_key IF NOT EXISTS FOR (o:Opportunity) REQUIRE (o.source, o.sourceKey) IS UNIQUE;
CREATE CONSTRAINT web_visit_key IF NOT EXISTS FOR (v:WebVisit) REQUIRE (v.source, v.sourceKey) IS UNIQUE;
CREATE CONSTRAINT campaign_key IF NOT EXISTS FOR (c:Campaign) REQUIRE (c.source, c.sourceKey) IS UNIQUE;
CREATE CONSTRAINT list_key IF NOT EXISTS FOR (l:MarketingList) REQUIRE (l.source, l.sourceKey) IS UNIQUE;
CREATE CONSTRAINT segment_id IF NOT EXISTS FOR (s:Segment) REQUIRE s.id IS UNIQUE;
CREATE CONSTRAINT segment_name IF NOT EXISTS FOR (s:Segment) REQUIRE s.name IS UNIQUE;
CREATE CONSTRAINT destination_name IF NOT EXISTS FOR (d:Destination) REQUIRE d.name IS UNIQUE;
CREATE CONSTRAINT activation_id IF NOT EXISTS FOR (a:Activation) REQUIRE a.id IS UNIQUE;
CREATE CONSTRAINT api_key_id IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.id IS UNIQUE;
CREATE CONSTRAINT change_feed_name IF NOT EXISTS FOR (f:ChangeFeed) REQUIRE f.name IS UNIQUE;
CREATE CONSTRAINT lease_name IF NOT EXISTS FOR (l:Lease) REQUIRE l.name IS UNIQUE;
CREATE CONSTRAINT suppression_hash IF NOT EXISTS FOR (s:Suppression) REQUIRE s.hash IS UNIQUE;
CREATE CONSTRAINT suppressed_id_hash IF NOT EXISTS FOR (i:SuppressedId) REQUIRE i.hash IS UNIQUE;
CREATE INDEX web_visit_url_time IF NOT EXISTS FOR (v:WebVisit) ON (v.url, v.visitedAt);
CREATE INDEX web_visit_time IF NOT EXISTS FOR (v:WebVisit) ON (v.visitedAt);
CREATE INDEX segment_evaluation_position IF NOT EXISTS FOR (e:SegmentEvaluation) ON (e.position);
CREATE INDEX opportunity_close_date IF NOT EXISTS FOR (o:Opportunity) ON (o.closeDate);
CREATE INDEX known_in_key IF NOT EXISTS FOR ()-[k:KNOWN_IN]-() ON (k.sourceKey);
CREATE INDEX same_company_mdm_id IF NOT EXISTS FOR ()-[l:SAME_COMPANY]-() ON (l.mdmId);
CREATE INDEX company_won_sum IF NOT EXISTS FOR (c:Company) ON (c.wonSum);
CREATE INDEX company_won_count IF NOT EXISTS FOR (c:Company) ON (c.wonCount);
CREATE INDEX company_won_max IF NOT EXISTS FOR (c:Company) ON (c.wonMax);
CREATE INDEX company_lost_sum IF NOT EXISTS FOR (c:Company) ON (c.lostSum);
CREATE INDEX company_lost_count IF NOT EXISTS FOR (c:Company) ON (c.lostCount);
CREATE INDEX company_lost_max IF NOT EXISTS FOR (c:Company) ON (c.lostMax);
CREATE INDEX company_open_sum IF NOT EXISTS FOR (c:Company) ON (c.openSum);
CREATE INDEX company_open_count IF NOT EXISTS FOR (c:Company) ON (c.openCount);
CREATE INDEX company_open_max IF NOT EXISTS FOR (c:Company) ON (c.openMax);
CREATE INDEX company_any_sum IF NOT EXISTS FOR (c:Company) ON (c.anySum);
CREATE INDEX company_any_count IF NOT EXISTS FOR (c:Company) ON (c.anyCount);
CREATE INDEX company_any_max IF NOT EXISTS FOR (c:Company) ON (c.anyMax);
