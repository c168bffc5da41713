//! No regular expression the scanner compiles uses a Unicode word boundary (issue 7;
//! performance.md rule 1): on Japanese text `\b` is 170–250× slower than `(?-u:\b)` and wrong
//! besides, since kanji and kana are word characters, so `個人番号123456789012` has no boundary
//! before the digits.
//!
//! Checked, by parsing each pattern with `regex-syntax`:
//! - every regex built in `src/` (`Regex::new`, `RegexBuilder::new`, `RegexSet::new`,
//!   `RegexSetBuilder::new`, `build_many`) from string literals; a call whose pattern is not a
//!   literal must be listed in [`DYNAMIC`] with the reason it is safe;
//! - every `regex = …` of a custom rule in the repository's configurations: TOML files, TOML in
//!   the string literals of `tests/` and `examples/`, and the README's examples;
//! - every string under a regex-named key (`regex`, `regexes`, `*_regex`, `*_regexes`) of the
//!   rule files in `patterns/`.
//!
//! A boundary written `(?-u:\b)` (ASCII) passes; `\b`, `\B`, `\b{start}`, `\<`… in Unicode mode
//! fail.

use regex::bytes::Regex as BytesRegex;
use std::path::{Path, PathBuf};

/// Regex constructions in `src/` whose pattern is not a string literal: (file, argument as
/// written, why it cannot hold a Unicode word boundary).
const DYNAMIC: &[(&str, &str, &str)] = &[
    (
        "src/custom.rs",
        "pattern",
        "custom::compile_regex refuses a Unicode word boundary before building (tests/custom_rules.rs)",
    ),
    (
        "src/custom.rs",
        "&sources",
        "the set of custom-rule regexes, each refused by compile_regex first",
    ),
    (
        "src/detect.rs",
        "pattern",
        "the ratio check's reference: rule shapes written by Sig::regexes (linted below, \
         reference_shapes_use_ascii_boundaries) and alternations of regex::escape'd keywords",
    ),
];

#[test]
fn reference_shapes_use_ascii_boundaries() {
    let patterns = appiscan::detect::Reference::shape_patterns(appiscan::patterns::RuleSet::builtin());
    assert!(patterns.len() >= 10);
    for p in &patterns {
        assert!(p.contains("(?-u:\\b)"), "{p}");
        assert_eq!(lint(p), None, "{p}");
    }
}

/// A pattern and where it came from.
struct Pattern {
    origin: String,
    source: String,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `Some(reason)` when `pattern` is not acceptable.
fn lint(pattern: &str) -> Option<String> {
    let hir = match regex_syntax::ParserBuilder::new().utf8(false).build().parse(pattern) {
        Ok(h) => h,
        Err(e) => return Some(format!("does not parse: {e}")),
    };
    hir.properties()
        .look_set()
        .contains_word_unicode()
        .then(|| "uses a Unicode word boundary; write (?-u:\\b) (or (?-u:\\B))".to_string())
}

// ---------------------------------------------------------------------------------------------
// A small Rust lexer: enough to tell code from comments and string literals.

struct Lexed {
    /// The source with comments and literals blanked (same byte offsets).
    code: Vec<u8>,
    /// String literals: span in the source (prefix and quotes included) and value.
    strings: Vec<(usize, usize, String)>,
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn lex(src: &str) -> Lexed {
    let b = src.as_bytes();
    let n = b.len();
    let mut code = b.to_vec();
    let mut strings = Vec::new();
    let blank = |code: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut code[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < n {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            let end = memchr::memchr(b'\n', &b[i..]).map_or(n, |p| i + p);
            blank(&mut code, i, end);
            i = end;
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < n && depth > 0 {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut code, i, j);
            i = j;
        } else if c == b'r' && (i == 0 || !is_ident(b[i - 1]) || (b[i - 1] == b'b' && (i < 2 || !is_ident(b[i - 2])))) {
            // A raw string r"…", r#"…"#, br"…"?
            let mut j = i + 1;
            while j < n && b[j] == b'#' {
                j += 1;
            }
            if j < n && b[j] == b'"' {
                let hashes = j - i - 1;
                let close: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
                let body = j + 1;
                let end = b[body..]
                    .windows(close.len())
                    .position(|w| w == close.as_slice())
                    .map_or(n, |p| body + p);
                let start = if i > 0 && b[i - 1] == b'b' { i - 1 } else { i };
                let stop = (end + close.len()).min(n);
                strings.push((start, stop, src[body..end].to_string()));
                blank(&mut code, start, stop);
                i = stop;
            } else {
                i += 1;
            }
        } else if c == b'"' {
            let start = if i > 0 && b[i - 1] == b'b' && (i < 2 || !is_ident(b[i - 2])) {
                i - 1
            } else {
                i
            };
            let (value, stop) = normal_string(src, i + 1);
            strings.push((start, stop, value));
            blank(&mut code, start, stop);
            i = stop;
        } else if c == b'\'' {
            // A char literal ('x', '\n', 'あ') or a lifetime ('a).
            if b.get(i + 1) == Some(&b'\\') {
                let end = memchr::memchr(b'\'', &b[(i + 3).min(n)..]).map_or(n, |p| i + 3 + p + 1);
                blank(&mut code, i, end);
                i = end;
            } else {
                let len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                if b.get(i + 1 + len) == Some(&b'\'') {
                    blank(&mut code, i, i + len + 2);
                    i += len + 2;
                } else {
                    i += 1;
                }
            }
        } else {
            i += 1;
        }
    }
    Lexed { code, strings }
}

/// The value of a `"…"` literal whose body starts at `from`, and the offset after its quote.
fn normal_string(src: &str, from: usize) -> (String, usize) {
    let mut out = String::new();
    let mut it = src[from..].char_indices().peekable();
    while let Some((k, c)) = it.next() {
        match c {
            '"' => return (out, from + k + 1),
            '\\' => match it.next().map(|(_, e)| e) {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('0') => out.push('\0'),
                Some('x') => {
                    let hex: String = (0..2).filter_map(|_| it.next().map(|(_, h)| h)).collect();
                    out.push(char::from(u8::from_str_radix(&hex, 16).unwrap_or(b'?')));
                }
                Some('u') => {
                    let mut hex = String::new();
                    for (_, h) in it.by_ref() {
                        match h {
                            '{' => {}
                            '}' => break,
                            _ => hex.push(h),
                        }
                    }
                    out.push(
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or('?'),
                    );
                }
                Some('\n') => {
                    while it.peek().is_some_and(|(_, w)| w.is_whitespace()) {
                        it.next();
                    }
                }
                Some(e) => out.push(e),
                None => break,
            },
            _ => out.push(c),
        }
    }
    (out, src.len())
}

fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| exts.iter().any(|e| x == *e)))
        .collect();
    out.sort();
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

