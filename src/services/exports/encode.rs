//! Encoding a batch of rows: CSV (the `csv` crate: RFC 4180 quoting, a
//! header row first) or NDJSON, with text cells guarded against formula
//! injection.

use serde_json::{Map, Value};

use super::Format;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Free or stored text: guarded against formula injection.
    Text(String),
    /// A whole number (ids, minor units): written as it is.
    Int(i64),
    /// A time, ISO 8601 (RFC 3339) as stored.
    Time(String),
    /// Money in major units with its currency's own decimals ("4760" yen,
    /// "1.500" dinars): a number in CSV, a string in NDJSON so that its
    /// decimals survive.
    Amount(String),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Self {
        Cell::Text(s.into())
    }

    pub fn opt_text(s: Option<impl Into<String>>) -> Self {
        s.map_or(Cell::Empty, |s| Cell::Text(s.into()))
    }

    pub fn opt_int(n: Option<i64>) -> Self {
        n.map_or(Cell::Empty, Cell::Int)
    }

    /// `minor` units of the currency `code`, in major units.
    pub fn amount(minor: i64, code: &str) -> Self {
        Cell::Amount(crate::domain::money::decimal(minor, code))
    }

    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => guard(s),
            Cell::Int(n) => n.to_string(),
            Cell::Time(t) | Cell::Amount(t) => t.clone(),
            Cell::Empty => String::new(),
        }
    }

    fn json(&self) -> Value {
        match self {
            Cell::Text(s) | Cell::Time(s) | Cell::Amount(s) => Value::String(s.clone()),
            Cell::Int(n) => Value::from(*n),
            Cell::Empty => Value::Null,
        }
    }
}

/// A text cell a spreadsheet would read as a formula (`=`, `+`, `-`, `@`,
/// and tab or carriage return, which some read the same way) starts with
/// `'`, so it is shown as text.
pub fn guard(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// Encodes `rows`; for CSV the header row goes first when `first`.
pub fn chunk(
    format: Format,
    headers: &[&str],
    rows: &[Vec<Cell>],
    first: bool,
) -> Result<Vec<u8>, std::io::Error> {
    match format {
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::with_capacity(rows.len() * 96));
            if first {
                w.write_record(headers).map_err(std::io::Error::other)?;
            }
            for r in rows {
                w.write_record(r.iter().map(Cell::csv))
                    .map_err(std::io::Error::other)?;
            }
            w.into_inner()
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
        Format::Json => {
            let mut out = Vec::with_capacity(rows.len() * 128);
            for r in rows {
                let obj: Map<String, Value> = headers
                    .iter()
                    .zip(r)
                    .map(|(h, c)| (h.to_string(), c.json()))
                    .collect();
                serde_json::to_writer(&mut out, &obj).map_err(std::io::Error::other)?;
                out.push(b'\n');
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_shown_as_text_and_numbers_are_left_alone() {
        assert_eq!(guard("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard("+1"), "'+1");
        assert_eq!(guard("-2"), "'-2");
        assert_eq!(guard("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard("Ada"), "Ada");
        assert_eq!(Cell::Int(-500).csv(), "-500");
        assert_eq!(Cell::amount(-2380, "EUR").csv(), "-23.80");
    }

    #[test]
    fn amounts_keep_their_currencys_decimals_in_both_formats() {
        assert_eq!(Cell::amount(4760, "JPY").csv(), "4760");
        assert_eq!(Cell::amount(1500, "KWD").csv(), "1.500");
        assert_eq!(Cell::amount(1500, "KWD").json(), Value::from("1.500"));
    }

    #[test]
    fn csv_quotes_by_rfc_4180_and_ndjson_is_one_object_a_line() {
        let rows = vec![vec![Cell::text("a, \"b\"\nc"), Cell::Int(3), Cell::Empty]];
        let csv = chunk(Format::Csv, &["x", "y", "z"], &rows, true).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "x,y,z\r\n\"a, \"\"b\"\"\nc\",3,\r\n"
        );
        let json = chunk(Format::Json, &["x", "y", "z"], &rows, true).unwrap();
        assert_eq!(
            String::from_utf8(json).unwrap(),
            "{\"x\":\"a, \\\"b\\\"\\nc\",\"y\":3,\"z\":null}\n"
        );
    }
}
