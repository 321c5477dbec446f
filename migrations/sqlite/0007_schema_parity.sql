-- Brings this set level with postgres/ (tests/tests/api/schema_parity.rs compares the two).
--
-- Nickname prefix search (`nickname_key like 'pre%' escape '\'`): SQLite reads a LIKE prefix
-- from an index only when the index compares as LIKE does, ASCII case-insensitively (NOCASE).
-- Nickname keys are case-folded already, so both orders agree; without this index a search
-- reads every ranked user. The PostgreSQL twin (pattern operators) is in postgres/0005.
create index users_nickname_key_prefix on users (nickname_key collate nocase);
