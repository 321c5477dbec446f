-- Brings this set level with sqlite/ (tests/tests/api/schema_parity.rs compares the two).
--
-- Keys that are read in order (keyset pages, `order by`, `max`, ranges) compare byte-wise, as
-- SQLite compares all text. Without "C" a column compares by the database's collation, and a
-- natural-language one (en_US, ko_KR) orders punctuation apart from letters and digits: the
-- audit log's first page asks for ids below '~', which such a collation puts before every id.
-- Keys compared only for equality keep the database's collation; the test lists them.
alter table audit_log alter column id type text collate "C";
alter table plugin_activations alter column id type text collate "C";
alter table plugin_calls alter column id type text collate "C";
alter table plugin_shadow_verdicts alter column id type text collate "C";
-- The tie-break of the version list (`order by created_at desc, sha256`).
alter table plugin_versions alter column sha256 type text collate "C";
-- Recent mission keys are read by date range (`local_date >= $2`).
alter table missions alter column local_date type text collate "C";
alter table mission_days alter column local_date type text collate "C";
