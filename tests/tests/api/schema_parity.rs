//! The two migration sets build one schema. Both are applied to fresh databases, each engine's
//! catalog is read into the same facts (tables; columns with a type family and nullability;
//! primary keys; unique constraints; named indexes with their columns and uniqueness; foreign
//! keys; and how each indexed text column orders), and every fact that differs must be on the
//! commented list below, which must itself hold nothing that no longer differs.

use std::collections::{BTreeMap, BTreeSet};
use weatherwise::db::Database;
use weatherwise_tests::fresh_postgres_database;

/// Text keys compared only for equality (lookups, joins, uniqueness, `like` prefixes), never
/// read in order, so PostgreSQL's database collation gives the same answers as SQLite's
/// byte-wise one. A key read in order (keyset pages, `order by`, `max`, ranges) is not
/// listed: it has the "C" collation on PostgreSQL.
const EQUALITY_ONLY_KEYS: &[&str] = &[
    "mission_days.user_id",
    "missions.slot",
    "missions.user_id",
    "plugin_activations.world",
    "plugin_calls.sha256",
    "plugin_scorecards.sha256",
    "plugin_shadow_verdicts.candidate",
    "plugin_shadows.world",
    "post_votes.user_id",
    "posts.author_id",
    "refresh_tokens.session_id",
    "refresh_tokens.token_hash",
    "sessions.id",
    "sessions.user_id",
    "signing_keys.kid",
    "users.email",
    "users.id",
    "users.kakao_id",
    "verification_jobs.state",
    "verifications.state",
];

/// Other intended differences: (fact, on SQLite, on PostgreSQL).
const OTHER_DIFFERENCES: &[(&str, &str, &str)] = &[
    // Nickname keys are unique (equality only), and searched by prefix through an index each
    // engine builds its own way: SQLite serves `like` from a NOCASE index (LIKE's own
    // comparison; keys are case-folded already), PostgreSQL from pattern operators, which
    // compare byte-wise whatever the collation.
    ("order users.nickname_key", "byte-wise, nocase", "byte-wise, database default"),
];

const SQLITE: &str = "on SQLite";
const POSTGRES: &str = "on PostgreSQL";

#[tokio::test]
async fn both_migration_sets_build_the_same_schema() {
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = Database::connect(&weatherwise::db::embedded_url(dir.path()), 1).await.expect("sqlite");
    sqlite.migrate().await.expect("migrate sqlite");
    let postgres = Database::connect(&fresh_postgres_database().await, 1).await.expect("postgres");
    postgres.migrate().await.expect("migrate postgres");

    let sqlite = sqlite_facts(&sqlite).await;
    let postgres = postgres_facts(&postgres).await;
    assert!(sqlite.contains_key("table users"), "the SQLite catalog was read: {sqlite:?}");
    assert!(postgres.contains_key("table users"), "the PostgreSQL catalog was read: {postgres:?}");

    let allowed = allowed_differences();
    let mut unexplained = Vec::new();
    let mut explained = BTreeSet::new();
    for fact in sqlite.keys().chain(postgres.keys()).collect::<BTreeSet<_>>() {
        let on_sqlite = sqlite.get(fact).map_or("(none)", String::as_str);
        let on_postgres = postgres.get(fact).map_or("(none)", String::as_str);
        if on_sqlite == on_postgres {
            continue;
        }
        match allowed.get(fact.as_str()) {
            Some((sqlite_allowed, postgres_allowed))
                if sqlite_allowed == on_sqlite && postgres_allowed == on_postgres =>
            {
                explained.insert(fact.clone());
            }
            _ => unexplained.push(format!("{fact}: {on_sqlite:?} {SQLITE}, {on_postgres:?} {POSTGRES}")),
        }
    }
    let stale: Vec<&String> = allowed.keys().filter(|fact| !explained.contains(*fact)).collect();
    assert!(
        unexplained.is_empty() && stale.is_empty(),
        "the migration sets differ:\n  {}\nlisted as differences but no longer differing: {stale:?}",
        unexplained.join("\n  ")
    );
}

fn allowed_differences() -> BTreeMap<String, (String, String)> {
    let equality_only = EQUALITY_ONLY_KEYS
        .iter()
        .map(|key| (format!("order {key}"), ("byte-wise".to_owned(), "database default".to_owned())));
    let other = OTHER_DIFFERENCES
        .iter()
        .map(|(fact, sqlite, postgres)| ((*fact).to_owned(), ((*sqlite).to_owned(), (*postgres).to_owned())));
    equality_only.chain(other).collect()
}

