-- Points, rankings and notifications.
--
-- The ledger holds one row per credited verification: the primary key is what makes a credit
-- happen exactly once. user_points is the running total beside it, updated in the same
-- transaction; reached_at is when the user reached that total (the latest credit's time), the
-- tie-break of the ranking. Both can be recomputed from the ledger (`weatherwise ranking rebuild`).
-- User ids use the "C" collation so ties compare byte-wise, as SQLite, Rust and Redis do.
create table points_ledger (
    verification_id text collate "C" primary key,
    user_id         text collate "C" not null references users (id) on delete cascade,
    points          bigint not null check (points > 0),
    credited_at     bigint not null
);
-- The history of one user, newest first, as keyset pages.
create index points_ledger_user on points_ledger (user_id, credited_at, verification_id);

create table user_points (
    user_id    text collate "C" primary key references users (id) on delete cascade,
    total      bigint not null check (total > 0),
    reached_at bigint not null
);
-- The ranking order: rank = 1 + the users before this one in this index.
create index user_points_rank on user_points (total desc, reached_at, user_id);

-- Nickname prefix search: `like 'pre%'` uses a pattern index whatever the database collation.
create index users_nickname_key_prefix on users (nickname_key text_pattern_ops);

-- Notifications: a durable, bounded backlog per user so a stream can resume by Last-Event-ID
-- on any instance. seq numbers one user's events 1, 2, 3 … in commit order (taken from the
-- counter row, whose lock orders concurrent notifications of one user); the counter outlives
-- pruning so numbers are never reused.
create table notification_counters (
    user_id  text collate "C" primary key references users (id) on delete cascade,
    last_seq bigint not null
);

create table notifications (
    user_id    text collate "C" not null references users (id) on delete cascade,
    seq        bigint not null,
    kind       text not null,
    payload    text not null,
    created_at bigint not null,
    primary key (user_id, seq)
);
