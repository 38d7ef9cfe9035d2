//! A paper as submitted: validated title, DOI, ORCIDs and ordered authors.

use crate::error::{AppResult, FieldErrors};

use super::text;

pub const MAX_AUTHORS: usize = 100;

/// How an author whose profile was erased at their request appears in a
/// paper's author list: in their place, so the list keeps its order and
/// length, without their name.
pub const REMOVED_AUTHOR: &str = "Removed at their request";

#[derive(Debug, Clone, PartialEq)]
pub struct NewAuthor {
    pub name: String,
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewPaper {
    pub title: String,
    pub doi: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    pub abstract_text: Option<String>,
    pub url: Option<String>,
    pub authors: Vec<NewAuthor>,
}

/// Raw author input, before validation.
pub struct RawAuthor<'a> {
    pub name: &'a str,
    pub affiliation: Option<&'a str>,
    pub orcid: Option<&'a str>,
}

/// Raw paper input, before validation.
pub struct RawPaper<'a> {
    pub title: &'a str,
    pub doi: Option<&'a str>,
    pub year: Option<i32>,
    pub venue: Option<&'a str>,
    pub abstract_text: Option<&'a str>,
    pub url: Option<&'a str>,
    pub authors: Vec<RawAuthor<'a>>,
}

impl NewPaper {
    pub fn parse(raw: RawPaper<'_>) -> AppResult<Self> {
        let mut errs = FieldErrors::new();
        let title = errs.check("title", text::line(raw.title, 500));
        let doi = errs
            .check("doi", raw.doi.map(parse_doi).transpose())
            .flatten()
            .flatten();
        if let Some(y) = raw.year {
            if !(1000..=2100).contains(&y) {
                errs.add("year", "must be between 1000 and 2100");
            }
        }
        let venue = errs
            .check("venue", text::optional_line(raw.venue, 300))
            .flatten();
        let abstract_text = errs
            .check("abstract", text::optional_block(raw.abstract_text, 20_000))
            .flatten();
        let url = errs
            .check("url", raw.url.map(parse_url).transpose())
            .flatten()
            .flatten();
        if raw.authors.is_empty() {
            errs.add("authors", "at least one author is required");
        }
        if raw.authors.len() > MAX_AUTHORS {
            errs.add("authors", format!("at most {MAX_AUTHORS} authors"));
        }
        let mut authors = Vec::with_capacity(raw.authors.len());
        for (i, a) in raw.authors.iter().enumerate().take(MAX_AUTHORS) {
            let name = errs.check(&format!("authors[{i}].name"), text::line(a.name, 200));
            let affiliation = errs
                .check(
                    &format!("authors[{i}].affiliation"),
                    text::optional_line(a.affiliation, 300),
                )
                .flatten();
            let orcid = errs
                .check(
                    &format!("authors[{i}].orcid"),
                    a.orcid.map(parse_orcid).transpose(),
                )
                .flatten()
                .flatten();
            if let Some(name) = name {
                authors.push(NewAuthor {
                    name,
                    affiliation,
                    orcid,
                });
            }
        }
        errs.into_result()?;
        let url = url.or_else(|| doi_url(doi.as_deref()));
        Ok(Self {
            title: title.unwrap_or_default(),
            doi,
            year: raw.year,
            venue,
            abstract_text,
            url,
            authors,
        })
    }
}

fn doi_url(doi: Option<&str>) -> Option<String> {
    doi.map(|d| format!("https://doi.org/{d}"))
}

/// Accepts `10.x/y`, `doi:10.x/y` or a doi.org URL; returns the bare,
/// lower-cased DOI (DOIs are case-insensitive). Empty means absent.
pub fn parse_doi(raw: &str) -> Result<Option<String>, String> {
    let mut s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    for prefix in [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "doi:",
    ] {
        // `get`, not `[..n]`: a byte index inside a multi-byte character
        // would panic.
        if let Some(head) = s.get(..prefix.len()) {
            if head.eq_ignore_ascii_case(prefix) {
                s = &s[head.len()..];
            }
        }
    }
    if s.len() > 200 {
        return Err("is longer than 200 characters".into());
    }
    let ok = s.starts_with("10.")
        && s.split_once('/')
            .is_some_and(|(reg, suffix)| reg.len() > 3 && !suffix.is_empty())
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '\'');
    if !ok {
        return Err("is not a DOI like 10.1000/xyz123".into());
    }
    Ok(Some(s.to_lowercase()))
}

