//! Loading the configuration file against anything an operator might type
//! (issue 17 §3): any value for any key, and any text as the whole file,
//! gives a configuration that validates or a `ConfigError` saying what is
//! wrong, and never a panic.

use std::path::Path;

use proptest::prelude::*;
use toml::value::Datetime;
use toml::{Table, Value};

use super::{Config, ConfigError};

/// Keys the defaults do not show (items of lists that are empty by
/// default), with a value of their kind.
const ITEM_KEYS: &[(&str, &str)] = &[
    ("plans[].id", "monthly"),
    ("plans[].name", "Monthly"),
    ("plans[].description", ""),
    ("plans[].stripe_price_id", "price_1"),
    ("plans[].interval", "month"),
    ("plans[].amount_minor", "1500"),
    ("plans[].currency", "EUR"),
    ("plans[].discount_percent", "20"),
    ("plans[].included_sessions", "1"),
    ("tax.rates[].country", "DE"),
    ("tax.rates[].region", ""),
    ("tax.rates[].name", "VAT"),
    ("tax.rates[].basis_points", "1900"),
];

/// Keys no section has.
const UNKNOWN_KEYS: &[&str] = &["server.bnd", "colour", "plans[].colour", "smtp.tls.mode"];

/// Every key of the configuration, as dotted paths (`a[]` is the first
/// item of the list `a`), with its default value (or one of its kind).
fn keys() -> Vec<(String, Value)> {
    fn walk(prefix: &str, table: &Table, out: &mut Vec<(String, Value)>) {
        for (k, v) in table {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if let Value::Table(t) = v {
                walk(&path, t, out);
                continue;
            }
            if let Some(Value::Table(item)) = v.as_array().and_then(|a| a.first()) {
                walk(&format!("{path}[]"), item, out);
            }
            out.push((path, v.clone()));
        }
    }
    let defaults: Table = toml::from_str(&Config::default().redacted_toml()).unwrap();
    let mut out = Vec::new();
    walk("", &defaults, &mut out);
    out.extend(ITEM_KEYS.iter().map(|(k, v)| {
        let v = v.parse().map_or_else(|_| Value::from(*v), Value::Integer);
        (k.to_string(), v)
    }));
    out
}

/// Sets `path` in `table`, making the tables and first list items on the
/// way (and replacing whatever else is there).
fn set(table: &mut Table, path: &str, value: Value) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let Some(rest) = rest else {
        table.insert(head.to_string(), value);
        return;
    };
    let inner = if let Some(list) = head.strip_suffix("[]") {
        let slot = table
            .entry(list.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !slot
            .as_array()
            .is_some_and(|a| a.first().is_some_and(Value::is_table))
        {
            *slot = Value::Array(vec![Value::Table(Table::new())]);
        }
        &mut slot.as_array_mut().unwrap()[0]
    } else {
        let slot = table
            .entry(head.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !slot.is_table() {
            *slot = Value::Table(Table::new());
        }
        slot
    };
    set(inner.as_table_mut().unwrap(), rest, value);
}

/// Text an operator might put in a string value: junk, and look-alikes of
/// the addresses, zones, modes, schedules and codes the keys expect.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,30}",
        "[0-9*/,?LW#A-Za-z -]{0,30}",
        "([0-9*/,-]{1,4} ){5}[0-9*/,-]{1,4}",
        "[0-9a-f:./]{0,40}",
        "(https?|ftp|)://[a-z.:0-9/@]{0,20}",
        prop::sample::select(vec![
            "",
            " ",
            "127.0.0.1:0",
            "0.0.0.0:65536",
            "[::1]:8080",
            "Europe/Berlin",
            "Mars/Olympus",
            "stripe",
            "zoom",
            "off",
            "auto",
            "required",
            "json",
            "full",
            "none",
            "table",
            "EUR",
            "eur",
            "month",
            "v1",
            "10.0.0.0/8",
            "::1/129",
            "0 0 0 31 2 *",
            "* * * * * * *",
            "60 60 24 32 13 8",
            "@hourly",
        ])
        .prop_map(String::from),
    ]
}

fn integer() -> impl Strategy<Value = i64> {
    prop_oneof![
        1 => any::<i64>(),
        4 => -10i64..10_000,
        1 => prop::sample::select(vec![
            i64::MIN,
            i64::MAX,
            i64::from(i32::MAX),
            i64::from(u32::MAX),
            i64::from(u32::MAX) + 1,
            86_400,
            1_000_000_007,
        ]),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => text().prop_map(Value::String),
        3 => integer().prop_map(Value::Integer),
        1 => any::<f64>().prop_map(Value::Float),
        1 => any::<bool>().prop_map(Value::Boolean),
        1 => prop::sample::select(vec!["1979-05-27T07:32:00Z", "1979-05-27", "07:32:00"])
            .prop_map(|d| Value::Datetime(d.parse::<Datetime>().unwrap())),
    ]
}

/// Any TOML value: scalars, lists and tables of them.
fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Table(m.into_iter().collect())),
        ]
    })
}

