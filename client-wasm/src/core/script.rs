//! A Lua script run by its SHA1 digest, sent whole once when the server
//! lost it: [`Pool::request_script`](super::pool::Pool::request_script)
//! takes both lines and sends the EVAL only on a NOSCRIPT reply.

use super::cmd::Cmd;
use super::command::ReplyKind;

/// `SCRIPT LOAD code`: resolves to the digest.
pub fn load(code: &[u8]) -> Cmd {
    Cmd::new([&b"SCRIPT"[..], b"LOAD", code], None, ReplyKind::Text)
}

/// `EVALSHA sha numkeys key... arg...` and the `EVAL code ...` to send in
/// its place.
pub fn run(sha: &[u8], code: &[u8], keys: &[&[u8]], args: &[&[u8]]) -> (Cmd, Cmd) {
    let line = |word: &str, body: &[u8]| {
        let mut cmd = Cmd::new([word.as_bytes(), body], None, ReplyKind::EvalScript);
        cmd.push(keys.len().to_string().as_bytes());
        keys.iter().chain(args).for_each(|arg| cmd.push(arg));
        cmd
    };
    (line("EVALSHA", sha), line("EVAL", code))
}