/// The family of a declared column type: what both engines store and compare alike.
fn type_family(declared: &str) -> String {
    let declared = declared.to_ascii_lowercase();
    match declared.as_str() {
        "text" | "character varying" | "varchar" => "text".into(),
        "integer" | "int" | "bigint" | "smallint" => "integer".into(),
        "real" | "double precision" => "float".into(),
        "blob" | "bytea" => "bytes".into(),
        other => other.into(),
    }
}

fn nullability(not_null: bool) -> &'static str {
    if not_null { "not null" } else { "null" }
}

/// One column of an index, as both catalogs give it.
struct IndexColumn {
    table: String,
    index: String,
    unique: bool,
    /// `pk`, `u` (a unique constraint) or `c` (a named index).
    origin: String,
    position: i64,
    column: String,
    descending: bool,
    /// How the column orders: `byte-wise`, `nocase`, `database default`, … (text only).
    ordering: String,
}

/// An [`IndexColumn`] as the PostgreSQL query returns it, in field order.
type IndexColumnRow = (String, String, i64, String, i64, String, i64, String);

/// Adds the facts of the indexes: primary keys, unique constraints (by columns: the engines
/// name them differently), named indexes, and how each indexed text column orders.
fn index_facts(facts: &mut BTreeMap<String, String>, mut columns: Vec<IndexColumn>) {
    columns.sort_by(|a, b| (&a.table, &a.index, a.position).cmp(&(&b.table, &b.index, b.position)));
    let mut indexes: BTreeMap<(&str, &str), Vec<&IndexColumn>> = BTreeMap::new();
    for column in &columns {
        indexes.entry((&column.table, &column.index)).or_default().push(column);
    }
    let mut orderings: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for ((table, index), columns) in indexes {
        let list = columns
            .iter()
            .map(|c| if c.descending { format!("{} desc", c.column) } else { c.column.clone() })
            .collect::<Vec<_>>()
            .join(", ");
        let first = columns[0];
        match first.origin.as_str() {
            "pk" => {
                facts.insert(format!("primary key {table}"), format!("({list})"));
            }
            "u" => {
                facts.insert(format!("unique {table} ({list})"), "unique constraint".into());
            }
            _ => {
                let unique = if first.unique { "unique " } else { "" };
                facts.insert(format!("index {table}.{index}"), format!("{unique}({list})"));
            }
        }
        for column in columns {
            let text = facts
                .get(&format!("column {table}.{}", column.column))
                .is_some_and(|t| t.starts_with("text"));
            if text {
                orderings
                    .entry(format!("order {table}.{}", column.column))
                    .or_default()
                    .insert(&column.ordering);
            }
        }
    }
    for (fact, ordering) in orderings {
        facts.insert(fact, ordering.into_iter().collect::<Vec<_>>().join(", "));
    }
}

async fn sqlite_facts(db: &Database) -> BTreeMap<String, String> {
    let pool = db.pool();
    let mut facts = BTreeMap::new();
    let tables: Vec<(String,)> = sqlx::query_as(
        "select name from sqlite_schema where type = 'table' and name not like 'sqlite_%' \
         and name <> '_sqlx_migrations' order by name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut index_columns = Vec::new();
    for (table,) in &tables {
        facts.insert(format!("table {table}"), "table".into());
        let columns: Vec<(String, String, i64, i64)> =
            sqlx::query_as("select name, type, \"notnull\", pk from pragma_table_info($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("columns");
        for (column, declared, not_null, pk) in &columns {
            // SQLite lets a primary-key column other than an integer one hold null (a quirk it
            // keeps for old files); every id is written by the code, so a key counts as not null.
            let not_null = *not_null != 0 || *pk > 0;
            facts.insert(
                format!("column {table}.{column}"),
                format!("{} {}", type_family(declared), nullability(not_null)),
            );
        }
        let indexes: Vec<(String, i64, String)> =
            sqlx::query_as("select name, \"unique\", origin from pragma_index_list($1)")
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("indexes");
        for (index, unique, origin) in indexes {
            let keys: Vec<(i64, String, i64, String)> = sqlx::query_as(
                "select seqno, name, \"desc\", coll from pragma_index_xinfo($1) where key = 1 order by seqno",
            )
            .bind(&index)
            .fetch_all(pool)
            .await
            .expect("index columns");
            for (position, column, descending, collation) in keys {
                let ordering = match collation.to_ascii_uppercase().as_str() {
                    "BINARY" => "byte-wise".to_owned(),
                    other => other.to_ascii_lowercase(),
                };
                index_columns.push(IndexColumn {
                    table: table.clone(),
                    index: index.clone(),
                    unique: unique != 0,
                    origin: origin.clone(),
                    position,
                    column,
                    descending: descending != 0,
                    ordering,
                });
            }
        }
        let foreign_keys: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
            "select id, seq, \"table\", \"from\", \"to\", on_delete from pragma_foreign_key_list($1) \
             order by id, seq",
        )
        .bind(table)
        .fetch_all(pool)
        .await
        .expect("foreign keys");
        let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>, String)> = BTreeMap::new();
        for (id, _seq, target, from, to, on_delete) in foreign_keys {
            let entry = by_id.entry(id).or_insert_with(|| (Vec::new(), target, Vec::new(), on_delete));
            entry.0.push(from);
            entry.2.push(to);
        }
        for (from, target, to, on_delete) in by_id.into_values() {
            facts.insert(
                format!("foreign key {table} ({})", from.join(", ")),
                format!(
                    "references {target} ({}) on delete {}",
                    to.join(", "),
                    on_delete.to_ascii_lowercase()
                ),
            );
        }
    }
    index_facts(&mut facts, index_columns);
    // A table whose key is its integer rowid has no index for it: the key is in the columns.
    for (table,) in &tables {
        let key: Vec<(String,)> =
            sqlx::query_as("select name from pragma_table_info($1) where pk > 0 order by pk")
                .bind(table)
                .fetch_all(pool)
                .await
                .expect("primary key");
        if !key.is_empty() {
            let key = key.into_iter().map(|(column,)| column).collect::<Vec<_>>().join(", ");
            facts.entry(format!("primary key {table}")).or_insert(format!("({key})"));
        }
    }
    facts
}

