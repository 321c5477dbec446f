//! Structure checks over the source tree: the boundaries the architecture promises, enforced
//! by reading the files. Each failure names the file and line.
//!
//! - Only the composition root (`app`, and `lib.rs`, `main.rs`, `cli.rs` that start it)
//!   refers to `crate::app`.
//! - Only `db/` names a database engine.
//! - Only `plugins/` names the generated bindings or their JSON mirrors.
//! - No source file holds a NUL byte (tools then treat it as binary).

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

fn host_src() -> PathBuf {
    workspace().join("host/src")
}

/// Every file under `dir` whose name ends with one of `extensions`, sorted; build output,
/// caches and hidden directories left out.
fn files(dir: &Path, extensions: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|err| panic!("{}: {err}", dir.display()));
        for entry in entries.map(|entry| entry.expect("directory entry")) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                if !(name.starts_with('.')
                    || name == "target"
                    || name == "__pycache__"
                    || name == "node_modules")
                {
                    pending.push(path);
                }
            } else if kind.is_file() && extensions.iter().any(|ext| name.ends_with(&format!(".{ext}"))) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace()).unwrap_or(path).display().to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Fails listing every finding, one `file:line: what` per line.
fn assert_none(rule: &str, findings: Vec<String>) {
    assert!(findings.is_empty(), "{rule}:\n{}", findings.join("\n"));
}

// ---- the composition root -------------------------------------------------------------------

#[test]
fn no_module_but_the_composition_root_refers_to_it() {
    let root = host_src();
    let mut findings = Vec::new();
    for file in files(&root, &["rs"]) {
        let inside = file.strip_prefix(&root).expect("under host/src");
        let is_root = inside.starts_with("app")
            || ["app.rs", "lib.rs", "main.rs", "cli.rs"].iter().any(|name| inside == Path::new(name));
        if is_root {
            continue;
        }
        let text = read(&file);
        let module = module_path(inside);
        let mut lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| mentions_path(line, "crate::app"))
            .map(|(n, _)| n + 1)
            .collect();
        lines.extend(paths(&strip_comments_and_strings(&text)).into_iter().filter_map(|(line, path)| {
            (resolve(&module, &path).first().map(String::as_str) == Some("app")).then_some(line)
        }));
        lines.sort_unstable();
        lines.dedup();
        findings.extend(lines.into_iter().map(|line| {
            format!("{}:{line}: {}", relative(&file), text.lines().nth(line - 1).unwrap_or_default().trim())
        }));
    }
    assert_none("modules other than the composition root refer to crate::app", findings);
}

// ---- engines ---------------------------------------------------------------------------------

/// Words that name a database engine or one engine's SQL.
const ENGINE_WORDS: &[&str] = &["sqlite", "postgres", "for update", "skip locked", "begin immediate"];

#[test]
fn only_db_names_an_engine() {
    let root = host_src();
    let mut findings = Vec::new();
    for file in files(&root, &["rs"]) {
        if file.strip_prefix(&root).expect("under host/src").starts_with("db") {
            continue;
        }
        for (n, line) in read(&file).lines().enumerate() {
            let lower = line.to_lowercase();
            for word in ENGINE_WORDS.iter().filter(|word| contains_word(&lower, word)) {
                findings.push(format!("{}:{}: names `{word}`: {}", relative(&file), n + 1, line.trim()));
            }
        }
    }
    assert_none("files outside host/src/db/ name a database engine", findings);
}

// ---- generated bindings ------------------------------------------------------------------------

