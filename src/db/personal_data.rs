//! Every table that holds personal data, with what it holds, why, on what
//! legal basis and for how long, and how the data export treats it: its
//! rows exported (some columns withheld, each with a reason) or the whole
//! table excluded, with a reason. One list serves the export
//! (`services::data_rights`), the records of processing in
//! docs/privacy.md, and the schema-walk test that fails when a migration
//! adds a table naming a person that is in neither.
//!
//! Selectors are SQL conditions on the table with the named parameters
//! `:user` (the account), `:researcher` (the profile it owns, NULL when
//! none) and `:email_bidx` (the blind index of the account's address).

/// How the export treats a table.
#[derive(Debug, Clone, Copy)]
pub enum Treatment {
    /// Rows `WHERE <selector>` are exported with every column except
    /// `withheld` (column, reason). Encrypted columns (`*_enc`) are
    /// exported decrypted, under their name without `_enc`.
    Exported {
        selector: &'static str,
        withheld: &'static [(&'static str, &'static str)],
    },
    /// Not exported, for this reason.
    Excluded { reason: &'static str },
}

#[derive(Debug, Clone, Copy)]
pub struct PersonalTable {
    pub table: &'static str,
    /// What it holds about a person.
    pub holds: &'static str,
    /// Why (the purpose of the processing).
    pub purpose: &'static str,
    /// The legal basis (GDPR Art. 6).
    pub basis: &'static str,
    /// How long it is kept.
    pub retention: &'static str,
    pub treatment: Treatment,
}

/// Columns that name a person (an account or a researcher profile). A
/// table with one of these, a `*_bidx` column (an e-mail's blind index)
/// or a foreign key to `users` or `researchers` holds personal data.
pub const SUBJECT_COLUMNS: &[&str] = &[
    "user_id",
    "reader_id",
    "researcher_id",
    "author_id",
    "requested_by",
    "actor_user_id",
    "opener_id",
    "reporter_id",
    "decided_by",
    "resolved_by",
    "moderated_by",
    "kept_id",
    "merged_id",
    "first_id",
    "second_id",
];

const CONTRACT: &str = "contract (Art. 6(1)(b))";
const LEGAL: &str = "legal obligation (Art. 6(1)(c))";
const INTEREST: &str = "legitimate interest (Art. 6(1)(f))";

const SESSIONS_OF_SUBJECT: &str = "session_id IN (SELECT id FROM consulting_sessions
    WHERE reader_id = :user OR researcher_id = :researcher)";
const BIDX: (&str, &str) = (
    "email_bidx",
    "a keyed hash of the address, used only to find it; the address itself is exported",
);

macro_rules! exported {
    ($selector:expr) => {
        Treatment::Exported {
            selector: $selector,
            withheld: &[],
        }
    };
    ($selector:expr, $($withheld:expr),+) => {
        Treatment::Exported {
            selector: $selector,
            withheld: &[$($withheld),+],
        }
    };
}

