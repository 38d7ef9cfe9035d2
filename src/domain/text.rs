//! Checks for free text: required or optional, bounded length, no control
//! characters (newlines only where a field is multi-line).

/// What `line` accepts, as a JSON Schema pattern (ECMA 262): a visible
/// character somewhere, no control characters (`char::is_control`).
pub const LINE_PATTERN: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// What `block` accepts: as `LINE_PATTERN`, with tabs and line breaks.
pub const BLOCK_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// A single-line text of 1..=max characters, trimmed.
pub fn line(raw: &str, max: usize) -> Result<String, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("is required".into());
    }
    check(s, max, false)?;
    Ok(s.to_string())
}

/// Like `line`, but empty means absent.
pub fn optional_line(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => check(s, max, false).map(|_| Some(s.to_string())),
    }
}

/// A multi-line text; empty means absent.
pub fn optional_block(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => check(s, max, true).map(|_| Some(s.to_string())),
    }
}

/// A required multi-line text.
pub fn block(raw: &str, max: usize) -> Result<String, String> {
    optional_block(Some(raw), max)?.ok_or_else(|| "is required".to_string())
}

/// A multi-line text with control characters stripped (line breaks kept,
/// `\r\n` read as one), trimmed, of at most `max` characters; empty means
/// absent. For text people paste (reviews, answers), where refusing an
/// invisible character would only puzzle them.
pub fn stripped_block(raw: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let cleaned: String = raw
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let s = cleaned.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(Some(s.to_string()))
}

fn check(s: &str, max: usize, multiline: bool) -> Result<(), String> {
    if s.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    let bad = s
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')));
    if bad {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// "1 minute", "15 minutes": a count with its noun (plural with an `s`).
pub fn count(n: i64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_text_loses_its_control_characters_but_not_its_lines() {
        let got = stripped_block(Some(" a\u{0}b\r\nc\u{7}\t "), 10).unwrap();
        assert_eq!(got.as_deref(), Some("ab\nc"));
        assert_eq!(stripped_block(Some(" \u{1} "), 10).unwrap(), None);
        assert!(stripped_block(Some(&"x".repeat(11)), 10).is_err());
        assert_eq!(
            stripped_block(Some(&format!("  {}  ", "x".repeat(10))), 10)
                .unwrap()
                .unwrap()
                .len(),
            10
        );
    }

    #[test]
    fn lines_are_bounded_and_clean() {
        assert_eq!(line("  a  ", 3).unwrap(), "a");
        assert!(line("", 3).is_err());
        assert!(line("abcd", 3).is_err());
        assert!(line("a\u{0}b", 3).is_err());
        assert!(line("a\nb", 3).is_err());
        assert_eq!(
            optional_block(Some("a\nb"), 3).unwrap().as_deref(),
            Some("a\nb")
        );
        assert_eq!(optional_line(Some("  "), 3).unwrap(), None);
    }
}
