//! The seed's rows now live as data (`commands/seed.json`, read by the
//! generator); until the JS layer builds commands from that data and this
//! macro table goes, both must say the same thing, row for row. Delete this
//! test together with the macro table.

use serde_json::Value;

use super::TABLE;
use crate::core::command::IfOmitted;

const SEED: &str = include_str!("../../commands/seed.json");

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn the_seed_data_and_the_macro_table_agree_row_for_row() {
    let seed: Value = serde_json::from_str(SEED).expect("seed.json is JSON");
    let rows = seed["methods"].as_array().expect("seed.json has methods");
    assert!(
        rows.len() > TABLE.len(),
        "the data also holds special.rs's methods"
    );
    for (spec, row) in TABLE.iter().zip(rows) {
        let method = spec.method;
        assert_eq!(row["method"], method);
        assert_eq!(strings(&row["words"]), spec.words, "{method}: words");
        assert_eq!(strings(&row["tail"]), spec.tail, "{method}: tail");
        assert_eq!(row["reply"], format!("{:?}", spec.reply), "{method}: reply");
        let args = row["args"].as_array().expect("args");
        assert_eq!(args.len(), spec.args.len(), "{method}: argument count");
        for (arg, data) in spec.args.iter().zip(args) {
            let data = data
                .as_array()
                .expect("a plain row's argument is [name, kind, default?]");
            assert_eq!(data[0], arg.name, "{method}: argument name");
            assert_eq!(data[1], format!("{:?}", arg.kind), "{method}: {}", arg.name);
            let default = match arg.default {
                None => None,
                Some(IfOmitted::Skip) => Some(Value::Null),
                Some(IfOmitted::Send(text)) => Some(Value::from(text)),
            };
            assert_eq!(
                data.get(2).cloned(),
                default,
                "{method}: {} default",
                arg.name
            );
        }
    }
}