pub const PERSONAL_TABLES: &[PersonalTable] = &[
    PersonalTable {
        table: "users",
        holds: "the account: name, e-mail address (encrypted), role, time zone, mail preferences, terms accepted",
        purpose: "signing in and running the service for the account",
        basis: CONTRACT,
        retention: "until the account is deleted; then erased",
        treatment: exported!(
            "id = :user",
            ("password_hash", "an Argon2id hash of the password: not information about the person, and handing it out would help an attacker guess the password"),
            BIDX
        ),
    },
    PersonalTable {
        table: "consents",
        holds: "the consent ledger: each grant and withdrawal of the terms, the privacy notice, the researcher listing and e-mail consents, with version, time and where it was given",
        purpose: "proving and honouring consent",
        basis: LEGAL,
        retention: "kept, append-only, as proof of consent",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "auth_sessions",
        holds: "log-in sessions: when each began, was last used and ends",
        purpose: "keeping the account signed in, and ending sessions",
        basis: CONTRACT,
        retention: "until expiry, then removed by the retention job",
        treatment: exported!(
            "user_id = :user",
            ("token_hash", "a hash of a live sign-in token: a credential, not information about the person"),
            ("previous_token_hash", "a hash of the previous refresh token: a credential")
        ),
    },
    PersonalTable {
        table: "researchers",
        holds: "a researcher's public profile: name, affiliation, ORCID, OpenAlex id, e-mail (encrypted), bio, works, listing consent",
        purpose: "letting readers find and book the authors of papers",
        basis: INTEREST,
        retention: "while claimed, or while collection finds it; unclaimed profiles without sessions not refreshed for `[retention] unclaimed_profiles_days` (730) are removed",
        treatment: exported!("id = :researcher OR user_id = :user", BIDX),
    },
    PersonalTable {
        table: "researcher_field_sources",
        holds: "the provenance of each profile field: provider, source URL, when and by whom it was set",
        purpose: "showing where each field came from, and never overwriting what the owner set",
        basis: INTEREST,
        retention: "as the profile",
        treatment: exported!("researcher_id = :researcher"),
    },
    PersonalTable {
        table: "researcher_merges",
        holds: "profiles merged into this one as duplicates, with the sources they brought",
        purpose: "de-duplicating collected profiles",
        basis: INTEREST,
        retention: "as the profile",
        treatment: exported!("kept_id = :researcher"),
    },
    PersonalTable {
        table: "merge_reviews",
        holds: "pairs of profiles an admin is asked to confirm as duplicates, and the admin's decision",
        purpose: "the admins' de-duplication queue",
        basis: INTEREST,
        retention: "as the profiles",
        treatment: Treatment::Excluded {
            reason: "an admin work queue holding only profile ids; the resulting merge is exported (researcher_merges) and the decision is in the audit trail, which is exported",
        },
    },
    PersonalTable {
        table: "collection_steps",
        holds: "each provider step run while collecting a profile, with the provider's error or reason text",
        purpose: "running and debugging collection",
        basis: INTEREST,
        retention: "the text is cleared by the retention job after `[retention] provider_payloads_days` (30)",
        treatment: Treatment::Excluded {
            reason: "job bookkeeping; every field it produced is exported with its provenance (researcher_field_sources)",
        },
    },
    PersonalTable {
        table: "collection_jobs",
        holds: "collections an account asked for, with the author's name and affiliation searched",
        purpose: "running the collection the account asked for",
        basis: CONTRACT,
        retention: "as the account",
        treatment: exported!("requested_by = :user"),
    },
    PersonalTable {
        table: "papers",
        holds: "papers an account added by hand (`created_by`); the bibliographic data itself is public",
        purpose: "letting readers add a paper that is not collected yet",
        basis: CONTRACT,
        retention: "kept; the link to an erased account is removed",
        treatment: exported!("created_by = :user"),
    },
    PersonalTable {
        table: "paper_researchers",
        holds: "which papers a profile is an author of",
        purpose: "finding the authors of a paper",
        basis: INTEREST,
        retention: "as the profile",
        treatment: exported!("researcher_id = :researcher"),
    },
    PersonalTable {
        table: "researcher_settings",
        holds: "a researcher's booking settings: durations, price, notice, limits",
        purpose: "booking",
        basis: CONTRACT,
        retention: "as the profile",
        treatment: exported!("researcher_id = :researcher"),
    },
    PersonalTable {
        table: "availability",
        holds: "a researcher's weekly hours and exceptions",
        purpose: "booking",
        basis: CONTRACT,
        retention: "as the profile",
        treatment: exported!("researcher_id = :researcher"),
    },
    PersonalTable {
        table: "researcher_ratings",
        holds: "a researcher's rating: count and stars (from published reviews)",
        purpose: "showing readers a researcher's rating",
        basis: INTEREST,
        retention: "as the profile",
        treatment: exported!("researcher_id = :researcher"),
    },
    PersonalTable {
        table: "outreach",
        holds: "invitations sent to a researcher (and who asked for them), with an optional message (encrypted)",
        purpose: "inviting researchers to register",
        basis: INTEREST,
        retention: "as the profile",
        treatment: exported!("researcher_id = :researcher OR requested_by = :user"),
    },
    PersonalTable {
        table: "claim_requests",
        holds: "requests to own a profile, with a message (encrypted) and the admin's decision",
        purpose: "giving a profile to its owner",
        basis: CONTRACT,
        retention: "as the account",
        treatment: exported!("user_id = :user OR researcher_id = :researcher"),
    },
    PersonalTable {
        table: "email_verifications",
        holds: "single-use links confirming an address",
        purpose: "proving an account owns its address",
        basis: CONTRACT,
        retention: "a day, then removed by the retention job",
        treatment: Treatment::Excluded {
            reason: "hashes of single-use links for the account's own address (exported with the account); they expire within a day",
        },
    },
    PersonalTable {
        table: "idempotency_keys",
        holds: "keys a client sent with booking requests, so a retry does not book twice",
        purpose: "safe retries",
        basis: CONTRACT,
        retention: "a day, then removed by the retention job",
        treatment: Treatment::Excluded {
            reason: "technical replay protection; the session each key booked is exported",
        },
    },
    PersonalTable {
        table: "consulting_sessions",
        holds: "sessions booked as a reader or held as a researcher: times, topic, meeting link and password, cancellation reason (encrypted)",
        purpose: "booking and holding sessions",
        basis: CONTRACT,
        retention: "as the accounts; kept for disputes while money records refer to them",
        treatment: exported!("reader_id = :user OR researcher_id = :researcher"),
    },
    PersonalTable {
        table: "session_events",
        holds: "what happened to each session, when, and by which party",
        purpose: "booking and holding sessions",
        basis: CONTRACT,
        retention: "as the sessions",
        treatment: exported!(SESSIONS_OF_SUBJECT),
    },
    PersonalTable {
        table: "session_payments",
        holds: "a reader's payment for a session: amounts, tax, Stripe references",
        purpose: "taking payment",
        basis: CONTRACT,
        retention: "[retention] invoices_years (accounting law)",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "ledger",
        holds: "every movement of money: authorisations, captures, refunds, plan charges",
        purpose: "accounting",
        basis: LEGAL,
        retention: "[retention] invoices_years (accounting law)",
        treatment: exported!(
            "user_id = :user OR (kind IN ('capture', 'refund') AND session_id IN
                (SELECT id FROM consulting_sessions WHERE researcher_id = :researcher))"
        ),
    },
    PersonalTable {
        table: "invoices",
        holds: "invoices and credit notes, with the buyer's details (encrypted)",
        purpose: "accounting",
        basis: LEGAL,
        retention: "[retention] invoices_years (accounting law)",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "billing_profiles",
        holds: "billing country, region and details (encrypted) for tax and invoices",
        purpose: "tax and invoices",
        basis: LEGAL,
        retention: "as the account",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "subscriptions",
        holds: "plans subscribed to, their periods and use",
        purpose: "subscriptions",
        basis: CONTRACT,
        retention: "[retention] invoices_years after the end",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "plan_credits",
        holds: "each included session of a plan spent on a booking or given back",
        purpose: "subscriptions",
        basis: CONTRACT,
        retention: "[retention] invoices_years after the end",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "reviews",
        holds: "reviews written and received: rating, comment, reply, moderation (encrypted texts)",
        purpose: "reviews",
        basis: CONTRACT,
        retention: "as the accounts; an erased author's reviews stay as \"former user\"",
        treatment: exported!(
            "author_id = :user OR reader_id = :user OR researcher_id = :researcher"
        ),
    },
    PersonalTable {
        table: "review_reports",
        holds: "reports of reviews an account made, with the reason (encrypted)",
        purpose: "moderation",
        basis: INTEREST,
        retention: "as the account",
        treatment: exported!("reporter_id = :user"),
    },
    PersonalTable {
        table: "disputes",
        holds: "disputes about sessions or reviews: description, outcome, refunds (encrypted texts)",
        purpose: "resolving disputes",
        basis: CONTRACT,
        retention: "as the sessions",
        treatment: exported!(
            "opener_id = :user OR session_id IN (SELECT id FROM consulting_sessions
                WHERE reader_id = :user OR researcher_id = :researcher)"
        ),
    },
    PersonalTable {
        table: "dispute_messages",
        holds: "messages in disputes (encrypted)",
        purpose: "resolving disputes",
        basis: CONTRACT,
        retention: "as the disputes",
        treatment: exported!(
            "author_id = :user OR dispute_id IN (SELECT id FROM disputes WHERE opener_id = :user OR session_id IN
                (SELECT id FROM consulting_sessions WHERE reader_id = :user OR researcher_id = :researcher))"
        ),
    },
    PersonalTable {
        table: "paper_queries",
        holds: "questions asked about papers (encrypted)",
        purpose: "asking authors about their papers",
        basis: CONTRACT,
        retention: "as the account",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "reading_progress",
        holds: "how far an account read each paper, and whether it wants to consult the authors",
        purpose: "the reader's own reading list",
        basis: CONTRACT,
        retention: "as the account",
        treatment: exported!("user_id = :user"),
    },
    PersonalTable {
        table: "reader_interest",
        holds: "\"wants to consult\" marks: which reader waits for which researcher",
        purpose: "telling researchers of demand, and inviting them",
        basis: CONTRACT,
        retention: "as the accounts",
        treatment: exported!("user_id = :user OR researcher_id = :researcher"),
    },
    PersonalTable {
        table: "mail_outbox",
        holds: "mail sent to an address: recipient and content (encrypted), status",
        purpose: "sending mail",
        basis: CONTRACT,
        retention: "content removed by the retention job after `[retention] mail_bodies_days` (90); metadata kept",
        treatment: exported!(
            "recipient_bidx = :email_bidx",
            ("recipient_bidx", "a keyed hash of the address, used only to find it; the address is exported")
        ),
    },
    PersonalTable {
        table: "suppressions",
        holds: "addresses that asked for no more mail",
        purpose: "honouring opt-outs",
        basis: LEGAL,
        retention: "kept, so the address is never mailed again",
        treatment: exported!("email_bidx = :email_bidx", BIDX),
    },
    PersonalTable {
        table: "do_not_collect",
        holds: "keyed hashes of the ORCID iD and OpenAlex author id of researchers whose profiles were erased at their request",
        purpose: "never collecting a profile of someone who had theirs erased",
        basis: LEGAL,
        retention: "kept, so the profile is never rebuilt",
        treatment: Treatment::Excluded {
            reason: "it names no account or profile (those are erased) and holds only keyed hashes that cannot be read back; there is nothing in it to give a copy of",
        },
    },
    PersonalTable {
        table: "audit_log",
        holds: "what an account did, and what was done to it, with the address it came from (encrypted)",
        purpose: "security and accountability",
        basis: INTEREST,
        retention: "kept; the actor of an erased account becomes a pseudonym",
        treatment: exported!(
            "actor_user_id = :user OR target = 'user:' || :user OR target = 'researcher:' || :researcher"
        ),
    },
];

/// The entry for a table, if it holds personal data.
pub fn entry(table: &str) -> Option<&'static PersonalTable> {
    PERSONAL_TABLES.iter().find(|t| t.table == table)
}
