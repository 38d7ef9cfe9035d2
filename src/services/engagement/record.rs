//! Recording, on the request path: one map update in memory, no database
//! write. The day is the institution-zone date of the state's clock.

use chrono::NaiveDate;

use crate::domain::engagement::local_day;
use crate::domain::{CounterKind, PaperId, UserId};
use crate::state::AppState;

fn today(state: &AppState) -> NaiveDate {
    local_day(state.now(), state.engagement.zone())
}

fn count(state: &AppState, kind: CounterKind, subject: i64) {
    state.engagement.add((today(state), kind, subject));
}

/// A paper search with words in it (API or search page).
pub fn record_search(state: &AppState) {
    count(state, CounterKind::Search, 0);
}

/// A paper shown to someone (API or paper page).
pub fn record_paper_view(state: &AppState, paper: PaperId) {
    count(state, CounterKind::PaperView, paper.0);
}

/// A successful password sign-in (API or page; not a token refresh).
pub fn record_sign_in(state: &AppState) {
    count(state, CounterKind::SignIn, 0);
}

/// A request by a signed-in account; only its first of the day queues
/// anything, and the flush counts it at most once per day, week and month.
pub fn record_active(state: &AppState, user: UserId) {
    state.engagement.active(today(state), user);
}