#[test]
fn only_plugins_name_the_generated_bindings() {
    let root = host_src();
    let mut findings = Vec::new();
    for file in files(&root, &["rs"]) {
        let inside = file.strip_prefix(&root).expect("under host/src");
        if inside.starts_with("plugins") {
            continue;
        }
        let text = read(&file);
        let module = module_path(inside);
        let mut lines: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, line)| {
                ["bindings::", "plugins::bindings", "plugins::dto"]
                    .iter()
                    .any(|pattern| line.contains(pattern))
            })
            .map(|(n, _)| n + 1)
            .collect();
        lines.extend(paths(&strip_comments_and_strings(&text)).into_iter().filter_map(|(line, path)| {
            let path = resolve(&module, &path);
            let generated = path.iter().any(|segment| segment == "bindings")
                || path.windows(2).any(|pair| pair[0] == "plugins" && pair[1] == "dto");
            generated.then_some(line)
        }));
        lines.sort_unstable();
        lines.dedup();
        findings.extend(lines.into_iter().map(|line| {
            format!("{}:{line}: {}", relative(&file), text.lines().nth(line - 1).unwrap_or_default().trim())
        }));
    }
    assert_none("files outside host/src/plugins/ name the generated bindings", findings);
}

// ---- NUL bytes --------------------------------------------------------------------------------

#[test]
fn no_source_file_holds_a_nul_byte() {
    let mut findings = Vec::new();
    for file in files(&workspace(), &["rs", "wit", "sql", "py", "sh", "toml"]) {
        let bytes = std::fs::read(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
            if line.contains(&0) {
                findings.push(format!("{}:{}: a NUL byte (write it as an escape)", relative(&file), n + 1));
            }
        }
    }
    assert_none("source files hold NUL bytes", findings);
}

// ---- reading Rust ---------------------------------------------------------------------------

