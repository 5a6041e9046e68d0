//! Architecture checks on the source tree itself (no server, no database):
//!
//! * no file under `src/` is longer than [`MAX_LINES`] lines;
//! * the front doors (`src/rest/`, `src/graphql/`) do not reach into `crate::app`;
//! * the files of `src/` import each other without cycles.
//!
//! The import graph is built from the text with a small lexer (comments and
//! string literals are skipped) and a resolver for `use` trees and paths; see
//! [`file_refs`] for what counts as a reference.
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The longest a source file may be.
const MAX_LINES: usize = 500;

/// Directories whose files must not refer to `crate::app`.
const FRONT_DOORS: &[&str] = &["src/rest/", "src/graphql/"];

// ---------------------------------------------------------------------------
// The source tree

/// One `.rs` file of `src/`.
struct SourceFile {
    /// Relative to the crate root, with `/`: `src/domain/users.rs`.
    rel: String,
    /// Its module path: `[]` for `src/lib.rs` and `src/main.rs`, `[domain]`
    /// for `src/domain/mod.rs`, `[domain, users]` for `src/domain/users.rs`.
    module: Vec<String>,
    text: String,
}

fn source_files() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    collect_rs(&root.join("src"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(root)
                .expect("under the crate root")
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&p)
                .unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            SourceFile {
                module: module_of(&rel),
                rel,
                text,
            }
        })
        .collect()
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file given relative to the crate root (`src/a/b.rs`).
fn module_of(rel: &str) -> Vec<String> {
    let inner = rel.strip_prefix("src/").unwrap_or(rel);
    let inner = inner.strip_suffix(".rs").unwrap_or(inner);
    let mut parts: Vec<String> = inner.split('/').map(str::to_string).collect();
    match parts.last().map(String::as_str) {
        Some("mod") => {
            parts.pop();
        }
        Some("lib" | "main") if parts.len() == 1 => parts.clear(),
        _ => {}
    }
    parts
}

// ---------------------------------------------------------------------------
// Lexer: identifiers and punctuation, without comments and literals

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string, char or number literal, or a lifetime: never part of a path.
    Other,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

