//! `colloquy demo --accounts`: a bookable researcher (an account linked to
//! an author of the first demo paper, with weekly times) and a reader, with
//! fresh random passwords, so a newcomer can try a booking at once. Run
//! again, it gives both accounts new passwords. Never run by `serve`.

use serde_json::json;

use crate::crypto::random_token;
use crate::db::repos::{audit, auth_sessions, booking_settings, papers, researchers, users};
use crate::domain::availability::Rule;
use crate::domain::{Email, PaperId, ResearcherId, Role, UserId};
use crate::error::{AppError, AppResult};
use crate::services::accounts;
use crate::state::AppState;

pub const RESEARCHER_EMAIL: &str = "demo-researcher@example.org";
pub const READER_EMAIL: &str = "demo-reader@example.org";

/// A demo account and the password it has now.
pub struct DemoAccount {
    pub email: String,
    pub password: String,
    pub name: String,
    /// False when it existed and only got a new password.
    pub created: bool,
}

pub struct DemoAccounts {
    pub researcher: DemoAccount,
    pub reader: DemoAccount,
    pub researcher_id: ResearcherId,
    pub paper_id: PaperId,
}

fn password() -> String {
    // 20 characters from 120 random bits: never a common password.
    random_token(15)
}

/// Makes the account, or gives the existing one a new password (and ends
/// its sessions).
async fn account(
    state: &AppState,
    email: &str,
    name: &str,
    role: Role,
) -> AppResult<(UserId, DemoAccount)> {
    let password = password();
    let parsed = Email::parse(email).map_err(AppError::internal)?;
    let keys = state.keys.clone();
    let existing = state
        .db
        .read(move |c| users::find_by_email(c, &keys, &parsed))
        .await?;
    let (id, created, name) = match existing {
        None => {
            let u = accounts::create_user_admin_cli(state, email, name, &password, role).await?;
            (u.id, true, u.name)
        }
        Some(u) => {
            let hash = state.passwords.hash(&password).await?;
            let (keys, now, id) = (state.keys.clone(), state.now(), u.id);
            let revoked = state
                .db
                .write(move |tx| {
                    users::update_password(tx, id, &hash, now)?;
                    users::mark_email_verified(tx, id, now)?;
                    let revoked = auth_sessions::revoke_all_except(tx, id, None, now)?;
                    let ev = audit::NewEvent {
                        actor: None,
                        action: "user.demo_password_reset",
                        target: Some(format!("user:{id}")),
                        detail: json!({}),
                        ip: None,
                    };
                    audit::append(tx, &keys, ev, now)?;
                    Ok(revoked)
                })
                .await?;
            accounts::forget_sessions(state, revoked).await;
            (u.id, false, u.name)
        }
    };
    Ok((
        id,
        DemoAccount {
            email: email.to_string(),
            password,
            name,
            created,
        },
    ))
}

/// Monday to Friday, 09:00–17:00 in the researcher's zone.
fn weekdays() -> Vec<Rule> {
    ["mon", "tue", "wed", "thu", "fri"]
        .iter()
        .map(|d| Rule {
            weekday: (*d).to_string(),
            start: "09:00".into(),
            end: "17:00".into(),
        })
        .collect()
}