/// Accepts `0000-0002-1825-0097` or an orcid.org URL, and checks the
/// ISO 7064 mod 11-2 check digit.
pub fn parse_orcid(raw: &str) -> Result<Option<String>, String> {
    let mut s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    for prefix in ["https://orcid.org/", "http://orcid.org/"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
        }
    }
    let digits: Vec<char> = s.chars().filter(|c| *c != '-').collect();
    let shape_ok = s.len() == 19
        && s.chars().enumerate().all(|(i, c)| {
            if [4, 9, 14].contains(&i) {
                c == '-'
            } else if i == 18 {
                c.is_ascii_digit() || c == 'X'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape_ok || digits.len() != 16 {
        return Err("is not an ORCID like 0000-0002-1825-0097".into());
    }
    let mut total = 0u32;
    for c in &digits[..15] {
        total = (total + c.to_digit(10).unwrap_or(0)) * 2;
    }
    let check = (12 - total % 11) % 11;
    let expected = if check == 10 {
        'X'
    } else {
        char::from_digit(check, 10).unwrap_or('?')
    };
    if digits[15] != expected {
        return Err("has a wrong check digit".into());
    }
    Ok(Some(s.to_string()))
}

fn parse_url(raw: &str) -> Result<Option<String>, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match url::Url::parse(s) {
        Ok(u) if (u.scheme() == "https" || u.scheme() == "http") && s.len() <= 2000 => {
            Ok(Some(u.to_string()))
        }
        _ => Err("must be an http(s) URL".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dois_are_normalised() {
        assert_eq!(
            parse_doi("https://doi.org/10.1038/NATURE14539")
                .unwrap()
                .as_deref(),
            Some("10.1038/nature14539")
        );
        assert_eq!(
            parse_doi("doi:10.1145/3065386").unwrap().as_deref(),
            Some("10.1145/3065386")
        );
        assert!(parse_doi("11.1/x").is_err());
        assert!(parse_doi("10.1/x' OR 1=1").is_err());
        assert_eq!(parse_doi(" ").unwrap(), None);
    }

    /// Issue 17's fuzzer found `abcé` answered 500: the prefix check
    /// sliced inside the `é`.
    #[test]
    fn multibyte_input_is_an_error_not_a_panic() {
        for raw in [
            "abcé",
            "doé",
            "httpsé://doi.org/",
            "ééééééééééééééééé",
            "10.1/é",
            "é10.1/x",
        ] {
            let _ = parse_doi(raw);
        }
        assert!(parse_doi("abcé").is_err());
        assert_eq!(
            parse_doi(&format!("10.1/{}", "é".repeat(100))),
            Err("is longer than 200 characters".to_string())
        );
        assert_eq!(
            parse_doi("DOI:10.1/é").unwrap().as_deref(),
            Some("10.1/é"),
            "a DOI suffix may hold any printable character"
        );
    }

    #[test]
    fn orcid_check_digits_are_verified() {
        assert_eq!(
            parse_orcid("https://orcid.org/0000-0002-1825-0097")
                .unwrap()
                .as_deref(),
            Some("0000-0002-1825-0097")
        );
        assert!(parse_orcid("0000-0002-1694-233X").is_ok());
        assert!(parse_orcid("0000-0002-1825-0098").is_err());
        assert!(parse_orcid("1234").is_err());
    }

    #[test]
    fn a_paper_needs_a_title_and_an_author() {
        let err = NewPaper::parse(RawPaper {
            title: " ",
            doi: None,
            year: Some(3000),
            venue: None,
            abstract_text: None,
            url: None,
            authors: vec![],
        })
        .unwrap_err();
        let fields = err.fields();
        assert!(
            fields.contains_key("title")
                && fields.contains_key("authors")
                && fields.contains_key("year")
        );
    }
}