/// Whether `line` holds `path` as a path (not as the start of a longer name: `crate::apple`).
fn mentions_path(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(at, _)| {
        let after = line[at + path.len()..].chars().next();
        !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Whether `text` holds `word` (already lower case). A single word counts inside longer
/// identifiers too (`SqlitePool`, `is_postgres`); a phrase must stand between word boundaries
/// (`for updates` is English), a space in it standing for any run of whitespace.
fn contains_word(text: &str, word: &str) -> bool {
    let parts: Vec<&str> = word.split(' ').collect();
    if parts.len() == 1 {
        return text.contains(word);
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(parts[0]).any(|(at, _)| {
        if text[..at].chars().next_back().is_some_and(is_word) {
            return false;
        }
        let mut rest = &text[at + parts[0].len()..];
        for part in &parts[1..] {
            let trimmed = rest.trim_start();
            if trimmed.len() == rest.len() || !trimmed.starts_with(part) {
                return false;
            }
            rest = &trimmed[part.len()..];
        }
        !rest.chars().next().is_some_and(is_word)
    })
}

/// The module path of a file under `host/src` (`community/votes.rs` → `community::votes`).
fn module_path(inside: &Path) -> Vec<String> {
    let mut segments: Vec<String> =
        inside.iter().map(|segment| segment.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
    if matches!(segments.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        segments.pop();
    }
    segments
}

/// `path` (starting with `crate`, `self`, `super` or `$crate`) as a path from the crate root,
/// seen from `module`. `super` in an inline module is counted as if at file level, which can
/// only report more, never less.
fn resolve(module: &[String], path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate" | "$crate") => rest = &path[1..],
        Some("self" | "super") => {
            base = module.to_vec();
            while let Some(first) = rest.first() {
                match first.as_str() {
                    "self" => {}
                    "super" => {
                        base.pop();
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return Vec::new(),
    }
    base.extend(rest.iter().cloned());
    base
}

/// The code of a Rust file with comments and the contents of string and character literals
/// blanked out; line breaks stay where they were.
fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(hashes) = raw_string_start(&chars, i) {
            // r"…", r#"…"#, br#"…"#: no escapes, ends at a quote followed by as many hashes.
            while chars[i] != '"' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
            while i < chars.len() {
                if chars[i] == '"'
                    && chars[i + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes
                {
                    out.push_str(&" ".repeat(hashes + 1));
                    i += hashes + 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&chars, i) {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The number of `#` of a raw string literal starting at `i`, if one does.
fn raw_string_start(chars: &[char], i: usize) -> Option<usize> {
    let previous_is_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    if previous_is_word {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') || chars.get(j) == Some(&'c') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    (chars.get(j + hashes) == Some(&'"')).then_some(hashes)
}

/// A character literal (`'a'`, `'\n'`, `'\u{1F600}'`) rather than a lifetime or label (`'a`).
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// Every path in `code` that starts at `crate`, `$crate`, `self` or `super`, with `use` groups
/// expanded (`crate::{app::App, db}` gives `crate::app::App` and `crate::db`), and the line it
/// starts on.
fn paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let tokens = tokens(code);
    let mut found = Vec::new();
    for (at, (line, token)) in tokens.iter().enumerate() {
        let starts = matches!(token.as_str(), "crate" | "$crate" | "self" | "super");
        let continues = at > 0 && tokens[at - 1].1 == "::";
        if starts && !continues {
            let mut expanded = Vec::new();
            path_tree(&tokens, at, Vec::new(), &mut expanded);
            found.extend(expanded.into_iter().map(|path| (*line, path)));
        }
    }
    found
}

/// Expands the path (or `use` tree) starting at token `at` after `prefix` into `out`; returns
/// the index after it.
fn path_tree(
    tokens: &[(usize, String)],
    mut at: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match tokens.get(at).map(|(_, token)| token.as_str()) {
            Some("{") => {
                at += 1;
                while tokens.get(at).is_some_and(|(_, token)| token != "}") {
                    at = path_tree(tokens, at, prefix.clone(), out);
                    if tokens.get(at).is_some_and(|(_, token)| token == ",") {
                        at += 1;
                    }
                }
                out.push(prefix);
                return at + 1;
            }
            Some(token) if is_identifier(token) => {
                prefix.push(token.to_owned());
                at += 1;
                if tokens.get(at).is_some_and(|(_, token)| token == "::") {
                    at += 1;
                    continue;
                }
                out.push(prefix);
                return at;
            }
            _ => {
                out.push(prefix);
                return at;
            }
        }
    }
}

fn is_identifier(token: &str) -> bool {
    let token = token.strip_prefix('$').unwrap_or(token);
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && token.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Identifiers (with a leading `$` kept), `::`, and single punctuation characters, each with
/// its line.
fn tokens(code: &str) -> Vec<(usize, String)> {
    let mut tokens = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_alphanumeric()
                || c == '_'
                || (c == '$' && chars.get(i + 1).is_some_and(|c| c.is_alphabetic()))
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push((n + 1, chars[start..i].iter().collect()));
            } else if c == ':' && chars.get(i + 1) == Some(&':') {
                tokens.push((n + 1, "::".to_owned()));
                i += 2;
            } else if c.is_whitespace() {
                i += 1;
            } else {
                tokens.push((n + 1, c.to_string()));
                i += 1;
            }
        }
    }
    tokens
}

#[test]
fn the_checks_see_what_they_look_for() {
    let code = strip_comments_and_strings(
        "use crate::{db, app::App};\n// crate::app in a comment\nlet s = \"crate::app\";\nuse super::super::app;\nfn f<'a>(c: char) { let q = '\"'; }\nlet r = r#\"super::app\"#;\n",
    );
    let found: Vec<(usize, Vec<String>)> = paths(&code)
        .into_iter()
        .map(|(line, path)| (line, resolve(&["community".into(), "votes".into()], &path)))
        .collect();
    let app = |line: usize| (line, vec!["app".to_owned()]);
    assert!(found.contains(&(1, vec!["app".to_owned(), "App".to_owned()])), "{found:?}");
    assert!(found.contains(&(1, vec!["db".to_owned()])), "{found:?}");
    assert!(found.contains(&app(4)), "{found:?}");
    assert!(!found.iter().any(|(line, _)| [2, 3, 6].contains(line)), "comments and strings: {found:?}");
    assert!(contains_word("select 1 for  update", "for update"));
    assert!(!contains_word("waits for updates", "for update"));
    assert!(contains_word("sqlitepool", "sqlite") && contains_word("is_postgres()", "postgres"));
    assert!(mentions_path("use crate::app;", "crate::app") && !mentions_path("crate::apple", "crate::app"));
}
