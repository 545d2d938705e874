//! The command table: one row per seed method.
//!
//! A row names the JS method, the Redis words it sends, its arguments (with
//! the seed's defaults) and the shape of its reply. The rows are written
//! once, in `command_rows!`, and expanded twice: into [`TABLE`], which tests
//! read, and into `#[wasm_bindgen]` methods on every class that sends
//! commands (`Connection`, `Pool`, `Transaction`), all going through
//! [`crate::js::target::run`]. Commands that do not fit a row (`set` with
//! its options, `call`, `linsert`...) are in `special.rs`.

mod special;

#[cfg(test)]
mod seed_data;

pub use special::script_arguments;

use crate::core::command::{Arg, ArgKind, CommandSpec, IfOmitted, ReplyKind};
use crate::js::connection::Connection;
use crate::js::pool::Pool;
use crate::js::transaction::Transaction;

/// One row as a `CommandSpec` value.
macro_rules! spec {
    ($method:ident $(as $js:literal)?, [$($word:literal),+], ($($arg:ident: $kind:ident $(= $default:tt)?),*), [$($tail:literal),*], $reply:ident) => {
        CommandSpec {
            method: spec!(@name $method $($js)?),
            words: &[$($word),+],
            args: &[$(Arg { name: stringify!($arg), kind: ArgKind::$kind, default: spec!(@default $($default)?) }),*],
            tail: &[$($tail),*],
            reply: ReplyKind::$reply,
        }
    };
    (@name $method:ident) => { stringify!($method) };
    (@name $method:ident $js:literal) => { $js };
    (@default) => { None };
    (@default omit) => { Some(IfOmitted::Skip) };
    (@default $default:literal) => { Some(IfOmitted::Send($default)) };
}

