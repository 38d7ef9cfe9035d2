//! A search picker where a form needs an object's id: the admin types a
//! name, the page lists what matches (GET, so it works without JS), and
//! each match has its own button that posts the id. Nobody types a number.

use askama::Template;

/// One match: the id the form posts, and how the admin recognises it.
pub struct PickOption {
    pub id: String,
    pub label: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "partials/picker.html")]
pub struct Picker {
    /// The element id, also the anchor the search returns to.
    pub id: &'static str,
    /// The page the search reloads, with `query_name=<text>`.
    pub page: String,
    pub query_name: &'static str,
    pub query: String,
    /// The search box's label, e.g. "Find the paper (title or author)".
    pub label: &'static str,
    /// Where each match's button posts, the id's field name, the button.
    pub action: String,
    pub field: &'static str,
    pub button: &'static str,
    pub csrf: String,
    pub options: Vec<PickOption>,
    /// Extra hidden fields posted with the id.
    pub hidden: Vec<(&'static str, String)>,
}

impl Picker {
    /// Whether a search was made (so "nothing matches" can be said).
    pub fn searched(&self) -> bool {
        !self.query.trim().is_empty()
    }
}

/// The search text of a picker's query parameter: trimmed, `None` if empty.
pub fn query(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
}
