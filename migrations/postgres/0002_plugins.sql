-- Plugin registry: content-addressed component versions, the activation history (the latest
-- row per world is the active version), and the audit log of admin actions.
create table plugin_versions (
    sha256      text primary key,
    world       text not null check (world in ('mission-generator', 'verification-policy')),
    label       text not null,
    note        text not null default '',
    uploaded_by text,
    size_bytes  bigint not null,
    component   bytea not null,
    created_at  bigint not null
);

create table plugin_activations (
    id           text primary key,
    world        text not null,
    sha256       text not null references plugin_versions (sha256),
    actor        text,
    activated_at bigint not null
);
create index plugin_activations_world on plugin_activations (world, id);

create table audit_log (
    id     text primary key,
    at     bigint not null,
    actor  text,
    action text not null,
    target text not null,
    detail text not null default ''
);
create index audit_log_at on audit_log (at);