async fn postgres_facts(db: &Database) -> BTreeMap<String, String> {
    let pool = db.pool();
    let mut facts = BTreeMap::new();
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "select c.table_name::text, c.column_name::text, c.data_type::text, c.is_nullable::text \
         from information_schema.columns c join information_schema.tables t \
         on t.table_schema = c.table_schema and t.table_name = c.table_name \
         where c.table_schema = current_schema() and t.table_type = 'BASE TABLE' \
         and c.table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("columns");
    for (table, column, declared, nullable) in columns {
        facts.insert(format!("table {table}"), "table".into());
        facts.insert(
            format!("column {table}.{column}"),
            format!("{} {}", type_family(&declared), nullability(nullable == "NO")),
        );
    }
    let keys: Vec<IndexColumnRow> = sqlx::query_as(
        "select t.relname::text, i.relname::text, ix.indisunique::int::bigint, \
         case c.contype when 'p' then 'pk' when 'u' then 'u' else 'c' end, k.n::bigint, a.attname::text, \
         (ix.indoption[k.n - 1] & 1)::bigint, \
         case when op.opcname::text like '%pattern_ops' then 'byte-wise' \
              when co.collname is null then '' \
              when co.collname::text in ('C', 'POSIX') then 'byte-wise' \
              when co.collname::text = 'default' then 'database default' \
              else co.collname::text end \
         from pg_index ix \
         join pg_class i on i.oid = ix.indexrelid \
         join pg_class t on t.oid = ix.indrelid \
         join pg_namespace ns on ns.oid = t.relnamespace \
         cross join lateral unnest(ix.indkey::int2[]) with ordinality k(attnum, n) \
         join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum \
         join pg_opclass op on op.oid = ix.indclass[k.n - 1] \
         left join pg_collation co on co.oid = ix.indcollation[k.n - 1] \
         left join pg_constraint c on c.conindid = ix.indexrelid and c.contype in ('p', 'u') \
         where ns.nspname = current_schema() and t.relname <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("indexes");
    let index_columns = keys
        .into_iter()
        .map(|(table, index, unique, origin, position, column, descending, ordering)| IndexColumn {
            table,
            index,
            unique: unique != 0,
            origin,
            position,
            column,
            descending: descending != 0,
            ordering,
        })
        .collect();
    index_facts(&mut facts, index_columns);
    let foreign_keys: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "select t.relname::text, \
         (select string_agg(a.attname::text, ', ' order by k.n) from unnest(c.conkey) with ordinality k(attnum, n) \
          join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum), \
         r.relname::text, \
         (select string_agg(a.attname::text, ', ' order by k.n) from unnest(c.confkey) with ordinality k(attnum, n) \
          join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum), \
         case c.confdeltype when 'a' then 'no action' when 'r' then 'restrict' when 'c' then 'cascade' \
              when 'n' then 'set null' when 'd' then 'set default' end \
         from pg_constraint c \
         join pg_class t on t.oid = c.conrelid \
         join pg_class r on r.oid = c.confrelid \
         join pg_namespace ns on ns.oid = t.relnamespace \
         where c.contype = 'f' and ns.nspname = current_schema()",
    )
    .fetch_all(pool)
    .await
    .expect("foreign keys");
    for (table, from, target, to, on_delete) in foreign_keys {
        facts.insert(
            format!("foreign key {table} ({from})"),
            format!("references {target} ({to}) on delete {on_delete}"),
        );
    }
    facts
}