/// A value of the same kind as `like` (any content), so that parsing
/// passes and the checks behind it are reached.
fn value_like(like: &Value) -> BoxedStrategy<Value> {
    match like {
        Value::String(_) => text().prop_map(Value::String).boxed(),
        Value::Integer(_) => integer().prop_map(Value::Integer).boxed(),
        Value::Float(_) => prop_oneof![any::<f64>(), -10.0f64..10.0]
            .prop_map(Value::Float)
            .boxed(),
        Value::Boolean(_) => any::<bool>().prop_map(Value::Boolean).boxed(),
        Value::Array(items) => {
            let item = items
                .first()
                .map_or_else(|| text().prop_map(Value::String).boxed(), value_like);
            prop::collection::vec(item, 0..5)
                .prop_map(Value::Array)
                .boxed()
        }
        other => Just(other.clone()).boxed(),
    }
}

/// A key and a value for it: a known key with a value of its kind or of
/// any kind, or a key no section has.
fn entry() -> impl Strategy<Value = (String, Value)> {
    let known = prop::sample::select(keys())
        .prop_flat_map(|(k, like)| (Just(k), prop_oneof![4 => value_like(&like), 1 => value()]));
    let unknown = (
        prop::sample::select(UNKNOWN_KEYS.to_vec()).prop_map(String::from),
        value(),
    );
    prop_oneof![9 => known, 1 => unknown]
}

/// Writes `text` as a config file and loads it.
fn load(text: &str) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("colloquy.toml");
    std::fs::write(&path, text).unwrap();
    let loaded = Config::load(Some(&path));
    if let Ok(c) = &loaded {
        assert_eq!(c.source.as_deref(), Some(Path::new(&path)));
    }
    loaded
}

/// What every answer of `Config::load` for an existing file must be: a
/// configuration that validates, or a parse or validation error with a
/// message.
fn check_answer(answer: &Result<Config, ConfigError>) -> Result<(), TestCaseError> {
    match answer {
        Ok(c) => prop_assert!(
            c.validate().is_ok(),
            "loaded but invalid: {:?}",
            c.validate()
        ),
        Err(ConfigError::Parse(m) | ConfigError::Invalid(m)) => {
            prop_assert!(!m.trim().is_empty(), "an error without a message")
        }
        Err(e @ ConfigError::Missing(_)) => prop_assert!(false, "the file exists: {e}"),
    }
    Ok(())
}

/// The TOML kind of a value, for comparing a drawn value with a default.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Integer(_) => "integer",
        Value::Float(_) => "float",
        Value::Boolean(_) => "boolean",
        Value::Datetime(_) => "datetime",
        Value::Array(_) => "array",
        Value::Table(_) => "table",
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any values for up to three keys (on top of nothing, or of every
    /// default written out) load as a valid configuration or give a typed
    /// error; an error about the file's contents names a section drawn.
    #[test]
    fn any_value_for_any_key_loads_or_is_a_typed_error(
        written_out in any::<bool>(),
        drawn in prop::collection::vec(entry(), 1..=3),
    ) {
        let mut table = if written_out {
            toml::from_str(&Config::default().redacted_toml()).unwrap()
        } else {
            Table::new()
        };
        for (k, v) in &drawn {
            set(&mut table, k, v.clone());
        }
        let text = toml::to_string(&table);
        prop_assume!(text.is_ok(), "not writable as TOML: {:?}", text);
        let answer = load(&text.unwrap());
        check_answer(&answer)?;
        if let Err(ConfigError::Parse(m)) = &answer {
            let sections: Vec<&str> = drawn
                .iter()
                .map(|(k, _)| k.split(['.', '[']).next().unwrap_or(k))
                .collect();
            prop_assert!(
                sections.iter().any(|s| m.contains(s)),
                "{m} names none of {sections:?}"
            );
        }
    }

    /// A value of another kind than the key's default (a list for a
    /// number, a number for a name) is refused with an error naming the key.
    #[test]
    fn a_value_of_the_wrong_kind_is_refused_naming_the_key(
        (k, default) in prop::sample::select(
            keys()
                .into_iter()
                .filter(|(_, d)| !matches!(d, Value::Array(_) | Value::Float(_)))
                .collect::<Vec<_>>(),
        ),
        v in value(),
    ) {
        prop_assume!(kind(&v) != kind(&default));
        let mut table = Table::new();
        set(&mut table, &k, v.clone());
        let answer = load(&toml::to_string(&table).unwrap());
        let leaf = k.rsplit('.').next().unwrap_or(&k);
        match answer {
            Err(ConfigError::Parse(m)) => prop_assert!(m.contains(leaf), "{m} does not name {k}"),
            other => prop_assert!(false, "{k} = {v} ({} for a {}): {other:?}", kind(&v), kind(&default)),
        }
    }

    /// Any text as the whole file: junk, and lines that look like TOML.
    #[test]
    fn any_text_as_the_file_loads_or_is_a_typed_error(
        text in prop_oneof![
            "\\PC{0,200}",
            prop::collection::vec(
                prop_oneof![
                    "\\[[a-z_.\\[\\]]{0,20}\\]",
                    "[a-z_\"]{1,20} ?= ?[^\\n]{0,30}",
                    "[ \\t#]{0,3}[^\\n]{0,30}",
                ],
                0..8,
            )
            .prop_map(|lines| lines.join("\n")),
        ]
    ) {
        check_answer(&load(&text))?;
    }
}
