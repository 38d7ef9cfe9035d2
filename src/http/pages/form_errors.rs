//! `FormErrors`: what a failed form shows, field by field. A page that
//! re-renders a form keeps the submitted values in its own form struct and
//! puts one `FormErrors` beside it; the template prints every message next
//! to its field (`templates/partials/form.html`: `summary`, `field`,
//! `invalid`). Every problem is collected, never only the first.

use std::collections::BTreeMap;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::errors::{on_form, PageError};
use crate::error::AppError;

/// Field → messages (full sentences) of one form, warnings beside them,
/// and what the form as a whole is told.
#[derive(Debug, Clone)]
pub struct FormErrors {
    /// Which form of the page failed, for pages with several forms
    /// (`"billing"`, `"password"`); empty when the page has one.
    pub form: &'static str,
    fields: BTreeMap<String, Vec<String>>,
    warnings: BTreeMap<String, Vec<String>>,
    /// Problems that belong to no field the form shows.
    general: Vec<String>,
    /// Form field → the 1-based line of each item, for lists typed one
    /// item per line (`authors[2]` is on line `lines["authors"][2]`).
    lines: BTreeMap<String, Vec<usize>>,
    pub status: StatusCode,
    retry_after: Option<u64>,
}

impl Default for FormErrors {
    fn default() -> Self {
        Self::new("")
    }
}

/// How a form names what a service complains about: `(key, label)` pairs.
/// `key` is the service's field name (also the form field's name, unless
/// written `"service_key>form_field"`); `label` starts the sentence
/// ("Title" → "Title is required."). For items of a list typed one per
/// line, `"authors.name"` labels the part of an item (`authors[0].name`).
pub type Labels<'a> = &'a [(&'a str, &'a str)];

impl FormErrors {
    pub fn new(form: &'static str) -> Self {
        Self {
            form,
            fields: BTreeMap::new(),
            warnings: BTreeMap::new(),
            general: Vec::new(),
            lines: BTreeMap::new(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            retry_after: None,
        }
    }

    /// The problems of `e` for form `form`; the error page (`Err`) when `e`
    /// is not something the person filling the form can fix.
    pub fn from_error(form: &'static str, e: AppError, labels: Labels) -> Result<Self, PageError> {
        let mut errors = Self::new(form);
        errors.absorb(e, labels)?;
        Ok(errors)
    }

    /// Adds a message (a sentence) next to `field`, once.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        let message = message.into();
        let messages = self.fields.entry(field.to_string()).or_default();
        if !messages.contains(&message) {
            messages.push(message);
        }
    }

    /// Adds a warning next to `field`: shown, but the form was saved.
    fn warn(&mut self, field: &str, message: impl Into<String>) {
        self.warnings
            .entry(field.to_string())
            .or_default()
            .push(message.into());
    }

    /// Adds a warning about a service's `key` (`rules[2]`) next to the
    /// form field it belongs to; dropped if the form does not show it.
    pub fn warn_at(&mut self, key: &str, message: &str, labels: Labels) {
        if let Some((field, sentence)) = self.place(key, message, labels) {
            self.warn(&field, sentence);
        }
    }

    /// Moves the messages of `field` to the whole form's: for a field the
    /// page does not show (now).
    pub fn unplace(&mut self, field: &str) {
        if let Some(messages) = self.fields.remove(field) {
            self.general.extend(messages);
        }
    }

    /// Moves every field's messages to the whole form's: the form is not
    /// on the page (now).
    pub fn unplace_all(&mut self) {
        let fields: Vec<String> = self.fields.keys().cloned().collect();
        for f in fields {
            self.unplace(&f);
        }
    }

    /// Says on which line each item of the list field `field` was typed
    /// (1-based), so `field[i]` errors name the line people see.
    pub fn lines(&mut self, field: &str, lines: Vec<usize>) {
        self.lines.insert(field.to_string(), lines);
    }

    /// Adds every problem `e` names, each next to its field. Errors that
    /// are no fault of the input become the error page (`Err`).
    pub fn absorb(&mut self, e: AppError, labels: Labels) -> Result<(), PageError> {
        let problem = on_form(e)?;
        self.status = problem.status;
        self.retry_after = problem.retry_after;
        if problem.fields.is_empty() {
            self.general.push(problem.message);
            return Ok(());
        }
        for (key, message) in &problem.fields {
            match self.place(key, message, labels) {
                Some((field, sentence)) => self.add(&field, sentence),
                None => self.general.push(sentence(None, message)),
            }
        }
        Ok(())
    }

    /// The form field and sentence for a service's `key`, if the form shows it.
    fn place(&self, key: &str, message: &str, labels: Labels) -> Option<(String, String)> {
        let lookup = |k: &str| {
            labels.iter().find_map(|(entry, label)| {
                let (service, field) = entry.split_once('>').unwrap_or((entry, entry));
                (service == k).then_some((field, *label))
            })
        };
        if let Some((field, label)) = lookup(key) {
            return Some((field.to_string(), sentence(Some(label), message)));
        }
        // `base[i]` or `base[i].part`: an item of a list typed one per line.
        let (base, rest) = key.split_once('[')?;
        let (index, part) = rest.split_once(']')?;
        let index: usize = index.parse().ok()?;
        let (field, _) = lookup(base)?;
        let line = self
            .lines
            .get(field)
            .and_then(|l| l.get(index).copied())
            .unwrap_or(index + 1);
        let part = part.trim_start_matches('.');
        let part_label = (!part.is_empty())
            .then(|| lookup(&format!("{base}.{part}")).map(|(_, l)| l))
            .flatten();
        let inner = sentence(part_label, message);
        Some((
            field.to_string(),
            format!("Line {line}: {}", lower_first(&inner)),
        ))
    }

