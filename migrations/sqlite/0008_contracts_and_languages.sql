-- SQLite twin of postgres/0008_contracts_and_languages.sql.
-- Versioned plugin contracts and the language users read.

-- The version of the plugin contracts (`wit/<version>/plugins.wit`) a component implements,
-- read from its exports at upload. Every version stored before this was recorded implements
-- 0.1.0, the only contract there was.
alter table plugin_versions add column contract text not null default '0.1.0';

-- The contract version a scorecard was measured as (a 0.2.0 component runs each case in every
-- language).
alter table plugin_scorecards add column contract text not null default '0.1.0';

-- The language a user chose for missions and verdicts (`ko`, `en`); null until they choose,
-- when the client's Accept-Language decides, else Korean.
alter table users add column language text;

-- The language a mission's texts are written in, and its verdict's reason. Missions made
-- before this were written in English by the generators of contract 0.1.0.
alter table missions add column language text not null default 'en';
