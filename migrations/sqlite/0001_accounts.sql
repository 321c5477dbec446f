-- SQLite twin of postgres/0001_accounts.sql. Accounts, sessions (refresh-token families) and the signing keys shared by every instance.
create table users (
    id            text primary key,
    email         text unique,
    nickname      text not null,
    nickname_key  text not null unique,
    password_hash text,
    kakao_id      text unique,
    role          text not null default 'user' check (role in ('user', 'admin')),
    created_at    bigint not null,
    updated_at    bigint not null
);

create table sessions (
    id         text primary key,
    user_id    text not null references users (id) on delete cascade,
    created_at bigint not null,
    expires_at bigint not null,
    revoked_at bigint
);
create index sessions_user_id on sessions (user_id);

create table refresh_tokens (
    token_hash text primary key,
    session_id text not null references sessions (id) on delete cascade,
    created_at bigint not null,
    used_at    bigint
);
create index refresh_tokens_session_id on refresh_tokens (session_id);

create table signing_keys (
    kid        text primary key,
    secret     text not null,
    created_at bigint not null
);
