-- SQLite twin of postgres/0010_coupons.sql.
-- First-come coupon events, the coupons they issue, a counter per event and day, and the
-- answers given to claims that issued a coupon (by the claimant's idempotency key).
--
-- Ids are text (compared byte-wise); days are Asia/Seoul dates `YYYY-MM-DD`; times are unix
-- milliseconds.

create table coupon_events (
    id             text primary key,
    kind           text not null,
    title          text not null,
    starts_on      text not null,
    ends_on        text not null,
    -- The daily opening time, `HH:MM` in Asia/Seoul.
    opens_at       text not null,
    daily_quantity bigint not null check (daily_quantity between 1 and 1000000),
    -- Eligibility beyond today's approved mission: a points total of at least this.
    min_points     bigint not null default 0 check (min_points >= 0),
    -- Set when an admin closes the event: no claim is taken after.
    closed_at      bigint,
    created_at     bigint not null,
    updated_at     bigint not null,
    check (starts_on <= ends_on)
);

-- An event's day, from its first claim: the quantity of the day, how many were issued (never
-- more: the check is the last word), and the epoch of the fast gate built for the day. A gate
-- holding another epoch, or none, lost its state and admits nothing until rebuilt.
create table coupon_days (
    event_id   text not null references coupon_events (id) on delete cascade,
    day        text not null,
    quantity   bigint not null check (quantity >= 1),
    issued     bigint not null default 0 check (issued >= 0 and issued <= quantity),
    gate_epoch text not null,
    primary key (event_id, day)
);

-- One coupon of an event per user, whatever the day.
create table coupons (
    id          text primary key,
    event_id    text not null references coupon_events (id) on delete cascade,
    user_id     text not null references users (id) on delete cascade,
    day         text not null,
    issued_at   bigint not null,
    redeemed_at bigint,
    unique (event_id, user_id)
);
create index coupons_user on coupons (user_id, id);
create index coupons_event_day on coupons (event_id, day, id);

-- The answer to a claim that issued a coupon, committed with the coupon: a retry with the same
-- key gets it again, and every "issued" answer has its coupon.
create table coupon_claims (
    user_id         text not null references users (id) on delete cascade,
    idempotency_key text not null,
    event_id        text not null references coupon_events (id) on delete cascade,
    coupon_id       text not null references coupons (id) on delete cascade,
    created_at      bigint not null,
    primary key (user_id, idempotency_key)
);
create index coupon_claims_event on coupon_claims (event_id);
