//! Tokens: which browsers may use the bridge, and as which Redis ACL user.
//!
//! `--tokens FILE` names a TOML file of entries:
//!
//! ```toml
//! [[token]]
//! token = "a long random string"   # what the browser presents
//! user = "alice"                   # the Redis ACL user it maps to
//! password = "alice's Redis password"
//! prefix = "app:"                  # optional: the keys and channels it owns
//! ```
//!
//! A browser presents its token in the WebSocket handshake (see `access`);
//! the bridge then logs in to Redis as that user itself, so Redis passwords
//! never reach browsers and each token gets exactly its user's ACL rights.
//!
//! A `prefix` confines the token's commands to keys and channels that
//! begin with it (see `policy`); `acl-setup` gives its user the same
//! `~prefix*` and `&prefix*` patterns. It may not hold glob characters, so
//! a pattern that begins with the prefix matches only channels that do.
//!
//! SIGHUP re-reads the file. A file that does not read or parse leaves the
//! previous table in force and logs an error. A WebSocket opened with a
//! token that the new table no longer has, or has with another user or
//! password, is closed (see `relay`); the others go on.
//!
//! Secrets stay in this module: lookups compare the presented token with
//! every entry in constant time (only its length may show), errors about the
//! file never quote it, and [`Credentials`] hides the password from `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use serde::Deserialize;
use subtle::{ConditionallySelectable, ConstantTimeEq};
use tokio::sync::watch;

/// A Redis ACL user, its password, and the token's prefix.
#[derive(Clone)]
pub struct Credentials {
    /// The ACL user name (not a secret: it may be logged).
    pub user: String,
    password: String,
    /// The keys and channels the token is confined to, if any.
    pub prefix: Option<Arc<[u8]>>,
    /// The table entry they came from (0: none), kept by a reload that
    /// leaves the entry as it was.
    grant: u64,
}

impl Credentials {
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            user: user.into(),
            password: password.into(),
            prefix: None,
            grant: 0,
        }
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// The prefix as text (it is checked to be printable ASCII).
    pub fn prefix_str(&self) -> Option<&str> {
        self.prefix
            .as_deref()
            .map(|prefix| std::str::from_utf8(prefix).expect("an ASCII prefix"))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<hidden>")
            .field("prefix", &self.prefix_str())
            .finish()
    }
}

/// The token table, replaced whole on reload.
#[derive(Debug)]
pub struct Tokens {
    path: PathBuf,
    table: RwLock<Arc<Table>>,
    /// Changes on every reload.
    reloads: watch::Sender<()>,
}

struct Table(Vec<(Vec<u8>, Credentials)>);

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Table({} tokens)", self.0.len())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    token: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    token: String,
    user: String,
    password: String,
    prefix: Option<String>,
}

impl Tokens {
    /// Reads the table from `path`.
    pub fn load(path: &Path) -> Result<Self, String> {
        Ok(Tokens {
            path: path.to_owned(),
            table: RwLock::new(Arc::new(read(path)?)),
            reloads: watch::Sender::new(()),
        })
    }

    /// Re-reads the file; on error the table in force stays. Returns how
    /// many tokens the new table holds.
    pub fn reload(&self) -> Result<usize, String> {
        let mut table = read(&self.path)?;
        let count = table.0.len();
        let mut current = self.table.write().unwrap_or_else(PoisonError::into_inner);
        for (token, credentials) in &mut table.0 {
            let kept = current.0.iter().find(|(old_token, old)| {
                old_token == token
                    && old.user == credentials.user
                    && old.password == credentials.password
                    && old.prefix == credentials.prefix
            });
            if let Some((_, old)) = kept {
                credentials.grant = old.grant;
            }
        }
        *current = Arc::new(table);
        drop(current);
        self.reloads.send_replace(());
        Ok(count)
    }

    /// Whether `credentials` still come from an entry of the table.
    pub fn holds(&self, credentials: &Credentials) -> bool {
        self.current()
            .0
            .iter()
            .any(|(_, held)| held.grant == credentials.grant)
    }

