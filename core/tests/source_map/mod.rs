//! A reading of a crate's Rust source for the structure checks
//! (`core/tests/module_map.rs`, `provider/tests/architecture.rs`), so they
//! judge what the code says rather than grep its text:
//!
//! - a lexer that drops comments and the insides of string and character
//!   literals, and keeps identifiers, `::` and punctuation with their lines;
//! - items under `#[cfg(test)]` (and `tests.rs` files, `tests/` folders)
//!   left out;
//! - `use` trees parsed whole (nested braces, `self`, `super::`, `crate::`,
//!   `pub use`, `as`, globs, any number of lines) and paths written in code
//!   (`crate::x::f()`, `super::y::Z`), each resolved to an absolute path in
//!   the crate, which gives for each module the crate modules it depends on
//!   and the other crates it names;
//! - the functions of a file with their length in lines, from the line of
//!   `fn` to the line of the closing brace.
//!
//! No `syn`: a hand-written reader keeps the checks free of dependencies
//! and sees paths inside macro invocations (`tracing::info!(.. crate::x ..)`)
//! too.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One token of Rust source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    /// The identifier or punctuation (`::` is one token); empty for
    /// literals.
    pub text: String,
    /// 1-based line.
    pub line: usize,
}

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Punct,
    /// A string, character or number literal (its text dropped).
    Literal,
    Lifetime,
}

impl Token {
    fn is(&self, text: &str) -> bool {
        self.kind != Kind::Literal && self.text == text
    }
}

