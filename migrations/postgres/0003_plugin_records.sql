-- What the platform keeps about plugin calls and versions: a replayable record of every call
-- (version, seed, inputs, every host-import exchange, outcome), each version's scorecard on
-- its golden corpus, the shadow candidate of a world, and the verdicts shadows gave.
create table plugin_calls (
    id          text primary key,
    world       text not null,
    sha256      text not null,
    purpose     text not null,
    seed        bigint not null,
    input       text not null,
    exchanges   text not null,
    outcome     text not null,
    fuel_used   bigint not null,
    duration_us bigint not null,
    created_at  bigint not null
);
create index plugin_calls_version on plugin_calls (sha256, id);

create table plugin_scorecards (
    sha256            text primary key references plugin_versions (sha256) on delete cascade,
    corpus            text not null,
    passed            integer not null,
    total             integer not null,
    fuel_peak         bigint not null,
    time_peak_us      bigint not null,
    memory_peak_bytes bigint not null,
    size_bytes        bigint not null,
    failures          text not null,
    created_at        bigint not null
);

create table plugin_shadows (
    world      text primary key,
    sha256     text not null references plugin_versions (sha256) on delete cascade,
    started_by text,
    started_at bigint not null
);

create table plugin_shadow_verdicts (
    id                 text primary key,
    call_id            text not null,
    candidate          text not null,
    active             text not null,
    active_decision    text not null,
    candidate_decision text,
    candidate_error    text,
    agree              integer not null,
    created_at         bigint not null
);
create index plugin_shadow_verdicts_candidate on plugin_shadow_verdicts (candidate, id);
