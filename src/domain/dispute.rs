//! Disputes of a session: what one is about, who opened it, how it ended,
//! who wrote a message, their words for pages, and the state machine as
//! a pure function (`step`), so the service, the job and the tests share
//! one statement of which moves are legal.
//!
//! ```text
//! open ─tell─▶ awaiting_response ─answer | contest | review | lapse─▶ under_review
//!   └──────────────── answer | contest | review ───────────────────────▲
//! open | awaiting_response | under_review ─resolve─▶ resolved
//! open | awaiting_response | under_review ─withdraw─▶ withdrawn
//! ```

use std::fmt;

use super::status::{status_enum, DisputeStatus, UnknownStatus};

status_enum!(
    /// What a dispute is about.
    DisputeKind, "dispute kind" {
        /// The other participant did not come (a claim that stands unless
        /// contested).
        NoShow = "no_show",
        Quality = "quality",
        /// The money: a refund, a charge; Stripe chargebacks too.
        Billing = "billing",
        /// A review of the session (`review_id`).
        Review = "review",
    }
);

status_enum!(
    /// Who opened a dispute: a participant, or Stripe for a chargeback.
    DisputeSide, "dispute opener" {
        Reader = "reader",
        Researcher = "researcher",
        Stripe = "stripe",
    }
);

status_enum!(
    /// How a dispute was resolved.
    DisputeOutcome, "dispute outcome" {
        /// Everything left of the payment back to the reader.
        RefundFull = "refund_full",
        /// `refund_minor` of it back.
        RefundPartial = "refund_partial",
        NoRefund = "no_refund",
        /// The disputed review is removed (kind `review`).
        RemoveReview = "remove_review",
        /// A no-show claim stands: the session is a no-show and the refund
        /// policy applies (uncontested, or an admin's decision).
        ClaimUpheld = "claim_upheld",
    }
);

status_enum!(
    /// Who wrote a dispute message.
    MessageAuthor, "message author" {
        Reader = "reader",
        Researcher = "researcher",
        Admin = "admin",
        /// Colloquy itself (e.g. a chargeback reported by Stripe).
        System = "system",
    }
);

impl DisputeKind {
    /// The kinds in the words a page shows, after "the".
    pub const fn label(self) -> &'static str {
        match self {
            DisputeKind::NoShow => "no-show claim",
            DisputeKind::Quality => "quality of the session",
            DisputeKind::Billing => "payment",
            DisputeKind::Review => "review",
        }
    }

    /// A dispute of this kind as a page's title names it.
    pub const fn title(self) -> &'static str {
        match self {
            DisputeKind::NoShow => "No-show claim",
            DisputeKind::Quality => "Dispute about the quality of the session",
            DisputeKind::Billing => "Dispute about the payment",
            DisputeKind::Review => "Dispute about a review",
        }
    }
}

impl DisputeSide {
    pub const fn label(self) -> &'static str {
        match self {
            DisputeSide::Reader => "the reader",
            DisputeSide::Researcher => "the researcher",
            DisputeSide::Stripe => "a chargeback at the card's bank",
        }
    }

    /// The other participant, who answers (none for a chargeback).
    pub fn other(self) -> Option<DisputeSide> {
        match self {
            DisputeSide::Reader => Some(DisputeSide::Researcher),
            DisputeSide::Researcher => Some(DisputeSide::Reader),
            DisputeSide::Stripe => None,
        }
    }
}

impl DisputeOutcome {
    pub const fn label(self) -> &'static str {
        match self {
            DisputeOutcome::RefundFull => "full refund",
            DisputeOutcome::RefundPartial => "partial refund",
            DisputeOutcome::NoRefund => "no refund",
            DisputeOutcome::RemoveReview => "review removed",
            DisputeOutcome::ClaimUpheld => "claim upheld",
        }
    }

    /// Whether money goes back to the reader.
    pub fn refunds(self) -> bool {
        matches!(
            self,
            DisputeOutcome::RefundFull | DisputeOutcome::RefundPartial
        )
    }
}

impl MessageAuthor {
    pub const fn label(self) -> &'static str {
        match self {
            MessageAuthor::Reader => "reader",
            MessageAuthor::Researcher => "researcher",
            MessageAuthor::Admin => "admin",
            MessageAuthor::System => "Colloquy",
        }
    }
}

impl DisputeStatus {
    pub const fn label(self) -> &'static str {
        match self {
            DisputeStatus::Open => "opened",
            DisputeStatus::AwaitingResponse => "waiting for an answer",
            DisputeStatus::UnderReview => "with an admin",
            DisputeStatus::Resolved => "resolved",
            DisputeStatus::Withdrawn => "withdrawn",
        }
    }
}

impl From<DisputeSide> for MessageAuthor {
    fn from(s: DisputeSide) -> Self {
        match s {
            DisputeSide::Reader => MessageAuthor::Reader,
            DisputeSide::Researcher => MessageAuthor::Researcher,
            DisputeSide::Stripe => MessageAuthor::System,
        }
    }
}

