-- Weather warnings from KMA's feeds, the alert chat rooms they open, and where users were last
-- seen (which province hears of a new room).
--
-- Ids are text in the "C" collation (byte-wise, as SQLite and Rust compare); times are unix
-- milliseconds.

-- One row per announcement, keyed as the feeds identify one (upper region, area, announced,
-- effective, kind and level; see `Warning::key`), so a row seen again is not stored twice.
create table weather_warnings (
    key           text collate "C" primary key,
    province      text collate "C" not null,
    upper_code    text not null,
    area_code     text not null,
    area_name     text not null,
    kind          text not null,
    level         text not null,
    command       text not null,
    announced_at  bigint not null,
    effective_at  bigint not null,
    ends          text,
    first_seen_at bigint not null,
    last_seen_at  bigint not null,
    -- Set when the feed lifts it or stops listing it; null while in force.
    lifted_at     bigint
);
create index weather_warnings_in_force on weather_warnings (province) where lifted_at is null;

-- A room per province and alert episode: open while any warning of its province is in force,
-- then read-only, kept for history until the retention ends.
create table chat_rooms (
    id          text collate "C" primary key,
    province    text collate "C" not null,
    name        text not null,
    status      text not null check (status in ('open', 'read_only')),
    -- Names this room's history: it changes only if the history is lost and rebuilt, which
    -- tells a resuming client its offsets mean nothing here any more.
    epoch       text not null,
    -- The offset the next message gets; offsets are consecutive from 1.
    next_offset bigint not null default 1 check (next_offset >= 1),
    opened_at   bigint not null,
    closed_at   bigint
);
-- One open room per province: new warnings of the province join it.
create unique index chat_rooms_open_province on chat_rooms (province) where status = 'open';
create index chat_rooms_closed on chat_rooms (closed_at) where closed_at is not null;

create table chat_room_warnings (
    room_id     text collate "C" not null references chat_rooms (id) on delete cascade,
    warning_key text collate "C" not null references weather_warnings (key) on delete cascade,
    primary key (room_id, warning_key)
);

-- A deleted message (by an admin, or with its author's account) leaves its offset unused: a
-- reader meets a missing offset as a deletion, never as a gap.
create table chat_messages (
    room_id   text collate "C" not null references chat_rooms (id) on delete cascade,
    "offset"  bigint not null,
    id        text collate "C" not null unique,
    user_id   text collate "C" not null references users (id) on delete cascade,
    nickname  text not null,
    body      text not null,
    sent_at   bigint not null,
    primary key (room_id, "offset")
);
create index chat_messages_user on chat_messages (user_id);

create table chat_mutes (
    room_id  text collate "C" not null references chat_rooms (id) on delete cascade,
    user_id  text collate "C" not null references users (id) on delete cascade,
    until    bigint not null,
    muted_by text collate "C" not null,
    reason   text not null,
    primary key (room_id, user_id)
);

-- The province a user was last seen in (by the missions they asked for).
create table user_locations (
    user_id  text collate "C" primary key references users (id) on delete cascade,
    province text collate "C" not null,
    seen_at  bigint not null
);
create index user_locations_province on user_locations (province, user_id);
