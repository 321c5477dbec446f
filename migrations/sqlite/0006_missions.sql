-- SQLite twin of postgres/0006_missions.sql.
-- Missions, photo verifications and the durable queue of verification jobs.

-- One row per user and local day once that day's missions were generated, even when the
-- generator proposed fewer than three: asking again never generates again.
create table mission_days (
    user_id       text not null references users (id) on delete cascade,
    local_date    text not null,
    region        text not null,
    lat           real not null,
    lon           real not null,
    weather_stale bigint not null default 0,
    generator     text,
    call_id       text,
    created_at    bigint not null,
    primary key (user_id, local_date)
);

create table missions (
    id          text primary key,
    user_id     text not null references users (id) on delete cascade,
    local_date  text not null,
    slot        text not null check (slot in ('morning', 'lunch', 'evening')),
    key         text not null,
    title       text not null,
    description text not null,
    points      bigint not null check (points between 1 and 100),
    rubric      text not null,
    outdoor     bigint not null,
    state       text not null check (state in
                  ('assigned', 'submitted', 'verifying', 'approved', 'rejected', 'needs_review')),
    -- Photos submitted for this mission; bounded per day.
    attempts    bigint not null default 0,
    created_at  bigint not null,
    updated_at  bigint not null,
    unique (user_id, local_date, slot)
);
create index missions_user on missions (user_id, id);

create table verifications (
    id              text primary key,
    mission_id      text not null references missions (id) on delete cascade,
    user_id         text not null references users (id) on delete cascade,
    state           text not null check (state in
                      ('queued', 'verifying', 'approved', 'rejected', 'needs_review')),
    photo_sha256    text not null,
    mime            text not null,
    width           bigint not null,
    height          bigint not null,
    brightness      real not null,
    -- The 64-bit perceptual hash as a signed integer, and its four 16-bit quarters: two photos
    -- within a few bits of each other share at least one quarter exactly, so the reuse check
    -- is four index lookups and an exact comparison of the few candidates.
    dhash           bigint not null,
    dhash_q0        bigint not null,
    dhash_q1        bigint not null,
    dhash_q2        bigint not null,
    dhash_q3        bigint not null,
    captured_at     bigint,
    gps_distance_m  real,
    reused          bigint not null,
    normalised_key  text not null,
    full_key        text not null,
    decision        text,
    confidence      real,
    reason          text,
    decided_by      text,
    policy_sha256   text,
    call_id         text,
    appeal          text,
    appealed_at     bigint,
    created_at      bigint not null,
    decided_at      bigint
);
create index verifications_mission on verifications (mission_id, id);
create index verifications_review on verifications (state, id);
create index verifications_q0 on verifications (dhash_q0);
create index verifications_q1 on verifications (dhash_q1);
create index verifications_q2 on verifications (dhash_q2);
create index verifications_q3 on verifications (dhash_q3);

-- A job is claimed by setting a lease; a worker that dies leaves the lease to expire and the
-- job goes to the next worker. `done` jobs stay for inspection until pruned.
create table verification_jobs (
    verification_id text primary key references verifications (id) on delete cascade,
    state           text not null check (state in ('queued', 'running', 'done')),
    attempts        bigint not null default 0,
    lease_owner     text,
    lease_until     bigint not null default 0,
    run_after       bigint not null,
    last_error      text,
    created_at      bigint not null,
    updated_at      bigint not null
);
create index verification_jobs_ready on verification_jobs (state, run_after);
