-- Community: posts with a location, and at most one vote per user per post.
--
-- Ids are UUIDv7 text, so `order by id` is creation order: every listing is a keyset over id.
-- The "C" collation makes text comparison byte-wise, the order SQLite and Rust use too.
create table posts (
    id                text collate "C" primary key,
    -- Set null when the author deletes their account: the post stays, anonymised.
    author_id         text references users (id) on delete set null,
    title             text not null,
    body              text not null,
    lat               double precision not null,
    lon               double precision not null,
    -- floor(lat * 100): a band about 1.1 km tall (see below).
    lat_band          bigint not null,
    helpful_count     bigint not null default 0 check (helpful_count >= 0),
    not_helpful_count bigint not null default 0 check (not_helpful_count >= 0),
    created_at        bigint not null
);

-- The nearby prefilter. A plain (lat, lon) index answers a box by scanning every entry of the
-- latitude range across the whole country and checking lon on each: for a 10 km box in Korea,
-- some 50 times the entries inside the box. With a band column, the query lists the few bands
-- the box touches (`lat_band in (…)`) and both engines descend the index once per band with an
-- exact range on lon, reading little more than the box. lat and id complete the key so the
-- prefilter is answered from the index alone, and no extension (PostGIS, R-tree) is needed.
create index posts_area on posts (lat_band, lon, lat, id);
create index posts_author on posts (author_id, id);

create table post_votes (
    post_id        text collate "C" not null references posts (id) on delete cascade,
    -- No foreign key to users: a deleted account's votes stay counted, so the counters keep
    -- equalling the votes.
    user_id        text not null,
    -- 1 helpful, -1 not helpful.
    value          bigint not null check (value in (-1, 1)),
    -- The value this row had before its last change (0: none); the vote upsert returns it so
    -- the counters move by exactly that change.
    previous_value bigint not null default 0,
    updated_at     bigint not null,
    primary key (post_id, user_id)
);
