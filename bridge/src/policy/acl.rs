//! `redis-ws-bridge acl-setup`: the `ACL SETUSER` line that makes each
//! token's Redis user the wall the bridge's list stands in front of.
//!
//! The line gives the user exactly the commands the rules allow, in the
//! rules' own levels and order (categories, then commands, then
//! subcommands; within a level, denials after allowances), which is how
//! Redis applies ACL rules too: the last rule that mentions a command
//! wins. Keys and channels are the token's prefix (`~app:* &app:*`), or
//! all of them for a token without one. The password goes in as its
//! SHA-256 (`#<hex>`), Redis' own form, so the line holds no secret.
//!
//! What ACLs cannot express stays the bridge's alone: the argument checks
//! (`HELLO` options, `CLIENT TRACKING REDIRECT`, `COPY ... DB`, offsets),
//! and `AUTH`, `HELLO` and `RESET`, which Redis lets every user run.

use std::fmt::Write;

use super::rules::{Access, Rules, IDENTITY_COMMANDS};
use crate::tokens::Credentials;

/// One `ACL SETUSER` line per user of `tokens`, in the order they first
/// appear. A user with several tokens gets all their passwords and prefixes.
pub fn setup_lines(rules: &Rules, tokens: &[Credentials]) -> Vec<String> {
    let mut users: Vec<User> = Vec::new();
    for token in tokens {
        let index = match users.iter().position(|user| user.name == token.user) {
            Some(index) => index,
            None => {
                users.push(User {
                    name: &token.user,
                    passwords: Vec::new(),
                    prefixes: Vec::new(),
                });
                users.len() - 1
            }
        };
        let user = &mut users[index];
        if !user.passwords.contains(&token.password()) {
            user.passwords.push(token.password());
        }
        if !user.prefixes.contains(&token.prefix_str()) {
            user.prefixes.push(token.prefix_str());
        }
    }
    let commands = command_rules(rules);
    users.iter().map(|user| user.line(&commands)).collect()
}

/// What the tokens of one Redis user ask of it.
struct User<'a> {
    name: &'a str,
    passwords: Vec<&'a str>,
    /// `None`: a token without a prefix, so every key and channel.
    prefixes: Vec<Option<&'a str>>,
}

impl User<'_> {
    fn line(&self, commands: &str) -> String {
        let mut line = format!("ACL SETUSER {} on resetpass", quote(self.name));
        for password in &self.passwords {
            if password.is_empty() {
                line.push_str(" nopass");
            } else {
                write!(line, " #{}", sha256_hex(password)).expect("a String");
            }
        }
        line.push_str(" clearselectors resetkeys resetchannels");
        if self.prefixes.contains(&None) {
            line.push_str(" ~* &*");
        } else {
            for prefix in self.prefixes.iter().flatten() {
                write!(line, " ~{prefix}* &{prefix}*").expect("a String");
            }
        }
        line.push(' ');
        line.push_str(commands);
        line
    }
}

/// The command rules: `-@all`, then each level of `rules`.
fn command_rules(rules: &Rules) -> String {
    let (allowed, denied, commands) = rules.levels();
    let mut parts = vec!["-@all".to_owned()];
    match allowed {
        None => parts.push("+@all".into()),
        Some(allowed) => parts.extend(allowed.iter().map(|c| format!("+@{c}"))),
    }
    parts.extend(denied.iter().map(|c| format!("-@{c}")));
    for subcommands in [false, true] {
        for wanted in [Access::Allow, Access::Deny] {
            for (name, access) in commands {
                // Refused by the bridge itself in token mode, and let
                // through by Redis whatever the ACL says.
                let identity = rules.bridge_authenticates && IDENTITY_COMMANDS.contains(&&**name);
                if *access == wanted && name.contains('|') == subcommands && !identity {
                    let sign = if wanted == Access::Allow { '+' } else { '-' };
                    parts.push(format!("{sign}{}", name.to_ascii_lowercase()));
                }
            }
        }
    }
    parts.join(" ")
}

fn sha256_hex(password: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, password.as_bytes());
    digest.as_ref().iter().fold(String::new(), |mut hex, byte| {
        write!(hex, "{byte:02x}").expect("a String");
        hex
    })
}

/// `text` as one redis-cli argument.
fn quote(text: &str) -> String {
    if !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'')
    {
        return text.to_owned();
    }
    let mut quoted = String::from("\"");
    for byte in text.bytes() {
        match byte {
            b'"' | b'\\' => write!(quoted, "\\{}", byte as char),
            b' '..=b'~' => write!(quoted, "{}", byte as char),
            _ => write!(quoted, "\\x{byte:02x}"),
        }
        .expect("a String");
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rules::{Flags, Profile};

    #[test]
    fn one_line_per_user_with_the_rules_in_order() {
        let rules = Rules::new(
            &Flags {
                allow_commands: vec!["client|list".into()],
                deny_commands: vec!["getdel".into()],
                ..Flags::default()
            },
            true,
        )
        .unwrap();
        let mut alice = Credentials::new("alice", "secret");
        alice.prefix = Some(b"app:"[..].into());
        let lines = setup_lines(
            &rules,
            &[alice.clone(), alice, Credentials::new("bob b", "")],
        );
        assert_eq!(lines.len(), 2);
        let hash = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
        assert!(
            lines[0].starts_with(&format!(
                "ACL SETUSER alice on resetpass #{hash} clearselectors resetkeys resetchannels \
                 ~app:* &app:* -@all +@bitmap"
            )),
            "{}",
            lines[0]
        );
        assert!(!lines[0].contains("secret"));
        assert!(lines[1].starts_with("ACL SETUSER \"bob b\" on resetpass nopass"));
        assert!(lines[1].contains(" ~* &* "));
        let rules = command_rules(&rules);
        let at = |part: &str| {
            rules
                .find(&format!(" {part} "))
                .unwrap_or_else(|| panic!("{part} in {rules}"))
        };
        // Categories, then commands, then subcommands; allow before deny.
        assert!(at("+@read") < at("-@admin"));
        assert!(at("-@admin") < at("+command"));
        assert!(at("+command") < at("-getdel"));
        assert!(at("-getdel") < at("+client|list"));
        assert!(
            rules.ends_with(" +client|setname +client|tracking"),
            "{rules}"
        );
    }

    #[test]
    fn the_trusted_profile_allows_all_but_its_list() {
        let rules = Rules::new(
            &Flags {
                profile: Profile::Trusted,
                ..Flags::default()
            },
            false,
        )
        .unwrap();
        let rules = command_rules(&rules);
        assert!(
            rules.starts_with("-@all +@all -acl -bgrewriteaof"),
            "{rules}"
        );
    }
}
