-- SQLite twin of postgres/0005_points_notifications.sql. Points, rankings and notifications.
create table points_ledger (
    verification_id text primary key,
    user_id         text not null references users (id) on delete cascade,
    points          bigint not null check (points > 0),
    credited_at     bigint not null
);
create index points_ledger_user on points_ledger (user_id, credited_at, verification_id);

create table user_points (
    user_id    text primary key references users (id) on delete cascade,
    total      bigint not null check (total > 0),
    reached_at bigint not null
);
create index user_points_rank on user_points (total desc, reached_at, user_id);

create table notification_counters (
    user_id  text primary key references users (id) on delete cascade,
    last_seq bigint not null
);

create table notifications (
    user_id    text not null references users (id) on delete cascade,
    seq        bigint not null,
    kind       text not null,
    payload    text not null,
    created_at bigint not null,
    primary key (user_id, seq)
);
