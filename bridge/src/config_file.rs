//! `--config bridge.toml`: every flag as a key of a TOML file, for
//! operators who keep configuration (and the Redis password) in a file of
//! their own rather than in a unit file's command line.
//!
//! The keys are the flags' long names (`max-connections = 5000`,
//! `allow-origin = ["https://app.example.com"]`, `insecure-open = true`).
//! The file is turned into flags, which the binary puts *before* the real
//! command line only where neither a flag nor an environment variable gave
//! the value, so the precedence is flag > environment > file > default and
//! each value goes through the same parser as its flag. A key that is no
//! flag, or a value of the wrong kind, is refused with its line: a typo
//! must not silently fall back to a default.

use std::borrow::Cow;
use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// What a key of the file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A switch (`--insecure-open`): `true` or `false`.
    Switch,
    /// One value (`--listen ADDR`): a string or an integer.
    Value,
    /// A repeatable flag (`--allow-origin`): a list, or a single value.
    List,
}

/// One flag the file sets: its long name, and its values (none for a switch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub values: Vec<String>,
    /// The key's line, for messages about its value.
    pub line: usize,
}

impl Setting {
    /// The setting as command-line arguments (`--name=value`, repeated for
    /// a list; `--name` alone for a switch).
    pub fn to_args(&self) -> Vec<String> {
        if self.values.is_empty() {
            return vec![format!("--{}", self.name)];
        }
        let values = self.values.iter();
        values
            .map(|value| format!("--{}={value}", self.name))
            .collect()
    }
}

/// Reads `text` against the known flags (`kind_of` a long name, `None` for
/// an unknown one). A switch set to `false` yields no setting.
pub fn parse(text: &str, kind_of: impl Fn(&str) -> Option<Kind>) -> Result<Vec<Setting>, String> {
    let table = DeTable::parse(text).map_err(|error| {
        let at = error.span().map(|span| line_of(text, span));
        let at = at.map_or(String::new(), |line| format!("line {line}: "));
        format!("{at}{}", error.message())
    })?;
    let mut settings = Vec::new();
    for (key, value) in table.get_ref() {
        let line = line_of(text, key.span());
        let name = key.get_ref();
        let kind = kind_of(name).ok_or_else(|| {
            format!("line {line}: unknown key {name:?} (the keys are the flags' long names, see --help)")
        })?;
        let wrong = |expected: &str| format!("line {line}: {name} takes {expected}");
        let values = match (kind, value.get_ref()) {
            (Kind::Switch, DeValue::Boolean(true)) => Vec::new(),
            (Kind::Switch, DeValue::Boolean(false)) => continue,
            (Kind::Switch, _) => return Err(wrong("true or false")),
            (Kind::List, DeValue::Array(items)) => items
                .iter()
                .map(scalar)
                .collect::<Option<_>>()
                .ok_or_else(|| wrong("a list of strings or numbers"))?,
            (Kind::List | Kind::Value, other) => {
                vec![scalar_value(other).ok_or_else(|| wrong("a string or a number"))?]
            }
        };
        settings.push(Setting {
            name: name.to_string(),
            values,
            line,
        });
    }
    Ok(settings)
}

fn scalar(value: &Spanned<DeValue<'_>>) -> Option<String> {
    scalar_value(value.get_ref())
}

/// A string as it is, an integer as its decimal digits.
fn scalar_value(value: &DeValue<'_>) -> Option<String> {
    match value {
        DeValue::String(text) => Some(Cow::clone(text).into_owned()),
        DeValue::Integer(integer) => {
            let digits = integer.as_str().replace('_', "");
            let number = i64::from_str_radix(&digits, integer.radix()).ok()?;
            Some(number.to_string())
        }
        _ => None,
    }
}

/// The 1-based line where `span` starts.
fn line_of(text: &str, span: Range<usize>) -> usize {
    let start = span.start.min(text.len());
    text.as_bytes()[..start]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(name: &str) -> Option<Kind> {
        match name {
            "insecure-open" => Some(Kind::Switch),
            "listen" | "max-connections" => Some(Kind::Value),
            "allow-origin" => Some(Kind::List),
            _ => None,
        }
    }

    fn args(text: &str) -> Result<Vec<String>, String> {
        let settings = parse(text, kinds)?;
        Ok(settings.iter().flat_map(Setting::to_args).collect())
    }

    #[test]
    fn turns_keys_into_flags() {
        let text = "listen = \"0.0.0.0:80\"\nmax-connections = 1_000\ninsecure-open = true\n\
                    allow-origin = [\"https://a.example\", \"https://b.example\"]\n";
        let mut got = args(text).unwrap();
        got.sort();
        assert_eq!(
            got,
            [
                "--allow-origin=https://a.example",
                "--allow-origin=https://b.example",
                "--insecure-open",
                "--listen=0.0.0.0:80",
                "--max-connections=1000",
            ]
        );
        assert_eq!(
            args("insecure-open = false\n").unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            args("allow-origin = \"https://a.example\"").unwrap(),
            ["--allow-origin=https://a.example"]
        );
    }

    #[test]
    fn refuses_unknown_keys_and_wrong_kinds_with_their_line() {
        let unknown = args("# a comment\nlisten = \"127.0.0.1:1\"\nmax-conections = 3\n");
        let unknown = unknown.unwrap_err();
        assert!(
            unknown.starts_with("line 3: unknown key \"max-conections\""),
            "{unknown}"
        );
        let wrong = args("\ninsecure-open = \"yes\"").unwrap_err();
        assert_eq!(wrong, "line 2: insecure-open takes true or false");
        let wrong = args("listen = [\"a\"]").unwrap_err();
        assert_eq!(wrong, "line 1: listen takes a string or a number");
        let table = args("[listen]\nport = 1").unwrap_err();
        assert!(table.starts_with("line 1: "), "{table}");
        let broken = args("listen = \"a\"\nlisten =").unwrap_err();
        assert!(broken.starts_with("line 2: "), "{broken}");
    }
}
