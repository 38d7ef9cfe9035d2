//! The fields of a researcher profile, the values collection writes into
//! them, and where a value came from.

use serde_json::Value;

/// A profile field. `as_str` is the name used in provenance records, in
/// `edited_fields` and in the API's `sources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Affiliation,
    Orcid,
    OpenalexId,
    Email,
    Bio,
    Homepage,
    WorksCount,
    CitedByCount,
    HIndex,
    Topics,
    RecentWorks,
    Publications,
    Achievements,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Name,
        Field::Affiliation,
        Field::Orcid,
        Field::OpenalexId,
        Field::Email,
        Field::Bio,
        Field::Homepage,
        Field::WorksCount,
        Field::CitedByCount,
        Field::HIndex,
        Field::Topics,
        Field::RecentWorks,
        Field::Publications,
        Field::Achievements,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Affiliation => "affiliation",
            Field::Orcid => "orcid",
            Field::OpenalexId => "openalex_id",
            Field::Email => "email",
            Field::Bio => "bio",
            Field::Homepage => "homepage",
            Field::WorksCount => "works_count",
            Field::CitedByCount => "cited_by_count",
            Field::HIndex => "h_index",
            Field::Topics => "topics",
            Field::RecentWorks => "recent_works",
            Field::Publications => "publications",
            Field::Achievements => "achievements",
        }
    }

    /// The database column (the e-mail has three; this is its ciphertext).
    pub fn column(self) -> &'static str {
        match self {
            Field::Email => "email_enc",
            other => other.as_str(),
        }
    }

    pub fn is_list(self) -> bool {
        matches!(
            self,
            Field::Topics | Field::RecentWorks | Field::Publications | Field::Achievements
        )
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The field in words, for the person it is about.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "your name",
            Field::Affiliation => "your affiliation",
            Field::Orcid => "your ORCID iD",
            Field::OpenalexId => "your OpenAlex author id",
            Field::Email => "your e-mail address",
            Field::Bio => "a short biography",
            Field::Homepage => "your web page",
            Field::WorksCount => "how many works you published",
            Field::CitedByCount => "how often they are cited",
            Field::HIndex => "your h-index",
            Field::Topics => "the topics you work on",
            Field::RecentWorks => "your recent works",
            Field::Publications => "a list of your publications",
            Field::Achievements => "awards and other news about your work",
        }
    }
}

/// Where a provider's data comes from, in words for the person it is
/// about (the notice in invitations, the answer to a data request).
pub fn source_label(provider: &str) -> &'static str {
    match provider {
        "paper" => "the author list of a paper",
        "openalex" => "OpenAlex, a public catalogue of research (openalex.org)",
        "firecrawl" => "public web pages about you, read with Firecrawl",
        "rocketreach" => "RocketReach, a directory of professional contact details",
        "tavily" => "a web search for news about your work (Tavily)",
        "researcher" => "you",
        "admin" => "a member of our staff, by hand",
        _ => "public sources about your work",
    }
}

/// A value to write into a field.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(String),
    Int(i64),
    Json(Value),
    Email {
        address: String,
        quality: Option<String>,
    },
}

impl FieldValue {
    /// Empty values never overwrite stored ones.
    pub fn is_empty(&self) -> bool {
        match self {
            FieldValue::Text(t) => t.trim().is_empty(),
            FieldValue::Int(_) => false,
            FieldValue::Json(v) => v.is_null() || v.as_array().is_some_and(Vec::is_empty),
            FieldValue::Email { address, .. } => address.trim().is_empty(),
        }
    }

    pub fn text(s: Option<String>) -> Option<FieldValue> {
        s.map(FieldValue::Text)
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// `paper`, `openalex`, `firecrawl`, `rocketreach`, `tavily` or `researcher`.
    pub provider: String,
    pub source_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_round_trip_and_empty_values_are_detected() {
        for f in Field::ALL {
            assert_eq!(Field::parse(f.as_str()), Some(f));
        }
        assert!(FieldValue::Json(serde_json::json!([])).is_empty());
        assert!(FieldValue::Text("  ".into()).is_empty());
        assert!(!FieldValue::Int(0).is_empty());
    }
}
