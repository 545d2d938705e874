//! At start, what Redis itself bounds per client: the bridge keeps what
//! Redis holds for a browser to about one round of replies (see
//! `backpressure`), but only Redis can enforce a hard limit, and by default
//! it sets none for normal clients.
//!
//! The bridge reads `client-output-buffer-limit` (its `normal` class) and
//! `maxmemory-clients` with `CONFIG GET`, logged in as it would for
//! `/readyz`, and warns when neither bounds a normal client, or when it
//! cannot read them (a token's ACL user rarely may run `CONFIG`). The
//! recommended `redis.conf` lines are in docs/USAGE.md.

use crate::redis::{self, Target};
use crate::tokens::Credentials;

/// What the start-up check found.
#[derive(Debug, PartialEq, Eq)]
pub enum Finding {
    /// Normal clients are bounded; the values read, for the log.
    Bounded(String),
    /// Neither limit applies to normal clients.
    Unbounded,
}

/// Reads the limits from Redis and logs what it finds.
pub async fn check(addr: &Target, credentials: Option<&Credentials>) {
    let finding = async {
        let buffers = config_get(addr, credentials, "client-output-buffer-limit").await?;
        // Redis before 7.0 has no `maxmemory-clients`: an empty answer.
        let clients = config_get(addr, credentials, "maxmemory-clients")
            .await
            .ok()
            .flatten();
        let buffers = buffers.ok_or("client-output-buffer-limit: no value")?;
        Ok::<_, String>(judge(&buffers, clients.as_deref()))
    };
    match finding.await {
        Ok(Finding::Bounded(limits)) => tracing::info!(%limits, "redis bounds its normal clients"),
        Ok(Finding::Unbounded) => tracing::warn!(
            "redis buffers replies for normal clients without bound \
             (client-output-buffer-limit normal 0 0 0, maxmemory-clients 0); \
             the bridge keeps each browser to about one round of replies, but set \
             `client-output-buffer-limit normal 64mb 16mb 60` or `maxmemory-clients 5%` \
             in redis.conf for a hard limit"
        ),
        Err(error) => tracing::warn!(
            %error,
            "cannot read redis's client limits (CONFIG GET); make sure \
             `client-output-buffer-limit normal` or `maxmemory-clients` bound what \
             redis holds per client"
        ),
    }
}

/// The value of one parameter, `None` if Redis does not have it.
async fn config_get(
    addr: &Target,
    credentials: Option<&Credentials>,
    parameter: &str,
) -> Result<Option<String>, String> {
    let reply = redis::call(addr, credentials, &["CONFIG", "GET", parameter])
        .await
        .map_err(|error| format!("CONFIG GET {parameter}: {error}"))?;
    match reply {
        resp::Frame::Array(items) => match &items[..] {
            [] => Ok(None),
            [_, resp::Frame::Bulk(value)] => Ok(Some(String::from_utf8_lossy(value).into_owned())),
            _ => Err(format!("CONFIG GET {parameter}: unexpected reply")),
        },
        other => Err(format!(
            "CONFIG GET {parameter}: {}",
            redis::describe(&other)
        )),
    }
}

/// Judges `client-output-buffer-limit` (`normal 0 0 0 replica ...`) and
/// `maxmemory-clients` (`0`, bytes or a percentage) as `CONFIG GET` gives them.
pub fn judge(buffers: &str, maxmemory_clients: Option<&str>) -> Finding {
    let words: Vec<&str> = buffers.split_whitespace().collect();
    let normal = words
        .chunks(4)
        .find(|class| class.first() == Some(&"normal"))
        .map(|class| class[1..].join(" "))
        .filter(|limits| {
            limits
                .split(' ')
                .take(2)
                .any(|limit| limit.parse::<u64>().is_ok_and(|bytes| bytes > 0))
        });
    let clients = maxmemory_clients.filter(|value| {
        let value = value.trim_end_matches('%');
        value.parse::<f64>().is_ok_and(|number| number > 0.0)
    });
    match (normal, clients) {
        (None, None) => Finding::Unbounded,
        (normal, clients) => Finding::Bounded(format!(
            "client-output-buffer-limit normal {}, maxmemory-clients {}",
            normal.as_deref().unwrap_or("0 0 0"),
            clients.unwrap_or("0")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60";

    #[test]
    fn redis_defaults_leave_normal_clients_unbounded() {
        assert_eq!(judge(DEFAULT, Some("0")), Finding::Unbounded);
        assert_eq!(judge(DEFAULT, None), Finding::Unbounded);
    }

    #[test]
    fn either_limit_bounds_them() {
        let limited = DEFAULT.replace("normal 0 0 0", "normal 67108864 16777216 60");
        assert_eq!(
            judge(&limited, Some("0")),
            Finding::Bounded(
                "client-output-buffer-limit normal 67108864 16777216 60, maxmemory-clients 0"
                    .into()
            )
        );
        let soft_only = DEFAULT.replace("normal 0 0 0", "normal 0 16777216 60");
        assert!(matches!(judge(&soft_only, None), Finding::Bounded(_)));
        assert!(matches!(judge(DEFAULT, Some("5%")), Finding::Bounded(_)));
        assert!(matches!(
            judge(DEFAULT, Some("1073741824")),
            Finding::Bounded(_)
        ));
        assert_eq!(judge(DEFAULT, Some("0%")), Finding::Unbounded);
    }
}