/// A move of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The other party is told: the answer time starts.
    Tell,
    /// The other party's first message.
    Answer,
    /// The other party contests a no-show claim.
    Contest,
    /// An admin takes it up.
    Review,
    /// The answer time ran out (not for no-show claims: they stand).
    Lapse,
    Resolve,
    /// The opener takes it back.
    Withdraw,
}

/// Why a move is refused: a stable code and a sentence (answered as 409).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: &'static str,
}

/// Where `step` takes a dispute in `status`, or why it may not.
pub fn step(status: DisputeStatus, step: Step) -> Result<DisputeStatus, Refusal> {
    use DisputeStatus::*;
    if !status.is_open() {
        return Err(Refusal {
            code: "dispute_closed",
            message: "This dispute is closed: it was resolved or withdrawn.",
        });
    }
    let already = Refusal {
        code: "already_under_review",
        message: "An admin is already reviewing this dispute.",
    };
    match (step, status) {
        (Step::Tell, Open) => Ok(AwaitingResponse),
        (Step::Tell, _) => Err(Refusal {
            code: "already_told",
            message: "The other party was already told.",
        }),
        (Step::Answer | Step::Contest | Step::Review, Open | AwaitingResponse) => Ok(UnderReview),
        (Step::Answer | Step::Contest | Step::Review, _) => Err(already),
        (Step::Lapse, AwaitingResponse) => Ok(UnderReview),
        (Step::Lapse, _) => Err(Refusal {
            code: "not_awaiting_response",
            message: "This dispute is not waiting for an answer.",
        }),
        (Step::Resolve, _) => Ok(Resolved),
        (Step::Withdraw, _) => Ok(Withdrawn),
    }
}

/// The kinds a participant may choose, as `must be one of` lists them.
pub fn kinds() -> String {
    DisputeKind::list()
}

/// The longest description or message, in characters.
pub const TEXT_MAX: usize = 4000;

/// A description or message as stored: control characters dropped (line
/// breaks and tabs kept, `\r\n` read as one break), trimmed, 1 to `max`
/// characters.
pub fn clean_text(raw: &str, max: usize) -> Result<String, String> {
    let kept: String = raw
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    let text = kept.trim();
    if text.is_empty() {
        return Err("is required".into());
    }
    let n = text.chars().count();
    if n > max {
        return Err(format!("must be at most {max} characters (it has {n})"));
    }
    Ok(text.to_string())
}

/// Parses a submitted kind, refusing anything else.
pub fn parse_kind(s: &str) -> Result<DisputeKind, UnknownStatus> {
    s.trim().parse()
}

#[cfg(test)]
mod tests {
    use super::*;
    use DisputeStatus::*;

    const ALL_STEPS: [Step; 7] = [
        Step::Tell,
        Step::Answer,
        Step::Contest,
        Step::Review,
        Step::Lapse,
        Step::Resolve,
        Step::Withdraw,
    ];

    #[test]
    fn a_closed_dispute_moves_nowhere() {
        for s in [Resolved, Withdrawn] {
            for st in ALL_STEPS {
                assert_eq!(
                    step(s, st).unwrap_err().code,
                    "dispute_closed",
                    "{s} {st:?}"
                );
            }
        }
    }

    #[test]
    fn every_legal_move_and_every_refusal() {
        assert_eq!(step(Open, Step::Tell), Ok(AwaitingResponse));
        assert_eq!(
            step(AwaitingResponse, Step::Tell).unwrap_err().code,
            "already_told"
        );
        for st in [Step::Answer, Step::Contest, Step::Review] {
            assert_eq!(step(Open, st), Ok(UnderReview));
            assert_eq!(step(AwaitingResponse, st), Ok(UnderReview));
            assert_eq!(
                step(UnderReview, st).unwrap_err().code,
                "already_under_review"
            );
        }
        assert_eq!(step(AwaitingResponse, Step::Lapse), Ok(UnderReview));
        assert!(step(Open, Step::Lapse).is_err());
        assert!(step(UnderReview, Step::Lapse).is_err());
        for s in [Open, AwaitingResponse, UnderReview] {
            assert_eq!(step(s, Step::Resolve), Ok(Resolved));
            assert_eq!(step(s, Step::Withdraw), Ok(Withdrawn));
        }
    }

    #[test]
    fn labels_are_words() {
        for k in DisputeKind::ALL {
            assert!(!k.label().contains('_'));
        }
        for s in DisputeStatus::ALL {
            assert!(!s.label().contains('_'));
        }
        for o in DisputeOutcome::ALL {
            assert!(!o.label().contains('_'));
        }
        assert_eq!(parse_kind(" quality ").unwrap(), DisputeKind::Quality);
        assert!(parse_kind("refund").is_err());
    }

    #[test]
    fn text_loses_control_characters_and_keeps_its_lines() {
        assert_eq!(clean_text("  a\u{0}b\r\nc\u{7}  ", 10).unwrap(), "ab\nc");
        assert!(clean_text(" \u{1b} \n ", 10).is_err());
        assert!(clean_text("abcdef", 5).is_err());
        assert_eq!(clean_text("ééééé", 5).unwrap(), "ééééé");
    }
}
