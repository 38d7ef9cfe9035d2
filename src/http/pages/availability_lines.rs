//! The availability page's text boxes: weekly times and exceptions, one
//! per line, read into the API's `Rule` and `Exception` with the line each
//! came from (so problems name the line people see), and written back.

use super::form_errors::FormErrors;
use crate::domain::availability::{Exception, Rule};

pub fn rules_text(rules: &[Rule]) -> String {
    rules
        .iter()
        .map(|r| format!("{} {}-{}", r.weekday, r.start, r.end))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn exceptions_text(xs: &[Exception]) -> String {
    xs.iter()
        .map(|x| match (&x.start, &x.end) {
            (Some(s), Some(e)) => format!("{} {} {s}-{e}", x.date, x.kind),
            _ => format!("{} {}", x.date, x.kind),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn span(s: &str) -> (Option<String>, Option<String>) {
    match s.split_once(['-', '–']) {
        Some((a, b)) => (Some(a.trim().to_string()), Some(b.trim().to_string())),
        None => (Some(s.to_string()), None),
    }
}

/// The non-empty lines of a text box with their 1-based numbers.
fn numbered(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .map(str::trim)
        .enumerate()
        .map(|(n, l)| (n + 1, l))
        .filter(|(_, l)| !l.is_empty())
}

/// Items read from a text box, one per line, with the line each came from.
pub struct Lines<T> {
    pub items: Vec<T>,
    pub numbers: Vec<usize>,
}

/// `mon 09:00-12:00` (or `Monday 9-12`) per line; lines of another shape
/// are reported in `errors`.
pub fn parse_rules(text: &str, errors: &mut FormErrors) -> Lines<Rule> {
    let mut out = Lines {
        items: Vec::new(),
        numbers: Vec::new(),
    };
    for (n, line) in numbered(text) {
        let rule = line
            .split_once(char::is_whitespace)
            .and_then(|(day, times)| match span(times.trim()) {
                (Some(start), Some(end)) => Some(Rule {
                    weekday: day.to_string(),
                    start,
                    end,
                }),
                _ => None,
            });
        match rule {
            Some(r) => {
                out.items.push(r);
                out.numbers.push(n);
            }
            None => errors.add(
                "rules",
                format!("Line {n}: write a day and a time span, like mon 09:00-12:00."),
            ),
        }
    }
    out
}

/// `2026-12-24 block`, `2026-12-24 block 13:00-17:00` or
/// `2026-12-27 extra 10:00-12:00` per line.
pub fn parse_exceptions(text: &str, errors: &mut FormErrors) -> Lines<Exception> {
    let mut out = Lines {
        items: Vec::new(),
        numbers: Vec::new(),
    };
    for (n, line) in numbered(text) {
        // "13:00 - 17:00" is one span.
        let line = line.replace(" -", "-").replace("- ", "-");
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 2 || parts.len() > 3 {
            errors.add(
                "exceptions",
                format!("Line {n}: write a date and block or extra, like 2026-12-24 block or 2026-12-27 extra 10:00-12:00."),
            );
            continue;
        }
        let (start, end) = parts.get(2).map_or((None, None), |t| span(t));
        out.items.push(Exception {
            date: parts[0].to_string(),
            kind: parts[1].to_string(),
            start,
            end,
        });
        out.numbers.push(n);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_and_exception_lines_round_trip() {
        let mut errors = FormErrors::default();
        let rules = parse_rules("mon 09:00-12:00\n\n tue 14:00-17:30 ", &mut errors);
        assert_eq!(rules_text(&rules.items), "mon 09:00-12:00\ntue 14:00-17:30");
        assert_eq!(rules.numbers, [1, 3]);
        let xs = parse_exceptions(
            "2026-12-24 block\n2026-12-27 extra 10:00 - 12:00",
            &mut errors,
        );
        assert_eq!(
            exceptions_text(&xs.items),
            "2026-12-24 block\n2026-12-27 extra 10:00-12:00"
        );
        assert!(!errors.failed());
        parse_rules("mon 9-12\nmonday", &mut errors);
        parse_exceptions("2026-12-24", &mut errors);
        assert_eq!(
            errors.at("rules"),
            ["Line 2: write a day and a time span, like mon 09:00-12:00."]
        );
        assert_eq!(errors.at("exceptions").len(), 1);
    }
}
