//! The one time-zone picker every form uses: a labelled `<select>` of every
//! IANA zone, never free text. `static/js/app.js` adds a search box that
//! narrows the list and, on a fresh form, picks the browser's zone; without
//! JavaScript it is a plain `<select>`.

use askama::Template;

use super::context::Viewer;
use super::form_errors::FormErrors;
use crate::domain::zone::{self, Tz};

/// A zone field, rendered into a page with `{{ field|safe }}`.
#[derive(Template, Clone)]
#[template(path = "partials/zone_field.html")]
pub struct ZoneField {
    /// The form field's name: `timezone`, or `tz` on the booking page.
    pub name: &'static str,
    /// The element id, unique on the page.
    pub id: &'static str,
    pub label: &'static str,
    /// The zone shown selected (an IANA name).
    pub selected: String,
    /// A fresh form: the browser's zone replaces `selected`.
    pub prefill: bool,
    /// What was wrong with the submitted zone.
    pub error: Option<String>,
}

impl ZoneField {
    /// A `timezone` field showing `selected`.
    pub fn new(label: &'static str, selected: impl Into<String>) -> Self {
        Self {
            name: "timezone",
            id: "time-zone",
            label,
            selected: selected.into(),
            prefill: false,
            error: None,
        }
    }

    /// A fresh form's field: the viewer's zone, which the browser's replaces
    /// unless the viewer's account chose one.
    pub fn for_viewer(label: &'static str, viewer: &Viewer) -> Self {
        let field = Self::new(label, viewer.zone(None).name());
        if viewer.timezone.is_some() {
            field
        } else {
            field.prefilled()
        }
    }

    /// Lets the browser's zone replace the server's guess (a form not yet
    /// submitted, whose zone the person has not chosen).
    pub fn prefilled(mut self) -> Self {
        self.prefill = true;
        self
    }

    /// Names the field `name` (and its element `id`).
    pub fn named(mut self, name: &'static str, id: &'static str) -> Self {
        self.name = name;
        self.id = id;
        self
    }

    /// Marks the field with the error, if there is one.
    pub fn with_error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }

    /// With the form's first message for its `timezone` field, if any.
    pub fn with_errors(self, errors: &FormErrors) -> Self {
        self.with_error(errors.at("timezone").first().cloned())
    }

    pub fn zones(&self) -> &'static [Tz] {
        zone::all()
    }
}