/// Splits `src` into tokens, dropping comments (line, nested block, doc)
/// and the contents of literals.
pub fn lex(src: &str) -> Vec<Token> {
    let b: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| b.get(i).copied().unwrap_or('\0');
    while i < b.len() {
        let c = b[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == '/' {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < b.len() {
                if b[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if b[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if b[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&b, i) {
            let start_line = line;
            line += b[i..end].iter().filter(|&&c| c == '\n').count();
            out.push(literal(start_line));
            i = end;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') || (c == 'c' && at(i + 1) == '"') {
            let start_line = line;
            i += if c == '"' { 1 } else { 2 };
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                if at(i) == '\n' {
                    line += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(literal(start_line));
        } else if c == '\'' || (c == 'b' && at(i + 1) == '\'') {
            let q = if c == '\'' { i } else { i + 1 };
            // A character literal ('a', '\n', '\u{..}', b'x'), else a
            // lifetime or label ('a, 'static).
            if at(q + 1) == '\\' {
                let mut j = q + 2;
                while j < b.len() && b[j] != '\'' {
                    j += 1;
                }
                out.push(literal(line));
                i = j + 1;
            } else if at(q + 2) == '\'' {
                out.push(literal(line));
                i = q + 3;
            } else {
                let mut j = q + 1;
                while j < b.len() && (b[j].is_alphanumeric() || b[j] == '_') {
                    j += 1;
                }
                out.push(Token {
                    kind: Kind::Lifetime,
                    text: b[q..j].iter().collect(),
                    line,
                });
                i = j;
            }
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < b.len()
                && (b[j].is_alphanumeric()
                    || b[j] == '_'
                    || (b[j] == '.' && at(j + 1).is_ascii_digit()))
            {
                j += 1;
            }
            out.push(literal(line));
            i = j;
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < b.len() && (b[j].is_alphanumeric() || b[j] == '_') {
                j += 1;
            }
            let mut text: String = b[i..j].iter().collect();
            if text == "r" && at(j) == '#' {
                // r#ident
                let mut k = j + 1;
                while k < b.len() && (b[k].is_alphanumeric() || b[k] == '_') {
                    k += 1;
                }
                text = b[j + 1..k].iter().collect();
                j = k;
            }
            out.push(Token {
                kind: Kind::Ident,
                text,
                line,
            });
            i = j;
        } else if c == ':' && at(i + 1) == ':' {
            out.push(Token {
                kind: Kind::Punct,
                text: "::".into(),
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                kind: Kind::Punct,
                text: c.to_string(),
                line,
            });
            i += 1;
        }
    }
    out
}

fn literal(line: usize) -> Token {
    Token {
        kind: Kind::Literal,
        text: String::new(),
        line,
    }
}

/// The end (exclusive) of a raw string literal starting at `i`
/// (`r"..."`, `r#"..."#`, `br##"..."##`, ...), if one starts there.
fn raw_string_end(b: &[char], i: usize) -> Option<usize> {
    let mut j = i;
    if matches!(b.get(j), Some('b') | Some('c')) {
        j += 1;
    }
    if b.get(j) != Some(&'r') {
        return None;
    }
    if i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while b.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if b.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == '"' && (1..=hashes).all(|k| b.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(b.len())
}

/// The index just past the item that starts at `i` (after its
/// attributes): its `;`, or the closing brace of its first block, at
/// bracket depth 0.
fn item_end(t: &[Token], mut i: usize) -> usize {
    let mut depth = 0i32;
    while i < t.len() {
        let x = &t[i];
        if x.kind == Kind::Punct {
            match x.text.as_str() {
                "(" | "[" => depth += 1,
                ")" | "]" => depth -= 1,
                ";" if depth == 0 => return i + 1,
                "{" if depth == 0 => return matching(t, i) + 1,
                _ => {}
            }
        }
        i += 1;
    }
    t.len()
}

/// The index of the brace that closes the one at `open`.
fn matching(t: &[Token], open: usize) -> usize {
    let mut depth = 0;
    for (k, x) in t.iter().enumerate().skip(open) {
        if x.kind == Kind::Punct {
            if x.text == "{" {
                depth += 1;
            } else if x.text == "}" {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
        }
    }
    t.len().saturating_sub(1)
}

/// If an outer attribute starts at `i`: the index past it, and whether it
/// is `#[cfg(test)]`.
fn attribute(t: &[Token], i: usize) -> Option<(usize, bool)> {
    if !(t.get(i)?.is("#") && t.get(i + 1)?.is("[")) {
        return None;
    }
    let mut depth = 0;
    for (k, x) in t.iter().enumerate().skip(i + 1) {
        if x.is("[") {
            depth += 1;
        } else if x.is("]") {
            depth -= 1;
            if depth == 0 {
                let inner: Vec<&str> = t[i + 2..k].iter().map(|x| x.text.as_str()).collect();
                return Some((k + 1, inner == ["cfg", "(", "test", ")"]));
            }
        }
    }
    Some((t.len(), false))
}

/// `tokens` without the items under `#[cfg(test)]`; also the names of
/// test-only modules declared without a body (`#[cfg(test)] mod tests;`).
pub fn without_tests(tokens: &[Token]) -> (Vec<Token>, BTreeSet<String>) {
    let mut out = Vec::new();
    let mut test_mods = BTreeSet::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some((after, is_test)) = attribute(tokens, i) {
            if is_test {
                // Skip further attributes, then the item.
                let mut j = after;
                while let Some((next, _)) = attribute(tokens, j) {
                    j = next;
                }
                let end = item_end(tokens, j);
                let item = &tokens[j..end];
                if let Some(m) = item.iter().position(|x| x.is("mod")) {
                    if let Some(name) = item.get(m + 1) {
                        test_mods.insert(name.text.clone());
                    }
                }
                i = end;
                continue;
            }
            out.extend_from_slice(&tokens[i..after]);
            i = after;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    (out, test_mods)
}

/// One path a module names, resolved to an absolute path in the crate
/// (`["verify", "checks", "observe"]`), or naming another crate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PathUse {
    /// Absolute path segments, without `crate`; for another crate, its
    /// name first.
    pub path: Vec<String>,
    /// Whether the path names another crate (`tokio::spawn`, `use serde`).
    pub external: bool,
    pub line: usize,
}

/// The paths `tokens` (one module's code, inline modules included) name:
/// every leaf of every `use` tree, and every path in code that starts with
/// `crate::`, `super::` or `self::`. `module` is the module's path in the
/// crate; `children` the modules declared in it (a `use` may name them
/// without `self::`).
pub fn paths(tokens: &[Token], module: &[String], children: &BTreeSet<String>) -> Vec<PathUse> {
    let mut out = Vec::new();
    // The module scope: (path, brace depth at which it closes).
    let mut scopes: Vec<(Vec<String>, i32)> = vec![(module.to_vec(), -1)];
    let mut depth = 0i32;
    let mut i = 0;
    while i < tokens.len() {
        let here = scopes.last().map(|s| s.0.clone()).unwrap_or_default();
        let x = &tokens[i];
        if x.is("{") {
            depth += 1;
        } else if x.is("}") {
            depth -= 1;
            while scopes.len() > 1 && scopes.last().is_some_and(|s| s.1 == depth) {
                scopes.pop();
            }
        } else if x.is("mod")
            && tokens.get(i + 1).is_some_and(|n| n.kind == Kind::Ident)
            && tokens.get(i + 2).is_some_and(|b| b.is("{"))
        {
            let mut inner = here.clone();
            inner.push(tokens[i + 1].text.clone());
            scopes.push((inner, depth));
            depth += 1;
            i += 3;
            continue;
        } else if x.is("use") && x.kind == Kind::Ident {
            let end = tokens[i..]
                .iter()
                .position(|t| t.is(";"))
                .map_or(tokens.len(), |p| i + p);
            let kids = if here == module {
                children.clone()
            } else {
                BTreeSet::new()
            };
            for (leaf, line) in use_leaves(&tokens[i + 1..end]) {
                if let Some(p) = resolve(&leaf, &here, &kids, line) {
                    out.push(p);
                }
            }
            i = end + 1;
            continue;
        } else if (x.is("crate") || x.is("super") || x.is("self"))
            && x.kind == Kind::Ident
            && tokens.get(i + 1).is_some_and(|c| c.is("::"))
            && !(i > 0 && tokens[i - 1].is("::"))
        {
            let mut segs = vec![x.text.clone()];
            let mut j = i + 1;
            while tokens.get(j).is_some_and(|c| c.is("::"))
                && tokens.get(j + 1).is_some_and(|n| n.kind == Kind::Ident)
            {
                segs.push(tokens[j + 1].text.clone());
                j += 2;
            }
            if let Some(p) = resolve(&segs, &here, &BTreeSet::new(), x.line) {
                out.push(p);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// The leaves of a `use` tree (what follows `use`, up to the `;`), each
/// as its path segments (`self` inside braces folded into its prefix,
/// `as` renames dropped, a glob leaving its prefix).
pub fn use_leaves(t: &[Token]) -> Vec<(Vec<String>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    tree(t, &mut i, Vec::new(), &mut out);
    out
}

fn tree(t: &[Token], i: &mut usize, prefix: Vec<String>, out: &mut Vec<(Vec<String>, usize)>) {
    let mut path = prefix;
    let line = t.get(*i).map_or(0, |x| x.line);
    if t.get(*i).is_some_and(|x| x.is("::")) {
        *i += 1;
    }
    loop {
        match t.get(*i) {
            Some(x) if x.is("{") => {
                *i += 1;
                loop {
                    if t.get(*i).is_none_or(|x| x.is("}")) {
                        *i += 1;
                        return;
                    }
                    tree(t, i, path.clone(), out);
                    if t.get(*i).is_some_and(|x| x.is(",")) {
                        *i += 1;
                    }
                }
            }
            Some(x) if x.is("*") => {
                *i += 1;
                out.push((path, line));
                return;
            }
            Some(x) if x.kind == Kind::Ident => {
                if x.text == "self" && !path.is_empty() {
                    // `a::{self, b}`: `a` itself.
                } else {
                    path.push(x.text.clone());
                }
                *i += 1;
                if t.get(*i).is_some_and(|x| x.is("::")) {
                    *i += 1;
                    continue;
                }
                if t.get(*i).is_some_and(|x| x.is("as")) {
                    *i += 2;
                }
                out.push((path, line));
                return;
            }
            _ => {
                // Malformed: take what there is.
                if !path.is_empty() {
                    out.push((path, line));
                }
                return;
            }
        }
    }
}

/// `segs` (as written, maybe starting with `crate`, `self` or `super`)
/// resolved from module `here`, whose declared child modules are `kids`.
fn resolve(
    segs: &[String],
    here: &[String],
    kids: &BTreeSet<String>,
    line: usize,
) -> Option<PathUse> {
    let first = segs.first()?;
    let (path, external) = match first.as_str() {
        "crate" => (segs[1..].to_vec(), false),
        "self" => {
            let mut p = here.to_vec();
            p.extend_from_slice(&segs[1..]);
            (p, false)
        }
        "super" => {
            let ups = segs.iter().take_while(|s| *s == "super").count();
            let mut p = here.to_vec();
            for _ in 0..ups {
                p.pop()?;
            }
            p.extend_from_slice(&segs[ups..]);
            (p, false)
        }
        name if kids.contains(name) => {
            let mut p = here.to_vec();
            p.extend_from_slice(segs);
            (p, false)
        }
        _ => (segs.to_vec(), true),
    };
    Some(PathUse {
        path,
        external,
        line,
    })
}

/// One module of a crate, as its files say.
#[derive(Debug, Clone)]
pub struct Module {
    /// The file that holds it.
    pub file: PathBuf,
    /// Its tokens outside `#[cfg(test)]` items (inline modules included).
    pub tokens: Vec<Token>,
    /// The paths it names (see [`paths`]).
    pub uses: Vec<PathUse>,
}

impl Module {
    /// The crate modules it depends on (their top-level names), each with
    /// the first line that names it.
    pub fn top_level_deps(&self, map: &CrateMap) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for u in self.uses.iter().filter(|u| !u.external) {
            if let Some(top) = u.path.first().filter(|t| map.top_level().contains(*t)) {
                out.entry(top.clone()).or_insert(u.line);
            }
        }
        out
    }

    /// Other crates it names, each with the first line that names it.
    pub fn external_crates(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for u in self.uses.iter().filter(|u| u.external) {
            out.entry(u.path[0].clone()).or_insert(u.line);
        }
        out
    }

    /// Lines where the token sequence `seq` (identifiers and punctuation,
    /// `::` one token) occurs.
    pub fn lines_with(&self, seq: &[&str]) -> Vec<usize> {
        self.tokens
            .windows(seq.len())
            .filter(|w| w.iter().zip(seq).all(|(t, s)| t.is(s)))
            .map(|w| w[0].line)
            .collect()
    }

    /// Lines with an identifier that contains `word`.
    pub fn idents_containing(&self, word: &str) -> Vec<(usize, String)> {
        self.tokens
            .iter()
            .filter(|t| t.kind == Kind::Ident && t.text.contains(word))
            .map(|t| (t.line, t.text.clone()))
            .collect()
    }
}

/// The modules of one crate, by path (`[]` is the crate root).
#[derive(Debug, Clone)]
pub struct CrateMap {
    pub src: PathBuf,
    pub modules: BTreeMap<Vec<String>, Module>,
}

impl CrateMap {
    /// Reads the library crate rooted at `src/lib.rs` (or `src/main.rs`),
    /// following the files of `src` (`a.rs`, `a/mod.rs`, `a/b.rs`); test
    /// files (`tests.rs`, under `tests/`) and test-only modules are left
    /// out.
    pub fn read(src: &Path) -> CrateMap {
        let mut files = Vec::new();
        let mut todo = vec![src.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
                let p = e.expect("a directory entry").path();
                if p.is_dir() {
                    if p.file_name().is_some_and(|n| n != "tests" && n != "bin") {
                        todo.push(p);
                    }
                } else if p.extension().is_some_and(|x| x == "rs")
                    && p.file_name().is_some_and(|n| n != "tests.rs")
                {
                    files.push(p);
                }
            }
        }
        files.sort();
        let mut raw = BTreeMap::new();
        let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
        for f in &files {
            let rel = f.strip_prefix(src).expect("under src");
            let mut path: Vec<String> = rel
                .iter()
                .map(|c| c.to_string_lossy().trim_end_matches(".rs").to_string())
                .collect();
            let root = path.len() == 1 && (path[0] == "lib" || path[0] == "main");
            if root || path.last().is_some_and(|l| l == "mod") {
                path.pop();
            }
            if path.is_empty()
                && f.file_name().is_some_and(|n| n == "main.rs")
                && src.join("lib.rs").exists()
            {
                // A binary beside the library is a crate of its own.
                continue;
            }
            let text = std::fs::read_to_string(f).expect("a readable source file");
            let (tokens, tests) = without_tests(&lex(&text));
            for t in tests {
                let mut p = path.clone();
                p.push(t);
                test_only.insert(p);
            }
            raw.insert(path, (f.clone(), tokens));
        }
        raw.retain(|p, _| !test_only.iter().any(|t| p.starts_with(t)));
        let all: BTreeSet<Vec<String>> = raw.keys().cloned().collect();
        let mut modules = BTreeMap::new();
        for (path, (file, tokens)) in raw {
            let children: BTreeSet<String> = all
                .iter()
                .filter(|p| p.len() == path.len() + 1 && p.starts_with(&path))
                .map(|p| p[path.len()].clone())
                .collect();
            let uses = paths(&tokens, &path, &children);
            modules.insert(path, Module { file, tokens, uses });
        }
        CrateMap {
            src: src.to_path_buf(),
            modules,
        }
    }

    /// The crate's top-level modules.
    pub fn top_level(&self) -> BTreeSet<String> {
        self.modules
            .keys()
            .filter(|p| !p.is_empty())
            .map(|p| p[0].clone())
            .collect()
    }

    /// The modules at or under `top` (a top-level module name).
    pub fn under<'a>(
        &'a self,
        top: &'a str,
    ) -> impl Iterator<Item = (&'a Vec<String>, &'a Module)> {
        self.modules
            .iter()
            .filter(move |(p, _)| p.first().is_some_and(|f| f == top))
    }

    /// Where modules under `from` name modules under any of `to`, as
    /// `file:line: from -> to` lines.
    pub fn dependencies(&self, from: &str, to: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for (_, m) in self.under(from) {
            for (dep, line) in m.top_level_deps(self) {
                if to.contains(&dep.as_str()) {
                    found.push(format!("{}:{line}: {from} -> {dep}", m.file.display()));
                }
            }
        }
        found
    }

    /// Top-level module graph: for each top-level module, the others it
    /// depends on, with a place that says so (`file:line`).
    pub fn top_level_graph(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut g: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for top in self.top_level() {
            let edges = g.entry(top.clone()).or_default();
            for (_, m) in self.under(&top) {
                for (dep, line) in m.top_level_deps(self) {
                    if dep != top {
                        edges
                            .entry(dep)
                            .or_insert_with(|| format!("{}:{line}", m.file.display()));
                    }
                }
            }
        }
        g
    }
}

/// The strongly connected components of more than one node (the cycles)
/// of `graph`, each sorted, in order of their first node (Tarjan).
pub fn cycles(graph: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeMap<String, String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn strong<'a>(t: &mut T<'a>, v: &'a str) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g[v].keys() {
            let w = w.as_str();
            if !g.contains_key(w) {
                continue;
            }
            if !t.index.contains_key(w) {
                strong(t, w);
                let lw = t.low[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if t.on.contains(w) {
                let iw = t.index[w];
                let lv = t.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            strong(&mut t, v);
        }
    }
    t.out.sort();
    t.out
}

/// A function and its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    pub name: String,
    /// The line of `fn`.
    pub line: usize,
    /// Lines from the line of `fn` to the line of the closing brace, both
    /// counted.
    pub lines: usize,
}

/// The functions with a body in `tokens` (nested ones too), outside
/// `#[cfg(test)]` items when `tokens` came through [`without_tests`].
pub fn functions(tokens: &[Token]) -> Vec<Function> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if !(t.kind == Kind::Ident && t.text == "fn") {
            continue;
        }
        let Some(name) = tokens.get(i + 1).filter(|n| n.kind == Kind::Ident) else {
            continue; // `fn(u8) -> u8`, a type; `fn $name` in a macro
        };
        let mut depth = 0i32;
        let mut j = i + 2;
        let open = loop {
            let Some(x) = tokens.get(j) else { break None };
            if x.kind == Kind::Punct {
                match x.text.as_str() {
                    "(" | "[" => depth += 1,
                    ")" | "]" => depth -= 1,
                    ";" if depth == 0 => break None,
                    "{" if depth == 0 => break Some(j),
                    _ => {}
                }
            }
            j += 1;
        };
        if let Some(open) = open {
            let close = matching(tokens, open);
            out.push(Function {
                name: name.text.clone(),
                line: t.line,
                lines: tokens[close].line - t.line + 1,
            });
        }
    }
    out
}

/// Every non-test source file under `src` (not `tests.rs`, nothing under a
/// `tests/` or `benches/` folder) with its functions.
pub fn functions_under(src: &Path) -> Vec<(PathBuf, Function)> {
    let mut out = Vec::new();
    let mut todo = vec![src.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                if p.file_name()
                    .is_some_and(|n| n != "tests" && n != "benches")
                {
                    todo.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs")
                && p.file_name().is_some_and(|n| n != "tests.rs")
            {
                let text = std::fs::read_to_string(&p).expect("a readable source file");
                let (tokens, _) = without_tests(&lex(&text));
                for f in functions(&tokens) {
                    out.push((p.clone(), f));
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.0, a.1.line).cmp(&(&b.0, b.1.line)));
    out
}