    /// Changes on every reload from now on.
    pub fn reloads(&self) -> watch::Receiver<()> {
        self.reloads.subscribe()
    }

    /// The credentials of `presented`, if it is a token of the table. Every
    /// entry is compared, in constant time, whatever matches.
    pub fn find(&self, presented: &[u8]) -> Option<Credentials> {
        let table = self.current();
        let mut found = 0u32.ct_eq(&1);
        let mut index = 0u32;
        for (i, (token, _)) in table.0.iter().enumerate() {
            let matches = token.as_slice().ct_eq(presented);
            // Tables are far smaller than u32::MAX entries.
            index.conditional_assign(&(i as u32), matches);
            found |= matches;
        }
        bool::from(found).then(|| table.0[index as usize].1.clone())
    }

    /// The first entry's credentials, which `/readyz` logs in with.
    pub fn first(&self) -> Option<Credentials> {
        self.current()
            .0
            .first()
            .map(|(_, credentials)| credentials.clone())
    }

    /// Every entry's credentials, in file order.
    pub fn all(&self) -> Vec<Credentials> {
        self.current()
            .0
            .iter()
            .map(|(_, credentials)| credentials.clone())
            .collect()
    }

    fn current(&self) -> Arc<Table> {
        Arc::clone(&self.table.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Numbers the entries of every table read, so that none is taken for another.
static NEXT_GRANT: AtomicU64 = AtomicU64::new(1);

fn read(path: &Path) -> Result<Table, String> {
    let fail = |why: String| format!("tokens file {}: {why}", path.display());
    let text = std::fs::read_to_string(path).map_err(|error| fail(error.to_string()))?;
    let file: File = toml::from_str(&text).map_err(|error| fail(describe(&error, &text)))?;
    if file.token.is_empty() {
        return Err(fail("no [[token]] entries".into()));
    }
    let mut table = Vec::with_capacity(file.token.len());
    for (n, entry) in file.token.into_iter().enumerate() {
        let n = n + 1;
        if entry.token.is_empty() || entry.user.is_empty() {
            return Err(fail(format!("entry {n}: empty token or user")));
        }
        let token = entry.token.into_bytes();
        if table.iter().any(|(other, _)| *other == token) {
            return Err(fail(format!(
                "entry {n}: the same token as an earlier entry"
            )));
        }
        let mut credentials = Credentials::new(entry.user, entry.password);
        if let Some(prefix) = entry.prefix {
            check_prefix(&prefix).map_err(|why| fail(format!("entry {n}: prefix {why}")))?;
            credentials.prefix = Some(prefix.into_bytes().into());
        }
        credentials.grant = NEXT_GRANT.fetch_add(1, Ordering::Relaxed);
        table.push((token, credentials));
    }
    Ok(Table(table))
}

/// A prefix must be non-empty printable ASCII without spaces, quotes or the
/// glob characters of Redis patterns (`*?[]\`): then a key or channel
/// pattern that begins with it can only match names that do too, and the
/// ACL patterns `~prefix*` and `&prefix*` need no escaping.
fn check_prefix(prefix: &str) -> Result<(), String> {
    let allowed = |b: u8| b.is_ascii_graphic() && !b"*?[]\\\"'".contains(&b);
    if prefix.is_empty() || !prefix.bytes().all(allowed) {
        return Err(format!(
            "{prefix:?}: printable ASCII without spaces, quotes or *?[]\\ expected"
        ));
    }
    Ok(())
}

/// A TOML error without the file's text, which holds secrets: the line
/// number and the message with anything quoted in it left out.
fn describe(error: &toml::de::Error, text: &str) -> String {
    let line = error
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let mut message = String::new();
    for (i, part) in error.message().trim().split('"').enumerate() {
        message.push_str(if i % 2 == 0 { part } else { "\"…\"" });
    }
    match line {
        Some(line) => format!("line {line}: {message}"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, contents: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "redis-ws-bridge-tokens-{}-{name}.toml",
                std::process::id()
            ));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const TWO: &str = r#"
        [[token]]
        token = "token-a"
        user = "alice"
        password = "pa"

        [[token]]
        token = "token-b"
        user = "bob"
        password = "pb"
    "#;

    #[test]
    fn finds_each_token_and_nothing_else() {
        let file = TempFile::new("find", TWO);
        let tokens = Tokens::load(&file.0).unwrap();
        assert_eq!(tokens.find(b"token-a").unwrap().user, "alice");
        assert_eq!(tokens.find(b"token-b").unwrap().password(), "pb");
        assert!(tokens.find(b"token-").is_none());
        assert!(tokens.find(b"").is_none());
        assert_eq!(tokens.first().unwrap().user, "alice");
        assert!(!format!("{:?}", tokens.find(b"token-a")).contains("pa\""));
    }

    #[test]
    fn prefixes_are_read_and_checked() {
        let file = TempFile::new(
            "prefix",
            "[[token]]\ntoken = \"t\"\nuser = \"u\"\npassword = \"p\"\nprefix = \"app:\"\n",
        );
        let tokens = Tokens::load(&file.0).unwrap();
        assert_eq!(tokens.find(b"t").unwrap().prefix_str(), Some("app:"));
        assert_eq!(tokens.all().len(), 1);
        for bad in ["", "app*", "a b", "x?", "[x]", "a\\\\b", "\\\"q\\\""] {
            let file = TempFile::new(
                "bad-prefix",
                &format!("[[token]]\ntoken = \"t\"\nuser = \"u\"\npassword = \"p\"\nprefix = \"{bad}\"\n"),
            );
            let error = Tokens::load(&file.0).unwrap_err();
            assert!(error.contains("prefix"), "{bad:?}: {error}");
        }
    }

    #[test]
    fn a_bad_reload_keeps_the_table() {
        let file = TempFile::new("reload", TWO);
        let tokens = Tokens::load(&file.0).unwrap();
        std::fs::write(&file.0, "[[token]]\ntoken = \"secret-value\"\n").unwrap();
        let error = tokens.reload().unwrap_err();
        assert!(error.contains("user"), "{error}");
        assert!(!error.contains("secret-value"), "{error}");
        assert_eq!(tokens.find(b"token-a").unwrap().user, "alice");
    }

    #[test]
    fn a_reload_keeps_unchanged_entries_and_drops_the_others() {
        let file = TempFile::new("grants", TWO);
        let tokens = Tokens::load(&file.0).unwrap();
        let alice = tokens.find(b"token-a").unwrap();
        let bob = tokens.find(b"token-b").unwrap();
        assert!(!tokens.holds(&Credentials::new("alice", "pa")));
        let changed = TWO
            .replace("\"pb\"", "\"new\"")
            .replace("token-a", "token-c");
        std::fs::write(&file.0, changed).unwrap();
        tokens.reload().unwrap();
        assert!(!tokens.holds(&alice), "token removed");
        assert!(!tokens.holds(&bob), "password changed");
        let carol = tokens.find(b"token-c").unwrap();
        tokens.reload().unwrap();
        assert!(tokens.holds(&carol), "unchanged");
    }

    #[test]
    fn errors_do_not_quote_the_file() {
        for (name, contents) in [
            ("type", "[[token]]\ntoken = \"t\"\nuser = \"u\"\npassword = [\"secret-value\"]\n"),
            ("syntax", "[[token]]\ntoken = \"secret-value\nuser = \"u\"\n"),
            ("dup", "[[token]]\ntoken = \"secret-value\"\nuser = \"u\"\npassword = \"\"\n[[token]]\ntoken = \"secret-value\"\nuser = \"v\"\npassword = \"\"\n"),
        ] {
            let file = TempFile::new(name, contents);
            let error = Tokens::load(&file.0).unwrap_err();
            assert!(!error.contains("secret-value"), "{name}: {error}");
        }
    }
}