fn lex(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            // `//`, `///` and `//!` comments, to the end of the line.
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some(len) = raw_string_start(&c, i) {
            // r"…", r#"…"#, br"…", cr#"…"#: no escapes, ends at `"` plus as many `#`.
            let hashes = len - 1 - usize::from(c[i] != 'r') - 1;
            let start_line = line;
            i += len;
            loop {
                if i >= c.len() {
                    break;
                }
                if c[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                    i += 1 + hashes;
                    break;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            out.push(Token {
                tok: Tok::Other,
                line: start_line,
            });
        } else if ch == '"' || ((ch == 'b' || ch == 'c') && at(i + 1) == '"') {
            let start_line = line;
            i += if ch == '"' { 1 } else { 2 };
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(Token {
                tok: Tok::Other,
                line: start_line,
            });
        } else if ch == '\'' || (ch == 'b' && at(i + 1) == '\'') {
            // A char literal ('x', '\n', '\u{1F600}', b'x') or a lifetime ('a).
            let q = if ch == 'b' { i + 1 } else { i };
            if at(q + 1) == '\\' {
                i = q + 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(q + 2) == '\'' {
                i = q + 3;
            } else {
                i = q + 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
            }
            out.push(Token {
                tok: Tok::Other,
                line,
            });
        } else if ch == 'r' && at(i + 1) == '#' && is_ident_start(at(i + 2)) {
            // A raw identifier: r#type.
            let start = i + 2;
            i = start;
            while i < c.len() && is_ident_continue(c[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(c[start..i].iter().collect()),
                line,
            });
        } else if is_ident_start(ch) {
            let start = i;
            while i < c.len() && is_ident_continue(c[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(c[start..i].iter().collect()),
                line,
            });
        } else if ch.is_ascii_digit() {
            while i < c.len() && is_ident_continue(c[i]) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Other,
                line,
            });
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Token {
                tok: Tok::PathSep,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    out
}

/// The length of a raw string's opening (`r#"` is 3) when one starts at `i`.
fn raw_string_start(c: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(c.get(j), Some('b' | 'c')) {
        j += 1;
    }
    if c.get(j) != Some(&'r') {
        return None;
    }
    // Not the tail of an identifier such as `bar"`…: the caller only asks at
    // token starts, so `i` begins a new token.
    j += 1;
    while c.get(j) == Some(&'#') {
        j += 1;
    }
    (c.get(j) == Some(&'"')).then_some(j + 1 - i)
}

fn is_ident_start(ch: char) -> bool {
    ch == '_' || ch.is_alphabetic()
}

fn is_ident_continue(ch: char) -> bool {
    ch == '_' || ch.is_alphanumeric()
}

// ---------------------------------------------------------------------------
// References: `use` trees and paths

/// How a path was written, which decides how its first segment resolves.
#[derive(Clone, Debug, PartialEq)]
enum RefKind {
    /// In a `use` declaration.
    Use,
    /// In code, starting with `crate::`, `super::` or `self::`.
    Inline,
    /// In code, starting with a plain name (`events::EventBus`): a reference
    /// only when that name is a child module or a name brought in by `use`.
    Bare,
}

/// A path as written in a file, before resolution.
#[derive(Clone, Debug, PartialEq)]
struct RawRef {
    line: usize,
    /// The module the path is written in (the file's, plus inline modules).
    scope: Vec<String>,
    segments: Vec<String>,
    /// The name a `use` binds (`c` for `use a::b::c`, `d` for `… as d`).
    binding: Option<String>,
    kind: RefKind,
}

/// One `use` tree expanded: every leaf path with the name it binds
/// (`None` for globs and `as _`).
fn expand_use_tree(
    toks: &[Token],
    i: &mut usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    let mut path = prefix.to_vec();
    if toks.get(*i).map(|t| &t.tok) == Some(&Tok::PathSep) {
        // `use ::extern_crate::…`: outside this crate.
        *i += 1;
        path.push("::".into());
    }
    loop {
        match toks.get(*i).map(|t| t.tok.clone()) {
            Some(Tok::Punct('{')) => {
                *i += 1;
                loop {
                    match toks.get(*i).map(|t| &t.tok) {
                        Some(Tok::Punct('}')) => {
                            *i += 1;
                            break;
                        }
                        Some(Tok::Punct(',')) => *i += 1,
                        None => return,
                        _ => {
                            let before = *i;
                            expand_use_tree(toks, i, &path, out);
                            if *i == before {
                                *i += 1; // unexpected token: do not loop forever
                            }
                        }
                    }
                }
                return;
            }
            Some(Tok::Punct('*')) => {
                *i += 1;
                out.push((path, None));
                return;
            }
            Some(Tok::Punct('$')) => {
                // `$crate` in a macro body
                *i += 1;
            }
            Some(Tok::Ident(name)) => {
                *i += 1;
                if toks.get(*i).map(|t| &t.tok) == Some(&Tok::PathSep) {
                    path.push(name);
                    *i += 1;
                    continue;
                }
                // The leaf: `self` in a group names the prefix itself.
                let binding_default = if name == "self" {
                    path.last().cloned()
                } else {
                    path.push(name.clone());
                    Some(name)
                };
                let binding = if toks.get(*i).map(|t| &t.tok) == Some(&Tok::Ident("as".into())) {
                    *i += 1;
                    match toks.get(*i).map(|t| t.tok.clone()) {
                        Some(Tok::Ident(alias)) => {
                            *i += 1;
                            Some(alias)
                        }
                        _ => {
                            *i += 1; // `as _`
                            None
                        }
                    }
                } else {
                    binding_default
                };
                out.push((path, binding));
                return;
            }
            _ => return,
        }
    }
}

/// Every path a file's text refers to, skipping comments, literals, `mod x;`
/// declarations and `#[cfg(test)] mod … { … }` blocks.
fn file_refs(text: &str, module: &[String]) -> Vec<RawRef> {
    let toks = lex(text);
    let ident = |i: usize| match toks.get(i).map(|t| &t.tok) {
        Some(Tok::Ident(s)) => Some(s.as_str()),
        _ => None,
    };
    let is = |i: usize, want: &Tok| toks.get(i).map(|t| &t.tok) == Some(want);
    let punct = |i: usize, ch: char| is(i, &Tok::Punct(ch));

    let mut refs = Vec::new();
    // Inline (non-test) modules: (name, brace depth inside it).
    let mut inline_mods: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut after_cfg_test = false;
    let mut i = 0;
    while i < toks.len() {
        let scope = || {
            let mut s = module.to_vec();
            s.extend(inline_mods.iter().map(|(n, _)| n.clone()));
            s
        };
        // Attributes: remember `#[cfg(test)]`, skip the others after it.
        if punct(i, '#') && punct(i + 1, '[') {
            if ident(i + 2) == Some("cfg")
                && punct(i + 3, '(')
                && ident(i + 4) == Some("test")
                && punct(i + 5, ')')
                && punct(i + 6, ']')
            {
                after_cfg_test = true;
                i += 7;
                continue;
            }
            if after_cfg_test {
                i = skip_group(&toks, i + 1, '[', ']');
                continue;
            }
        }
        let mut item = i;
        if ident(item) == Some("pub") {
            item += 1;
            if punct(item, '(') {
                item = skip_group(&toks, item, '(', ')');
            }
        }
        if ident(item) == Some("mod")
            && let Some(name) = ident(item + 1)
        {
            if punct(item + 2, ';') {
                // `mod x;` declares a child; it imports nothing.
                after_cfg_test = false;
                i = item + 3;
                continue;
            }
            if punct(item + 2, '{') {
                if after_cfg_test {
                    after_cfg_test = false;
                    i = skip_group(&toks, item + 2, '{', '}');
                    continue;
                }
                depth += 1;
                inline_mods.push((name.to_string(), depth));
                i = item + 3;
                continue;
            }
        }
        after_cfg_test = false;

        match &toks[i].tok {
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                if inline_mods.last().is_some_and(|(_, d)| *d == depth) {
                    inline_mods.pop();
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            // `use` items; `impl Trait + use<'a>` is not one.
            Tok::Ident(kw)
                if kw == "use" && !punct(i + 1, '<') && (i == 0 || !is(i - 1, &Tok::PathSep)) =>
            {
                let line = toks[i].line;
                i += 1;
                let mut leaves = Vec::new();
                expand_use_tree(&toks, &mut i, &[], &mut leaves);
                for (segments, binding) in leaves {
                    refs.push(RawRef {
                        line,
                        scope: scope(),
                        segments,
                        binding,
                        kind: RefKind::Use,
                    });
                }
            }
            Tok::Ident(first) => {
                let prev = i.checked_sub(1).map(|p| &toks[p].tok);
                let continues_path = matches!(prev, Some(Tok::PathSep | Tok::Punct('.')));
                // `pub(in crate::a)` is a visibility, not a reference.
                let visibility = matches!(prev, Some(Tok::Ident(p)) if p == "in");
                if continues_path || visibility || !is(i + 1, &Tok::PathSep) {
                    i += 1;
                    continue;
                }
                let dollar_crate = matches!(prev, Some(Tok::Punct('$')));
                let kind = match first.as_str() {
                    "crate" | "super" | "self" => RefKind::Inline,
                    _ if dollar_crate => {
                        i += 1;
                        continue;
                    }
                    _ => RefKind::Bare,
                };
                let line = toks[i].line;
                let mut segments = vec![first.clone()];
                let mut j = i + 1;
                while is(j, &Tok::PathSep) {
                    match ident(j + 1) {
                        Some(s) => {
                            segments.push(s.to_string());
                            j += 2;
                        }
                        None => break, // `::<T>`, `::{`, `::*`
                    }
                }
                refs.push(RawRef {
                    line,
                    scope: scope(),
                    segments,
                    binding: None,
                    kind,
                });
                i = j;
            }
            _ => i += 1,
        }
    }
    refs
}

/// The index just past the group opened at `open` (`(…)`, `[…]`, `{…}`).
fn skip_group(toks: &[Token], open: usize, l: char, r: char) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < toks.len() {
        match toks[i].tok {
            Tok::Punct(ch) if ch == l => depth += 1,
            Tok::Punct(ch) if ch == r => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    toks.len()
}

/// The absolute path (from the crate root) a path means in `scope`, or `None`
/// for paths outside this crate.
///
/// `crate::…` is absolute; `self::…` starts at `scope` and each `super`
/// steps to its parent (for `src/a/mod.rs`, `self` is `a` and `super` the
/// root). A plain first name is relative when it is a child module of
/// `scope` (`pub use child::Thing`) or, given `aliases` (the names this file
/// brings in by `use`), stands for what that `use` named.
fn absolute(
    segments: &[String],
    scope: &[String],
    is_module: &dyn Fn(&[String]) -> bool,
    aliases: &HashMap<String, Vec<String>>,
    crate_alias: Option<&str>,
) -> Option<Vec<String>> {
    let first = segments.first()?;
    let (mut base, rest) = match first.as_str() {
        "crate" => (Vec::new(), &segments[1..]),
        name if Some(name) == crate_alias => (Vec::new(), &segments[1..]),
        "self" | "super" => {
            let mut base = scope.to_vec();
            let mut rest = &segments[1..];
            if first == "super" {
                base.pop()?;
            }
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            (base, rest)
        }
        name => {
            let mut child = scope.to_vec();
            child.push(name.to_string());
            if is_module(&child) {
                (scope.to_vec(), segments)
            } else {
                (aliases.get(name)?.clone(), &segments[1..])
            }
        }
    };
    base.extend(rest.iter().cloned());
    Some(base)
}

/// A resolved reference from one file to another.
#[derive(Clone, Debug)]
struct Edge {
    from: usize,
    to: usize,
    line: usize,
    /// The path as written (`crate::domain::users::User`).
    written: String,
    /// The absolute path it means (`domain::users::User`).
    absolute: Vec<String>,
}

/// The import graph of `files`: every reference resolved to the file of the
/// longest prefix of its path that is a module with a file.
fn graph(files: &[SourceFile]) -> Vec<Edge> {
    let mut by_module: HashMap<Vec<String>, usize> = HashMap::new();
    for (idx, f) in files.iter().enumerate() {
        // `src/lib.rs` and `src/main.rs` are both roots; paths to the root mean lib.rs.
        if f.rel == "src/main.rs" && by_module.contains_key(&f.module) {
            continue;
        }
        by_module.insert(f.module.clone(), idx);
    }
    let is_module = |p: &[String]| by_module.contains_key(p);
    let mut edges = Vec::new();
    for (from, f) in files.iter().enumerate() {
        // The binary reaches the library by its crate name, and declares no
        // modules of its own (the library's are not its children).
        let is_main = f.rel == "src/main.rs";
        let crate_alias = is_main.then_some("authgraph");
        let no_module = |_: &[String]| false;
        let is_module: &dyn Fn(&[String]) -> bool = if is_main { &no_module } else { &is_module };
        let raw = file_refs(&f.text, &f.module);
        // Names brought in by `use`, to read `users::create` after `use crate::domain::users`.
        let mut aliases = HashMap::new();
        for r in raw.iter().filter(|r| r.kind == RefKind::Use) {
            if let (Some(b), Some(abs)) = (
                &r.binding,
                absolute(
                    &r.segments,
                    &r.scope,
                    is_module,
                    &HashMap::new(),
                    crate_alias,
                ),
            ) {
                aliases.insert(b.clone(), abs);
            }
        }
        for r in &raw {
            let Some(abs) = absolute(&r.segments, &r.scope, is_module, &aliases, crate_alias)
            else {
                continue;
            };
            let to = (0..=abs.len())
                .rev()
                .find_map(|k| by_module.get(&abs[..k]).copied())
                .expect("the crate root has a file");
            edges.push(Edge {
                from,
                to,
                line: r.line,
                written: r.segments.join("::"),
                absolute: abs,
            });
        }
    }
    edges
}

// ---------------------------------------------------------------------------
// Cycles

/// The strongly connected components of a graph of `n` nodes (Tarjan).
fn sccs(n: usize, adj: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'a> {
        adj: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.adj[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = s.stack.pop().expect("v is on the stack");
                s.on_stack[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            comp.sort();
            s.out.push(comp);
        }
    }
    let mut s = State {
        adj,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.out
}

/// A shortest cycle through `start` inside `comp` (start … start).
fn cycle_through(start: usize, comp: &[usize], adj: &[BTreeSet<usize>]) -> Vec<usize> {
    let inside: BTreeSet<usize> = comp.iter().copied().collect();
    let mut prev: HashMap<usize, usize> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            if !inside.contains(&w) {
                continue;
            }
            if w == start {
                let mut path = vec![start, v];
                let mut at = v;
                while at != start {
                    at = prev[&at];
                    path.push(at);
                }
                path.reverse();
                return path;
            }
            if w != start && !prev.contains_key(&w) {
                prev.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    vec![start]
}

/// A report of every import cycle, empty when there is none.
fn cycle_report(files: &[SourceFile], edges: &[Edge]) -> String {
    let n = files.len();
    let mut adj = vec![BTreeSet::new(); n];
    // The first place each file refers to another, to show in the report.
    let mut first_ref: BTreeMap<(usize, usize), &Edge> = BTreeMap::new();
    for e in edges.iter().filter(|e| e.from != e.to) {
        adj[e.from].insert(e.to);
        first_ref.entry((e.from, e.to)).or_insert(e);
    }
    let mut comps: Vec<Vec<usize>> = sccs(n, &adj).into_iter().filter(|c| c.len() > 1).collect();
    comps.sort();
    let mut out = String::new();
    for (k, comp) in comps.iter().enumerate() {
        let names: Vec<&str> = comp.iter().map(|&f| files[f].rel.as_str()).collect();
        let _ = writeln!(
            out,
            "cycle {} ({} files): {}",
            k + 1,
            comp.len(),
            names.join(", ")
        );
        let path = cycle_through(comp[0], comp, &adj);
        let _ = writeln!(out, "  for example:");
        for w in path.windows(2) {
            let e = first_ref[&(w[0], w[1])];
            let _ = writeln!(
                out,
                "    {}:{} `{}` -> {}",
                files[w[0]].rel, e.line, e.written, files[w[1]].rel
            );
        }
        let _ = writeln!(out, "  all references inside it (first place of each):");
        for (&(a, b), e) in first_ref.range((comp[0], 0)..) {
            if comp.contains(&a) && comp.contains(&b) {
                let _ = writeln!(
                    out,
                    "    {}:{} `{}` -> {}",
                    files[a].rel, e.line, e.written, files[b].rel
                );
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The checks

#[test]
fn no_source_file_is_longer_than_the_limit() {
    let mut long: Vec<(usize, String)> = source_files()
        .into_iter()
        .map(|f| (f.text.lines().count(), f.rel))
        .filter(|(lines, _)| *lines > MAX_LINES)
        .collect();
    long.sort_by(|a, b| b.cmp(a));
    let list: Vec<String> = long
        .iter()
        .map(|(n, f)| format!("  {f}: {n} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "{} files under src/ are longer than {MAX_LINES} lines:\n{}",
        long.len(),
        list.join("\n")
    );
}

#[test]
fn front_doors_do_not_refer_to_app() {
    let files = source_files();
    let offenders: Vec<String> = graph(&files)
        .iter()
        .filter(|e| FRONT_DOORS.iter().any(|d| files[e.from].rel.starts_with(d)))
        .filter(|e| e.absolute.first().is_some_and(|s| s == "app"))
        .map(|e| format!("  {}:{} `{}`", files[e.from].rel, e.line, e.written))
        .collect();
    assert!(
        offenders.is_empty(),
        "{} references to crate::app from {}:\n{}",
        offenders.len(),
        FRONT_DOORS.join(" or "),
        offenders.join("\n")
    );
}

#[test]
fn no_import_cycles() {
    let files = source_files();
    let report = cycle_report(&files, &graph(&files));
    assert!(
        report.is_empty(),
        "import cycles between files of src/:\n{report}"
    );
}

// ---------------------------------------------------------------------------
// The resolver's own checks

fn paths(text: &str, module: &[&str]) -> Vec<(String, Option<String>)> {
    let module: Vec<String> = module.iter().map(|s| s.to_string()).collect();
    file_refs(text, &module)
        .into_iter()
        .map(|r| (r.segments.join("::"), r.binding))
        .collect()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn grouped_use_expands_to_every_leaf() {
    let got = paths(
        "pub use crate::a::{b, c::{d, e as f, self}, g::*};\nuse super::{self as up};",
        &["m"],
    );
    assert_eq!(
        got,
        vec![
            ("crate::a::b".into(), some("b")),
            ("crate::a::c::d".into(), some("d")),
            ("crate::a::c::e".into(), some("f")),
            ("crate::a::c".into(), some("c")),
            ("crate::a::g".into(), None),
            ("super".into(), some("up")),
        ]
    );
}

#[test]
fn comments_strings_mod_declarations_and_test_modules_are_skipped() {
    let text = r##"
//! crate::doc::comment
mod child;
pub(crate) mod other;
/* crate::block /* nested */ crate::still */
fn f() -> &'static str {
    let _c = '"';
    let _s = "crate::in_string \" crate::escaped";
    let _r = r#"crate::raw "quoted""#;
    crate::real::path(self.x, super::up::Thing::<u8>::new())
}
#[cfg(test)]
#[allow(unused)]
mod tests {
    use crate::only_in_tests;
    fn g() { crate::nor_this(); }
}
fn h() { self::after::tests(); }
"##;
    let got: Vec<String> = paths(text, &["a"]).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        got,
        vec![
            "crate::real::path",
            "super::up::Thing",
            "self::after::tests"
        ]
    );
}

#[test]
fn paths_resolve_relative_to_the_files_module() {
    let modules: BTreeSet<Vec<String>> = [
        vec![],
        vec!["domain"],
        vec!["domain", "users"],
        vec!["domain", "email_codes"],
    ]
    .into_iter()
    .map(|m| m.into_iter().map(String::from).collect())
    .collect();
    let is_module = |p: &[String]| modules.contains(p);
    let seg = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
    let abs = |path: &str, scope: &str| {
        let scope: Vec<String> = if scope.is_empty() { vec![] } else { seg(scope) };
        absolute(&seg(path), &scope, &is_module, &HashMap::new(), None).map(|p| p.join("::"))
    };
    // In src/domain/mod.rs (module `domain`): `self` is domain, `super` the root.
    assert_eq!(
        abs("self::users::User", "domain"),
        some("domain::users::User")
    );
    assert_eq!(
        abs("super::config::Config", "domain"),
        some("config::Config")
    );
    assert_eq!(abs("users::User", "domain"), some("domain::users::User"));
    // In src/domain/users.rs (module `domain::users`).
    assert_eq!(
        abs("super::Services", "domain::users"),
        some("domain::Services")
    );
    assert_eq!(abs("super::super::app", "domain::users"), some("app"));
    assert_eq!(
        abs("crate::domain::email_codes::X", "domain::users"),
        some("domain::email_codes::X")
    );
    // Other crates are not references.
    assert_eq!(abs("sea_orm::DbErr", "domain::users"), None);
    assert_eq!(module_of("src/domain/mod.rs"), vec!["domain"]);
    assert_eq!(module_of("src/domain/users.rs"), vec!["domain", "users"]);
    assert!(module_of("src/lib.rs").is_empty() && module_of("src/main.rs").is_empty());
}

#[test]
fn tarjan_finds_only_real_cycles() {
    // 0 -> 1 -> 2 -> 0, 2 -> 3, 3 -> 3 (a self-loop is not a cycle here)
    let mut adj = vec![BTreeSet::new(); 4];
    adj[0].insert(1);
    adj[1].insert(2);
    adj[2].insert(0);
    adj[2].insert(3);
    let mut comps: Vec<Vec<usize>> = sccs(4, &adj).into_iter().filter(|c| c.len() > 1).collect();
    comps.sort();
    assert_eq!(comps, vec![vec![0, 1, 2]]);
    assert_eq!(cycle_through(0, &[0, 1, 2], &adj), vec![0, 1, 2, 0]);
}