// ---------------------------------------------------------------------------------------------
// Collectors.

/// Regexes built in `src/`: the literal ones, and the calls with other arguments
/// (file, argument as written, line).
fn source_regexes() -> (Vec<Pattern>, Vec<(String, String, usize)>) {
    let call = BytesRegex::new(
        r"(?-u)(?:(?:\b(?:Regex|RegexBuilder|RegexSet|RegexSetBuilder)\s*::\s*new(?:_many)?)|\bbuild_many)\s*\(",
    )
    .expect("call regex");
    let (mut literal, mut dynamic) = (Vec::new(), Vec::new());
    for path in files(&root().join("src"), &["rs"]) {
        let src = std::fs::read_to_string(&path).expect("read source");
        let lx = lex(&src);
        for m in call.find_iter(&lx.code) {
            let open = m.end() - 1;
            let mut depth = 0usize;
            let mut close = lx.code.len();
            for (k, &ch) in lx.code[open..].iter().enumerate() {
                match ch {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = open + k;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let line = src[..open].matches('\n').count() + 1;
            let inside: Vec<&(usize, usize, String)> =
                lx.strings.iter().filter(|(s, _, _)| *s > open && *s < close).collect();
            // Anything but literals (a variable, a `format!`) makes the pattern dynamic.
            let rest = String::from_utf8_lossy(&lx.code[open + 1..close])
                .split(|c: char| c.is_whitespace() || "&,[]()".contains(c))
                .any(|t| !t.is_empty() && t != "vec!");
            if rest || inside.is_empty() {
                let arg = src[open + 1..close].split_whitespace().collect::<Vec<_>>().join(" ");
                dynamic.push((rel(&path), arg, line));
                continue;
            }
            for (_, _, value) in &inside {
                literal.push(Pattern {
                    origin: format!("{}:{line}", rel(&path)),
                    source: value.clone(),
                });
            }
        }
    }
    (literal, dynamic)
}

/// `regex = …` lines of custom rules in `text` (a TOML document or a snippet of one).
fn regex_lines(text: &str, origin: &str, out: &mut Vec<Pattern>) {
    for (k, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let Some(rhs) = t.strip_prefix("regex") else {
            continue;
        };
        let rhs = rhs.trim_start();
        let Some(rhs) = rhs.strip_prefix('=') else {
            continue;
        };
        let Ok(table) = toml::from_str::<toml::Table>(&format!("v = {}", rhs.trim())) else {
            // A template such as `regex = '{regex}'` in a format string.
            continue;
        };
        if let Some(v) = table.get("v").and_then(|v| v.as_str()) {
            if v.starts_with('{') && v.ends_with('}') && v[1..v.len() - 1].bytes().all(is_ident) {
                continue;
            }
            out.push(Pattern {
                origin: format!("{origin}:{}", k + 1),
                source: v.to_string(),
            });
        }
    }
}

/// Custom-rule regexes in the repository's configurations and documentation.
fn config_regexes() -> Vec<Pattern> {
    let mut out = Vec::new();
    let r = root();
    let readme = std::fs::read_to_string(r.join("README.md")).expect("README.md");
    regex_lines(&readme, "README.md", &mut out);
    for dir in ["tests", "examples", "samples", "patterns"] {
        for path in files(&r.join(dir), &["rs", "toml", "md"]) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if path.extension().is_some_and(|e| e == "rs") {
                for (_, _, s) in lex(&text).strings {
                    if s.contains("regex") {
                        regex_lines(&s, &rel(&path), &mut out);
                    }
                }
            } else {
                regex_lines(&text, &rel(&path), &mut out);
            }
        }
    }
    out
}

/// Strings under regex-named keys of the rule files in `patterns/`.
fn pattern_file_regexes() -> Vec<Pattern> {
    fn walk(v: &toml::Value, key: &str, origin: &str, out: &mut Vec<Pattern>) {
        let named = key == "regex" || key == "regexes" || key.ends_with("_regex") || key.ends_with("_regexes");
        match v {
            toml::Value::String(s) if named => out.push(Pattern {
                origin: format!("{origin} ({key})"),
                source: s.clone(),
            }),
            toml::Value::Array(a) => a.iter().for_each(|x| walk(x, key, origin, out)),
            toml::Value::Table(t) => t.iter().for_each(|(k, x)| walk(x, k, origin, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for path in files(&root().join("patterns"), &["toml"]) {
        let text = std::fs::read_to_string(&path).expect("read rule file");
        let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", rel(&path)));
        walk(&toml::Value::Table(doc), "", &rel(&path), &mut out);
    }
    out
}

fn failures(patterns: &[Pattern]) -> Vec<String> {
    patterns
        .iter()
        .filter_map(|p| lint(&p.source).map(|why| format!("{}: {:?} {why}", p.origin, p.source)))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Tests.

#[test]
fn the_lint_tells_unicode_from_ascii_boundaries() {
    for bad in [
        r"\b\d{12}\b",
        r"\B",
        r"\b{start}",
        r"\<x",
        r"(?-u:(?u:\b))x",
        r"(?i)passport\b",
    ] {
        assert!(lint(bad).is_some(), "{bad} passed");
    }
    for good in [
        r"(?-u:\b)\d{12}(?-u:\b)",
        r"(?-u:\B)",
        r"(?-u)\bx\b",
        r"[^\w]\d",
        r"^\d{3}-\d{4}$",
    ] {
        assert_eq!(lint(good), None, "{good}");
    }
    assert!(lint(r"E(\d{6}").is_some(), "an unparsable pattern fails");
}

#[test]
fn the_lexer_finds_literals_and_skips_comments() {
    let src = "// Regex::new(r\"\\b\")\nlet a = 'x'; let l: &'a str = r#\"q\"u\"#; /* \"no\" */ f(\"a\\\"b\\n\", b\"c\", br\"d\");";
    let lx = lex(src);
    let values: Vec<&str> = lx.strings.iter().map(|(_, _, v)| v.as_str()).collect();
    assert_eq!(values, ["q\"u", "a\"b\n", "c", "d"]);
    assert!(!String::from_utf8_lossy(&lx.code).contains("Regex"));
}

#[test]
fn built_in_regexes_use_no_unicode_word_boundary() {
    let (literal, dynamic) = source_regexes();
    // src/risk/normalize.rs alone builds eight: the search must keep finding them.
    assert!(
        literal.len() >= 8,
        "only {} regex literals found in src/",
        literal.len()
    );
    let mut bad = failures(&literal);
    bad.extend(
        dynamic
            .iter()
            .filter(|(file, arg, _)| !DYNAMIC.iter().any(|(f, a, _)| f == file && a == arg))
            .map(|(file, arg, line)| {
                format!(
                    "{file}:{line}: regex built from `{arg}`: make it a literal, or list it in DYNAMIC with \
                 the check that keeps Unicode word boundaries out of it"
                )
            }),
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for (f, a, _) in DYNAMIC {
        assert!(
            dynamic.iter().any(|(file, arg, _)| file == f && arg == a),
            "DYNAMIC lists {f} `{a}`, which no longer builds a regex"
        );
    }
}

#[test]
fn custom_rule_regexes_of_the_configurations_use_no_unicode_word_boundary() {
    let found = config_regexes();
    // The README's example and the custom-rule tests' rules at least.
    assert!(found.len() >= 4, "only {} custom-rule regexes found", found.len());
    let bad = failures(&found);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn rule_file_regexes_use_no_unicode_word_boundary() {
    let bad = failures(&pattern_file_regexes());
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