    /// The messages next to `field`.
    pub fn at(&self, field: &str) -> &[String] {
        self.fields.get(field).map_or(&[], Vec::as_slice)
    }

    /// The warnings next to `field`.
    pub fn warnings_at(&self, field: &str) -> &[String] {
        self.warnings.get(field).map_or(&[], Vec::as_slice)
    }

    /// Whether `field` has a problem (for `aria-invalid`).
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }

    pub fn has_warnings(&self) -> bool {
        !self.warnings.is_empty()
    }

    /// Whether anything failed (warnings alone do not count).
    pub fn failed(&self) -> bool {
        !self.fields.is_empty() || !self.general.is_empty()
    }

    /// Whether `form` is the form that failed.
    pub fn failed_in(&self, form: &str) -> bool {
        self.failed() && self.form == form
    }

    /// Problems of the whole form.
    pub fn general(&self) -> &[String] {
        &self.general
    }

    /// The line above the form, when fields are marked.
    pub fn headline(&self) -> &'static str {
        if self.fields.is_empty() {
            ""
        } else {
            "Please correct the marked fields."
        }
    }

    /// `page` with this form's status (and `Retry-After`, for a limit).
    pub fn respond(&self, page: &impl Template) -> Response {
        let mut res = super::context::render_status(self.status, page);
        crate::http::api::error::set_retry_after(&mut res, self.retry_after);
        res
    }
}

/// `"must be …"` after its label ("Title must be …"), another clause
/// after the label and a colon ("Terms: you must accept …"), and without
/// a label the message as a sentence.
pub fn sentence(label: Option<&str>, message: &str) -> String {
    let m = message.trim().trim_end_matches('.').replace('`', "");
    let predicate = [
        "is ", "are ", "must ", "has ", "have ", "should ", "needs ", "may ", "was ", "does ",
        "cannot ", "can ",
    ]
    .iter()
    .any(|p| m.starts_with(p));
    let body = match label {
        Some(l) if predicate => format!("{l} {m}"),
        Some(l) if !l.is_empty() => format!("{l}: {m}"),
        _ => upper_first(&m),
    };
    format!("{body}.")
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// "The name is required." → "the name is required." (not "ORCID" → "oRCID").
fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match (c.next(), c.next()) {
        (Some(f), Some(n)) if f.is_uppercase() && !n.is_uppercase() => {
            f.to_lowercase().chain(s.chars().skip(1)).collect()
        }
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validation(fields: &[(&str, &str)]) -> AppError {
        let mut errs = crate::error::FieldErrors::new();
        for (k, m) in fields {
            errs.add(k, *m);
        }
        errs.into_result().unwrap_err()
    }

    #[test]
    fn every_problem_lands_next_to_its_field_in_plain_words() {
        let e = validation(&[
            ("title", "is required"),
            (
                "authors[1].orcid",
                "is not an ORCID like 0000-0002-1825-0097",
            ),
            ("authors[0].name", "is required"),
            ("researcher_id", "no such researcher"),
        ]);
        let mut errors = FormErrors::new("");
        errors.lines("authors", vec![1, 3]);
        errors
            .absorb(
                e,
                &[
                    ("title", "Title"),
                    ("authors", "Authors"),
                    ("authors.name", "The name"),
                    ("authors.orcid", "The ORCID"),
                ],
            )
            .ok()
            .unwrap();
        assert_eq!(errors.at("title"), ["Title is required."]);
        assert_eq!(
            errors.at("authors"),
            [
                "Line 1: the name is required.",
                "Line 3: the ORCID is not an ORCID like 0000-0002-1825-0097."
            ]
        );
        assert_eq!(errors.general(), ["No such researcher."]);
        assert!(errors.failed());
        assert_eq!(errors.headline(), "Please correct the marked fields.");
    }

    #[test]
    fn a_service_key_can_belong_to_a_differently_named_field() {
        let e = validation(&[("duration_minutes", "must be one of 30, 60")]);
        let errors = FormErrors::from_error("", e, &[("duration_minutes>duration", "The length")])
            .ok()
            .unwrap();
        assert_eq!(errors.at("duration"), ["The length must be one of 30, 60."]);
    }

    #[test]
    fn sentences_have_no_backticks_and_one_full_stop() {
        assert_eq!(
            sentence(Some("Terms"), "you must accept the terms"),
            "Terms: you must accept the terms."
        );
        assert_eq!(
            sentence(Some("Time zone"), "`Mars/X` is not a zone."),
            "Time zone: Mars/X is not a zone."
        );
        assert_eq!(sentence(None, "line 2: too long"), "Line 2: too long.");
    }
}