/// Expands into [`TABLE`].
macro_rules! command_table {
    (; $(
        $(#[doc = $doc:literal])*
        $method:ident $(as $js:literal)? => [$($word:literal),+] ($($arg:ident: $kind:ident $(= $default:tt)?),*) $([$($tail:literal),*])? -> $reply:ident;
    )*) => {
        /// Every method the table declares.
        pub const TABLE: &[CommandSpec] = &[
            $(spec!($method $(as $js)?, [$($word),+], ($($arg: $kind $(= $default)?),*), [$($($tail),*)?], $reply)),*
        ];
    };
}

/// Expands into the command methods of one class.
macro_rules! command_methods {
    ($target:ident; $(
        $(#[doc = $doc:literal])*
        $method:ident $(as $js:literal)? => [$($word:literal),+] ($($arg:ident: $kind:ident $(= $default:tt)?),*) $([$($tail:literal),*])? -> $reply:ident;
    )*) => {
        #[wasm_bindgen::prelude::wasm_bindgen]
        impl $target {
            $(
                $(#[doc = $doc])*
                $(#[wasm_bindgen(js_name = $js)])?
                pub fn $method(&self, $($arg: wasm_bindgen::JsValue),*) -> js_sys::Promise {
                    const SPEC: CommandSpec = spec!($method $(as $js)?, [$($word),+], ($($arg: $kind $(= $default)?),*), [$($($tail),*)?], $reply);
                    crate::js::target::run(self, &SPEC, &[$($arg),*])
                }
            )*
        }
    };
}

/// Rows: `method [as "jsName"] => ["WORDS"] (arg: Kind [= "default" | = omit], ...) [["TAIL"]] -> Reply;`,
/// handed to `$expand` after `$($prefix)* ;`.
macro_rules! command_rows {
    ($expand:ident $($prefix:tt)*) => {
        $expand! { $($prefix)* ;

    // Strings and bits
    /// Append a value to a key; resolves to the new length.
    append => ["APPEND"] (key: Native, value: Native) -> Integer;
    /// Count the set bits of a string (between bytes `start` and `end`).
    bitcount => ["BITCOUNT"] (key: Native, start: Int = "0", end: Int = "-1") -> Integer;
    /// Bitwise AND of `srckeys` into `destkey`.
    bitop_and as "bitopAnd" => ["BITOP", "AND"] (destkey: Native, srckeys: NativeList) -> Integer;
    /// Bitwise OR of `srckeys` into `destkey`.
    bitop_or as "bitopOr" => ["BITOP", "OR"] (destkey: Native, srckeys: NativeList) -> Integer;
    /// Bitwise XOR of `srckeys` into `destkey`.
    bitop_xor as "bitopXor" => ["BITOP", "XOR"] (destkey: Native, srckeys: NativeList) -> Integer;
    /// Bitwise NOT of `key` into `destkey`.
    bitop_not as "bitopNot" => ["BITOP", "NOT"] (destkey: Native, key: Native) -> Integer;
    /// Decrement the integer value of a key by one.
    decr => ["DECR"] (key: Native) -> Integer;
    /// Decrement the integer value of a key by `increment`.
    decrby => ["DECRBY"] (key: Native, increment: Int) -> Integer;
    /// Get the value of a key, or `null`.
    get => ["GET"] (key: Native) -> Native;
    /// The bit at `offset`, as a boolean.
    getbit => ["GETBIT"] (key: Native, offset: Int) -> Boolean;
    /// Set a key and resolve to its old value (or `null`).
    getset => ["GETSET"] (key: Native, value: Native) -> Native;
    /// Increment the integer value of a key by one.
    incr => ["INCR"] (key: Native) -> Integer;
    /// Increment the integer value of a key by `increment`.
    incrby => ["INCRBY"] (key: Native, increment: Int) -> Integer;
    /// The values of several keys, as a `ListReply` (`null` for missing keys).
    mget => ["MGET"] (keys: NativeList) -> List;
    /// The values of several keys, as an `Array`.
    mget_aslist as "mgetAsList" => ["MGET"] (keys: NativeList) -> AsList;
    /// Set the bit at `offset`; resolves to the old bit.
    setbit => ["SETBIT"] (key: Native, offset: Int, value: Bit) -> Boolean;
    /// Set a value with an expiry in seconds.
    setex => ["SETEX"] (key: Native, seconds: Int, value: Native) -> Status;
    /// Set a value only if the key does not exist; resolves to whether it was set.
    setnx => ["SETNX"] (key: Native, value: Native) -> Boolean;
    /// The length of the value of a key.
    strlen => ["STRLEN"] (key: Native) -> Integer;

    // Keys
    /// Delete keys (any iterable of keys); resolves to how many existed.
    delete => ["DEL"] (keys: NativeList) -> Integer;
    /// Determine if a key exists.
    exists => ["EXISTS"] (key: Native) -> Boolean;
    /// Set a key's time to live in seconds; resolves to 1, or 0 if the key does not exist.
    expire => ["EXPIRE"] (key: Native, seconds: Int) -> Integer;
    /// Set a key's expiry as a UNIX timestamp in seconds.
    expireat => ["EXPIREAT"] (key: Native, timestamp: Int) -> Integer;
    /// The keys matching `pattern`, as a `ListReply`.
    keys => ["KEYS"] (pattern: Native) -> List;
    /// The keys matching `pattern`, as an `Array`.
    keys_aslist as "keysAsList" => ["KEYS"] (pattern: Native) -> AsList;
    /// Move a key to another database.
    r#move as "move" => ["MOVE"] (key: Native, database: Int) -> Integer;
    /// Remove a key's expiry.
    persist => ["PERSIST"] (key: Native) -> Integer;
    /// Set a key's time to live in milliseconds.
    pexpire => ["PEXPIRE"] (key: Native, milliseconds: Int) -> Integer;
    /// Set a key's expiry as a UNIX timestamp in milliseconds.
    pexpireat => ["PEXPIREAT"] (key: Native, milliseconds_timestamp: Int) -> Integer;
    /// A key's time to live in milliseconds (-1 without expiry, -2 when missing).
    pttl => ["PTTL"] (key: Native) -> Integer;
    /// A random key, or `null` in an empty database.
    randomkey => ["RANDOMKEY"] () -> Native;
    /// Rename a key.
    rename => ["RENAME"] (key: Native, newkey: Native) -> Status;
    /// Rename a key only if the new name does not exist.
    renamenx => ["RENAMENX"] (key: Native, newkey: Native) -> Integer;
    /// A key's time to live in seconds (-1 without expiry, -2 when missing).
    ttl => ["TTL"] (key: Native) -> Integer;
    /// The type of the value of a key (`StatusReply`: `string`, `list`, ... `none`).
    type_of as "type" => ["TYPE"] (key: Native) -> Status;

    // Hashes
    /// Delete hash fields.
    hdel => ["HDEL"] (key: Native, fields: NativeList) -> Integer;
    /// Whether a hash field exists.
    hexists => ["HEXISTS"] (key: Native, field: Native) -> Boolean;
    /// The value of a hash field, or `null`.
    hget => ["HGET"] (key: Native, field: Native) -> Native;
    /// All fields and values of a hash, as a `DictReply`.
    hgetall => ["HGETALL"] (key: Native) -> Dict;
    /// All fields and values of a hash, as a `Map`.
    hgetall_asdict as "hgetallAsDict" => ["HGETALL"] (key: Native) -> AsDict;
    /// Increment the integer value of a hash field.
    hincrby => ["HINCRBY"] (key: Native, field: Native, increment: Int) -> Integer;
    /// Increment the float value of a hash field.
    hincrbyfloat => ["HINCRBYFLOAT"] (key: Native, field: Native, increment: Float) -> Float;
    /// The fields of a hash, as a `SetReply`.
    hkeys => ["HKEYS"] (key: Native) -> Set;
    /// The fields of a hash, as a `Set`.
    hkeys_asset as "hkeysAsSet" => ["HKEYS"] (key: Native) -> AsSet;
    /// The number of fields of a hash.
    hlen => ["HLEN"] (key: Native) -> Integer;
    /// The values of hash fields, as a `ListReply`.
    hmget => ["HMGET"] (key: Native, fields: NativeList) -> List;
    /// The values of hash fields, as an `Array`.
    hmget_aslist as "hmgetAsList" => ["HMGET"] (key: Native, fields: NativeList) -> AsList;
    /// Set several hash fields from a `Map` or plain object.
    hmset => ["HMSET"] (key: Native, values: NativePairs) -> Status;
    /// Set a hash field; resolves to 1 if it is new.
    hset => ["HSET"] (key: Native, field: Native, value: Native) -> Integer;
    /// Set a hash field only if it does not exist.
    hsetnx => ["HSETNX"] (key: Native, field: Native, value: Native) -> Integer;
    /// The values of a hash, as a `ListReply`.
    hvals => ["HVALS"] (key: Native) -> List;
    /// The values of a hash, as an `Array`.
    hvals_aslist as "hvalsAsList" => ["HVALS"] (key: Native) -> AsList;

    // Lists
    /// Remove and get the first element of the first non-empty list, blocking up to `timeout` seconds (0: forever); `TimeoutError` on timeout.
    blpop => ["BLPOP"] (keys: NativeList, timeout: Int = "0") -> BlockingPop;
    /// Remove and get the last element of the first non-empty list, blocking; `TimeoutError` on timeout.
    brpop => ["BRPOP"] (keys: NativeList, timeout: Int = "0") -> BlockingPop;
    /// Pop from `source`, push to `destination`, blocking; `TimeoutError` on timeout.
    brpoplpush => ["BRPOPLPUSH"] (source: Native, destination: Native, timeout: Int = "0") -> NativeOrTimeout;
    /// The element at `index`, or `null`.
    lindex => ["LINDEX"] (key: Native, index: Int) -> Native;
    /// The length of a list.
    llen => ["LLEN"] (key: Native) -> Integer;
    /// Remove and get the first element, or `null`.
    lpop => ["LPOP"] (key: Native) -> Native;
    /// Prepend values; resolves to the new length.
    lpush => ["LPUSH"] (key: Native, values: NativeList) -> Integer;
    /// Prepend a value only if the list exists.
    lpushx => ["LPUSHX"] (key: Native, value: Native) -> Integer;
    /// A range of elements, as a `ListReply`.
    lrange => ["LRANGE"] (key: Native, start: Int = "0", stop: Int = "-1") -> List;
    /// A range of elements, as an `Array`.
    lrange_aslist as "lrangeAsList" => ["LRANGE"] (key: Native, start: Int = "0", stop: Int = "-1") -> AsList;
    /// Remove `count` occurrences of `value` (0: all).
    lrem => ["LREM"] (key: Native, count: Int = "0", value: Native = "") -> Integer;
    /// Set the element at `index`.
    lset => ["LSET"] (key: Native, index: Int, value: Native) -> Status;
    /// Trim a list to a range.
    ltrim => ["LTRIM"] (key: Native, start: Int = "0", stop: Int = "-1") -> Status;
    /// Remove and get the last element, or `null`.
    rpop => ["RPOP"] (key: Native) -> Native;
    /// Pop from `source` and push to `destination`; resolves to the element, or `null`.
    rpoplpush => ["RPOPLPUSH"] (source: Native, destination: Native) -> Native;
    /// Append values; resolves to the new length.
    rpush => ["RPUSH"] (key: Native, values: NativeList) -> Integer;
    /// Append a value only if the list exists.
    rpushx => ["RPUSHX"] (key: Native, value: Native) -> Integer;

    // Sets
    /// Add members; resolves to how many were new.
    sadd => ["SADD"] (key: Native, members: NativeList) -> Integer;
    /// The number of members.
    scard => ["SCARD"] (key: Native) -> Integer;
    /// The difference of sets, as a `SetReply`.
    sdiff => ["SDIFF"] (keys: NativeList) -> Set;
    /// The difference of sets, as a `Set`.
    sdiff_asset as "sdiffAsSet" => ["SDIFF"] (keys: NativeList) -> AsSet;
    /// Store the difference of sets in `destination`.
    sdiffstore => ["SDIFFSTORE"] (destination: Native, keys: NativeList) -> Integer;
    /// The intersection of sets, as a `SetReply`.
    sinter => ["SINTER"] (keys: NativeList) -> Set;
    /// The intersection of sets, as a `Set`.
    sinter_asset as "sinterAsSet" => ["SINTER"] (keys: NativeList) -> AsSet;
    /// Store the intersection of sets in `destination`.
    sinterstore => ["SINTERSTORE"] (destination: Native, keys: NativeList) -> Integer;
    /// Whether `value` is a member.
    sismember => ["SISMEMBER"] (key: Native, value: Native) -> Boolean;
    /// All members, as a `SetReply`.
    smembers => ["SMEMBERS"] (key: Native) -> Set;
    /// All members, as a `Set`.
    smembers_asset as "smembersAsSet" => ["SMEMBERS"] (key: Native) -> AsSet;
    /// Move a member from one set to another.
    smove => ["SMOVE"] (source: Native, destination: Native, value: Native) -> Integer;
    /// Remove and get a random member, or `null`.
    spop => ["SPOP"] (key: Native) -> Native;
    /// `count` random members, as a `SetReply`.
    srandmember => ["SRANDMEMBER"] (key: Native, count: Int = "1") -> Set;
    /// `count` random members, as a `Set`.
    srandmember_asset as "srandmemberAsSet" => ["SRANDMEMBER"] (key: Native, count: Int = "1") -> AsSet;
    /// Remove members.
    srem => ["SREM"] (key: Native, members: NativeList) -> Integer;
    /// The union of sets, as a `SetReply`.
    sunion => ["SUNION"] (keys: NativeList) -> Set;
    /// The union of sets, as a `Set`.
    sunion_asset as "sunionAsSet" => ["SUNION"] (keys: NativeList) -> AsSet;
    /// Store the union of sets in `destination`.
    sunionstore => ["SUNIONSTORE"] (destination: Native, keys: NativeList) -> Integer;

    // Sorted sets
    /// Add members with scores from a `Map` or plain object member → score.
    zadd => ["ZADD"] (key: Native, values: ScorePairs) -> Integer;
    /// The number of members.
    zcard => ["ZCARD"] (key: Native) -> Integer;
    /// The number of members with a score between two `ZScoreBoundary`s.
    zcount => ["ZCOUNT"] (key: Native, min: ScoreBound, max: ScoreBound) -> Integer;
    /// Increment a member's score; resolves to the new score.
    zincrby => ["ZINCRBY"] (key: Native, increment: Float, member: Native) -> Float;
    /// Members by rank, with scores, as a `ZRangeReply`.
    zrange => ["ZRANGE"] (key: Native, start: Int = "0", stop: Int = "-1") ["WITHSCORES"] -> ZRange;
    /// Members by rank, as a `Map` member → score.
    zrange_asdict as "zrangeAsDict" => ["ZRANGE"] (key: Native, start: Int = "0", stop: Int = "-1") ["WITHSCORES"] -> ZRangeAsDict;
    /// Members by score, with scores, as a `ZRangeReply`.
    zrangebyscore => ["ZRANGEBYSCORE"] (key: Native, min: ScoreBound = "-inf", max: ScoreBound = "+inf") ["WITHSCORES"] -> ZRange;
    /// Members by score, as a `Map` member → score.
    zrangebyscore_asdict as "zrangebyscoreAsDict" => ["ZRANGEBYSCORE"] (key: Native, min: ScoreBound = "-inf", max: ScoreBound = "+inf") ["WITHSCORES"] -> ZRangeAsDict;
    /// A member's rank, or `null`.
    zrank => ["ZRANK"] (key: Native, member: Native) -> IntegerOrNull;
    /// Remove members.
    zrem => ["ZREM"] (key: Native, members: NativeList) -> Integer;
    /// Remove members by rank.
    zremrangebyrank => ["ZREMRANGEBYRANK"] (key: Native, min: Int = "0", max: Int = "-1") -> Integer;
    /// Remove members by score.
    zremrangebyscore => ["ZREMRANGEBYSCORE"] (key: Native, min: ScoreBound = "-inf", max: ScoreBound = "+inf") -> Integer;
    /// Members by rank, highest first, as a `ZRangeReply`.
    zrevrange => ["ZREVRANGE"] (key: Native, start: Int = "0", stop: Int = "-1") ["WITHSCORES"] -> ZRange;
    /// Members by rank, highest first, as a `Map`.
    zrevrange_asdict as "zrevrangeAsDict" => ["ZREVRANGE"] (key: Native, start: Int = "0", stop: Int = "-1") ["WITHSCORES"] -> ZRangeAsDict;
    /// Members by score, highest first (`max` before `min`), as a `ZRangeReply`.
    zrevrangebyscore => ["ZREVRANGEBYSCORE"] (key: Native, max: ScoreBound = "+inf", min: ScoreBound = "-inf") ["WITHSCORES"] -> ZRange;
    /// Members by score, highest first, as a `Map`.
    zrevrangebyscore_asdict as "zrevrangebyscoreAsDict" => ["ZREVRANGEBYSCORE"] (key: Native, max: ScoreBound = "+inf", min: ScoreBound = "-inf") ["WITHSCORES"] -> ZRangeAsDict;
    /// A member's rank from the highest score, or `null`.
    zrevrank => ["ZREVRANK"] (key: Native, member: Native) -> IntegerOrNull;
    /// A member's score, or `null`.
    zscore => ["ZSCORE"] (key: Native, member: Native) -> FloatOrNull;

    // Server and connection
    /// Authenticate to the server.
    auth => ["AUTH"] (password: Native) -> Status;
    /// Asynchronously rewrite the append-only file.
    bgrewriteaof => ["BGREWRITEAOF"] () -> Status;
    /// Asynchronously save the dataset to disk.
    bgsave => ["BGSAVE"] () -> Status;
    /// The name of this connection, or `null`.
    client_getname as "clientGetname" => ["CLIENT", "GETNAME"] () -> Native;
    /// Kill the connection of a client (`ip:port`).
    client_kill as "clientKill" => ["CLIENT", "KILL"] (address: Text) -> Status;
    /// The client connections, as a `ClientListReply`.
    client_list as "clientList" => ["CLIENT", "LIST"] () -> ClientList;
    /// Set the name of this connection.
    client_setname as "clientSetname" => ["CLIENT", "SETNAME"] (name: Native) -> Status;
    /// A configuration parameter, as a `ConfigPairReply`.
    config_get as "configGet" => ["CONFIG", "GET"] (parameter: Text) -> ConfigPair;
    /// Reset the statistics of `INFO`.
    config_resetstat as "configResetstat" => ["CONFIG", "RESETSTAT"] () -> Status;
    /// Rewrite the configuration file.
    config_rewrite as "configRewrite" => ["CONFIG", "REWRITE"] () -> Status;
    /// Set a configuration parameter.
    config_set as "configSet" => ["CONFIG", "SET"] (parameter: Text, value: Text) -> Status;
    /// The number of keys in the selected database.
    dbsize => ["DBSIZE"] () -> Integer;
    /// Echo the given string.
    echo => ["ECHO"] (string: Native) -> Native;
    /// Remove all keys of all databases.
    flushall => ["FLUSHALL"] () -> Status;
    /// Remove all keys of the selected database.
    flushdb => ["FLUSHDB"] () -> Status;
    /// Server information and statistics, as an `InfoReply` (optionally one section).
    info => ["INFO"] (section: Text = omit) -> Info;
    /// The UNIX time of the last save.
    lastsave => ["LASTSAVE"] () -> Integer;
    /// Ping the server: resolves to `StatusReply` `PONG`.
    ping => ["PING"] () -> Status;
    /// Synchronously save the dataset to disk.
    save => ["SAVE"] () -> Status;
    /// Change the selected database.
    select => ["SELECT"] (db: Int) -> Status;
    /// Watch keys for a following transaction.
    watch => ["WATCH"] (keys: NativeList) -> Unit;

    // Pub/sub introspection
    /// Post a message to a channel; resolves to how many clients received it.
    publish => ["PUBLISH"] (channel: Native, message: Native) -> Integer;
    /// The active channels (matching `pattern`), as a `ListReply`.
    pubsub_channels as "pubsubChannels" => ["PUBSUB", "CHANNELS"] (pattern: Native = omit) -> List;
    /// The active channels, as an `Array`.
    pubsub_channels_aslist as "pubsubChannelsAsList" => ["PUBSUB", "CHANNELS"] (pattern: Native = omit) -> AsList;
    /// The number of pattern subscriptions.
    pubsub_numpat as "pubsubNumpat" => ["PUBSUB", "NUMPAT"] () -> Integer;
    /// Subscriber counts of channels, as a `DictReply` channel → count.
    pubsub_numsub as "pubsubNumsub" => ["PUBSUB", "NUMSUB"] (channels: NativeList) -> Dict;
    /// Subscriber counts of channels, as a `Map`.
    pubsub_numsub_asdict as "pubsubNumsubAsDict" => ["PUBSUB", "NUMSUB"] (channels: NativeList) -> AsDict;

    // Script cache
    /// Which of the SHA1 digests are cached scripts: an `Array` of booleans.
    script_exists as "scriptExists" => ["SCRIPT", "EXISTS"] (shas: TextList) -> BooleanList;
    /// Remove all scripts from the cache.
    script_flush as "scriptFlush" => ["SCRIPT", "FLUSH"] () -> Status;
    /// Kill the running script; `NoRunningScriptError` when none runs.
    script_kill as "scriptKill" => ["SCRIPT", "KILL"] () -> Status;
    /// Load a script into the cache; resolves to its SHA1 digest.
    script_load as "scriptLoad" => ["SCRIPT", "LOAD"] (script: Native) -> Text;

        }
    };
}

command_rows!(command_table);
command_rows!(command_methods Connection);
command_rows!(command_methods Pool);
command_rows!(command_methods Transaction);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names_are_unique_and_every_row_sends_a_command() {
        let mut names: Vec<_> = TABLE.iter().map(|spec| spec.method).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
        assert!(TABLE.iter().all(|spec| !spec.words.is_empty()));
    }

    #[test]
    fn rows_keep_the_seed_argument_order() {
        let delete = TABLE.iter().find(|spec| spec.method == "delete").unwrap();
        assert_eq!(delete.words, ["DEL"]);
        assert_eq!(delete.args[0].kind, ArgKind::NativeList);
        assert_eq!(delete.reply, ReplyKind::Integer);
    }
}