/// A session the demo reader had with the demo researcher two weeks ago,
/// completed and reviewed, so the profile shows a real review and rating
/// from the start (once: nothing is added when the profile has a review).
fn past_session_with_review(
    tx: &rusqlite::Transaction<'_>,
    keys: &crate::crypto::Keyring,
    rid: ResearcherId,
    reader: crate::domain::UserId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    use crate::db::repos::consulting_sessions::{self as sessions, NewSession};
    use crate::db::repos::reviews::{self, NewReview, Side};
    use crate::domain::{ReviewStatus, SessionStatus};
    if reviews::tally(tx, rid)?.count > 0 {
        return Ok(());
    }
    let start = (now - chrono::Duration::days(14))
        .date_naive()
        .and_hms_opt(10, 0, 0)
        .map_or(now, |t| t.and_utc());
    let id = sessions::insert(
        tx,
        keys,
        &NewSession {
            researcher: rid,
            reader,
            paper: None,
            query: None,
            topic: "How the results in section 3 were checked",
            start,
            duration_minutes: 30,
            price_minor: 0,
            currency: "EUR",
            expires_at: start,
        },
        now,
    )?;
    sessions::transition(
        tx,
        id,
        &[SessionStatus::Requested],
        SessionStatus::Accepted,
        now,
    )?;
    sessions::transition(
        tx,
        id,
        &[SessionStatus::Accepted],
        SessionStatus::Completed,
        now,
    )?;
    let comment = "A clear walk through the proofs, and good pointers for further reading.";
    reviews::insert(
        tx,
        keys,
        &NewReview {
            session_id: id,
            side: Side::Reader,
            author_id: reader,
            researcher_id: rid,
            reader_id: reader,
            rating: 5,
            comment: Some(comment),
            status: ReviewStatus::Published,
            held_rule: None,
        },
        now,
    )?;
    reviews::count_rating(tx, rid, 5, 1)
}

/// Creates (or refreshes) the demo researcher and reader. The demo papers
/// must be loaded (`demo::load`).
pub async fn create(state: &AppState) -> AppResult<DemoAccounts> {
    let paper = state.db.read(papers::first_demo).await?.ok_or_else(|| {
        AppError::conflict("no_demo", "Load the demo papers first (colloquy demo).")
    })?;
    let row = state
        .db
        .read(move |c| papers::find(c, paper))
        .await?
        .ok_or(AppError::NotFound)?;
    let author = row
        .authors
        .first()
        .cloned()
        .ok_or_else(|| AppError::internal("the first demo paper has no authors"))?;
    let (rid_user, researcher) =
        account(state, RESEARCHER_EMAIL, &author.name, Role::Researcher).await?;
    let (reader_user, reader) = account(state, READER_EMAIL, "Demo Reader", Role::User).await?;
    let (now, tz) = (state.now(), state.config.sessions.default_timezone.clone());
    let keys = state.keys.clone();
    let inst = state.config.institution.clone();
    let rid = state
        .db
        .write(move |tx| {
            let rid = match researchers::paper_link(tx, paper, author.position)? {
                Some(rid) => rid,
                None => {
                    let rid = researchers::insert(
                        tx,
                        &author.name,
                        author.affiliation.as_deref(),
                        author.orcid.as_deref(),
                        now,
                    )?;
                    researchers::link_paper(tx, paper, author.position, rid)?;
                    rid
                }
            };
            match researchers::owner(tx, rid)?.flatten() {
                Some(owner) if owner == rid_user => {}
                // Someone registered this author for real: leave it alone.
                Some(_) => {
                    return Err(AppError::conflict(
                        "demo_author_taken",
                        "The demo author's profile belongs to another account already.",
                    ))
                }
                None => {
                    if let Some(mine) = researchers::by_user(tx, rid_user)? {
                        if mine != rid {
                            return Ok(mine);
                        }
                    }
                    researchers::claim(tx, rid, rid_user, now)?;
                }
            }
            researchers::set_listing_consent(tx, rid, &inst.terms_version, Some(&tz), now)?;
            crate::db::repos::consents::grant_listing(
                tx,
                rid_user,
                &inst.terms_version,
                crate::domain::ConsentSource::Demo,
                now,
            )?;
            booking_settings::set_timezone(tx, rid, &tz, now)?;
            if booking_settings::availability(tx, rid)?.is_none() {
                booking_settings::save_availability(tx, rid, &weekdays(), &[], now)?;
            }
            past_session_with_review(tx, &keys, rid, reader_user, now)?;
            Ok(rid)
        })
        .await?;
    Ok(DemoAccounts {
        researcher,
        reader,
        researcher_id: rid,
        paper_id: paper,
    })
}
